/**
 * `npm run bench` argument parsing, and a tiny end-to-end run on Seismic-style JSONL files (token-map documents
 * with a `content` field, token-map queries, TSV ground truth), checked against the exact top-10 written here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBenchArgs, runBench } from './bench-runner.js';
import { readGroundTruth } from './bench-input.js';
import { Rng } from '../core/rng.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'spladex-bench-'));
  dirs.push(d);
  return d;
}

describe('parseBenchArgs', () => {
  it('takes --queries as a count or a file, and --gt only with a queries file', () => {
    expect(parseBenchArgs(['--docs', '5000', '--queries', '300'])).toMatchObject({ docs: 5000, queries: 300, queriesFile: null, gt: null });
    expect(parseBenchArgs(['--input', 'd.jsonl', '--queries', 'q.jsonl', '--gt', 'gt.tsv'])).toMatchObject({
      input: 'd.jsonl',
      queriesFile: 'q.jsonl',
      gt: 'gt.tsv',
    });
    expect(parseBenchArgs(['--config', '{"nPostings":300}']).config).toEqual({ nPostings: 300 });
    expect(() => parseBenchArgs(['--queries', 'q.jsonl'])).toThrow(/needs --input/);
    expect(() => parseBenchArgs(['--input', 'd.jsonl', '--gt', 'gt.tsv'])).toThrow(/needs --queries FILE/);
    expect(() => parseBenchArgs(['--input'])).toThrow(/expected a value/);
    expect(() => parseBenchArgs(['--config', '{oops'])).toThrow(/not valid JSON/);
    expect(() => parseBenchArgs(['--nope'])).toThrow(/unknown option/);
  });
});

describe('ground truth formats', () => {
  it('reads JSONL neighbours, TREC run lines (sorted by rank) and plain qid/docid pairs', async () => {
    const d = tmp();
    writeFileSync(join(d, 'a.jsonl'), '{"id": 1, "neighbors": ["x", 7]}\n');
    writeFileSync(join(d, 'b.trec'), 'q1 Q0 b 2 0.5 run\nq1 Q0 a 1 0.9 run\n');
    writeFileSync(join(d, 'c.tsv'), 'q1\tz\nq1\ty\n');
    expect([...(await readGroundTruth(join(d, 'a.jsonl')))]).toEqual([['1', ['x', '7']]]);
    expect([...(await readGroundTruth(join(d, 'b.trec')))]).toEqual([['q1', ['a', 'b']]]);
    expect([...(await readGroundTruth(join(d, 'c.tsv')))]).toEqual([['q1', ['z', 'y']]]);
  });
});

describe('runBench on user files', () => {
  it('prints the build parameters and the qc × hf grid with recall against the given ground truth', async () => {
    const d = tmp();
    const rng = new Rng(5);
    const vocab = Array.from({ length: 60 }, (_, i) => `tok${i}`);
    const vec = (n: number): Record<string, number> => {
      const v: Record<string, number> = {};
      while (Object.keys(v).length < n) v[vocab[rng.int(vocab.length)]] = Math.round((0.1 + rng.next() * 2) * 1000) / 1000;
      return v;
    };
    const docs = Array.from({ length: 400 }, (_, i) => ({ id: `doc${i}`, content: 'ignored', vector: vec(12) }));
    const queries = Array.from({ length: 15 }, (_, i) => ({ id: `q${i}`, vector: { ...vec(6), unseen: 1 } }));
    // Exact top-10 by brute force over the token maps (ties: input order, as ords ascend with it).
    const gt: string[] = [];
    for (const q of queries) {
      const scored = docs.map((doc, o) => {
        let s = 0;
        for (const [t, w] of Object.entries(q.vector)) s += Math.fround(w) * Math.fround(doc.vector[t] ?? 0);
        return { o, s };
      });
      scored.sort((a, b) => b.s - a.s || a.o - b.o);
      for (const { o } of scored.slice(0, 10)) gt.push(`${q.id}\tdoc${o}`);
    }
    writeFileSync(join(d, 'docs.jsonl'), `${docs.map((x) => JSON.stringify(x)).join('\n')}\n`);
    writeFileSync(join(d, 'queries.jsonl'), `${queries.map((x) => JSON.stringify(x)).join('\n')}\n`);
    writeFileSync(join(d, 'gt.tsv'), `${gt.join('\n')}\n`);
    const lines: string[] = [];
    const opts = parseBenchArgs([
      ...['--input', join(d, 'docs.jsonl'), '--queries', join(d, 'queries.jsonl'), '--gt', join(d, 'gt.tsv')],
      ...['--out', join(d, 'out'), '--threads', '1', '--brute-queries', '5'],
    ]);
    const summary = (await runBench(opts, (l) => lines.push(l))) as { sweep: { recall: number; p50Ms: number }[]; queries: number };
    expect(summary.queries).toBe(15);
    expect(lines.some((l) => l.startsWith('build parameters: nPostings 160, centroidFraction 0.1, summaryEnergy 0.4'))).toBe(true);
    expect(lines.some((l) => l.includes('the exact oracle here reaches recall@10 1.0000 against it'))).toBe(true);
    expect(lines).toContain('queryCut heapFactor recall@10  mean_ms   p50_ms  p99_ms  docs_scored');
    expect(summary.sweep).toHaveLength(32);
    for (const r of summary.sweep) {
      expect(r.recall).toBeGreaterThanOrEqual(0);
      expect(r.recall).toBeLessThanOrEqual(1);
      expect(r.p50Ms).toBeGreaterThanOrEqual(0);
    }
    expect(Math.max(...summary.sweep.map((r) => r.recall))).toBeGreaterThanOrEqual(0.9);
    expect(JSON.parse(readFileSync(join(d, 'out', 'bench-400.json'), 'utf8')).groundTruth).toBe(join(d, 'gt.tsv'));
  }, 60_000);
});
