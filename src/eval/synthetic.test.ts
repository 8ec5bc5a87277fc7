import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildSyntheticForwardIndex,
  createSyntheticModel,
  generateDoc,
  generateQuery,
  readVectorsJsonl,
  syntheticDocs,
  writeVectorsJsonl,
} from './synthetic.js';
import type { SparseVector } from '../core/sparse-vector.js';

function topShare(v: SparseVector, n: number): number {
  const a = Array.from(v.values).sort((x, y) => y - x);
  const total = a.reduce((s, x) => s + x, 0);
  return a.slice(0, n).reduce((s, x) => s + x, 0) / total;
}

describe('synthetic SPLADE-like generator', () => {
  const model = createSyntheticModel({ seed: 1 });

  it('matches SPLADE-like sizes and concentration', () => {
    let dn = 0,
      dc = 0,
      qn = 0,
      qc = 0;
    const N = 400;
    for (let i = 0; i < N; i++) {
      const d = generateDoc(model, i);
      const q = generateQuery(model, i);
      dn += d.indices.length;
      dc += topShare(d, 50);
      qn += q.indices.length;
      qc += topShare(q, 10);
      for (let j = 1; j < d.indices.length; j++) expect(d.indices[j]).toBeGreaterThan(d.indices[j - 1]);
      expect(d.indices[d.indices.length - 1]).toBeLessThan(30522);
    }
    expect(dn / N).toBeGreaterThan(110);
    expect(dn / N).toBeLessThan(130);
    expect(qn / N).toBeGreaterThan(38);
    expect(qn / N).toBeLessThan(48);
    expect(dc / N).toBeGreaterThan(0.7);
    expect(dc / N).toBeLessThan(0.82);
    expect(qc / N).toBeGreaterThan(0.7);
    expect(qc / N).toBeLessThan(0.82);
  });

  it('is deterministic per (seed, ord) and queries are not copies of docs', () => {
    const again = createSyntheticModel({ seed: 1 });
    expect(generateDoc(again, 17)).toEqual(generateDoc(model, 17));
    expect(generateQuery(again, 3)).toEqual(generateQuery(model, 3));
    expect(generateDoc(createSyntheticModel({ seed: 2 }), 17)).not.toEqual(generateDoc(model, 17));
    const fwd = buildSyntheticForwardIndex(model, 50);
    expect(Array.from(fwd.termIds.subarray(fwd.offsets[17], fwd.offsets[18]))).toEqual(Array.from(generateDoc(model, 17).indices));
    const docs = new Set(Array.from({ length: 200 }, (_, i) => generateDoc(model, i).indices.join(',')));
    for (let i = 0; i < 50; i++) expect(docs.has(generateQuery(model, i).indices.join(','))).toBe(false);
  });

  it('writes and streams back JSONL in both vector formats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spladex-syn-'));
    try {
      const vocab = Array.from({ length: model.dim }, (_, i) => `tok${i}`);
      const byTok = new Map(vocab.map((t, i) => [t, i]));
      for (const format of ['indices', 'tokens'] as const) {
        const path = join(dir, `${format}.jsonl`);
        const n = await writeVectorsJsonl(path, syntheticDocs(model, 30), { format, decode: (t) => vocab[t] });
        expect(n).toBe(30);
        let i = 0;
        for await (const item of readVectorsJsonl(path, { dim: model.dim, lookup: (t) => byTok.get(t) })) {
          expect(item.id).toBe(`d${i}`);
          expect(item.vector).toEqual(generateDoc(model, i));
          expect(item.unknownTokens).toBe(0);
          i++;
        }
        expect(i).toBe(30);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
