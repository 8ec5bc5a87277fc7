/**
 * Parity of scripts/encode-corpus.py (torch + transformers, fp32 on CPU) with the TS/ONNX pipeline (issue 15):
 * for fixture encoder directories of every kind and output layout (SPLADE logits and pooled graphs, Mistral-style
 * echo, dense mean / CLS) plus a chunked and pruned variant (maxLength 32, chunking, minWeight 0.3, maxTerms 24),
 * the script's pre-encoded JSONL must have, per document, the non-zero set the pipeline gives after pruning and
 * weights within 1e-3 (dense: every component within 1e-3). The torch side loads the fixtures' hf/ weights
 * (scripts/make-fixtures.py). One Python process encodes every directory (torch's import is seconds). Skips,
 * saying why, when python3 lacks torch/transformers/tokenizers (.ci/run installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEncoder } from '../src/encoders/registry.js';
import { copyFixture, FIXTURES, loadReferences } from './encoders-helpers.js';

const SCRIPT = path.join(path.dirname(FIXTURES), '..', '..', 'scripts', 'encode-corpus.py');
const ENCODERS = [
  'bert-splade-logits',
  'bert-splade-pooled',
  'mistral-echo-logits',
  'mistral-echo-pooled',
  'bert-dense-mean',
  'bert-dense-mean-pooled',
  'bert-dense-cls',
];
const VARIANT = 'splade-chunked-pruned';

function pythonProblem(): string | null {
  const r = spawnSync('python3', ['-c', 'import torch, transformers, tokenizers'], { encoding: 'utf8' });
  if (r.error) return `python3 not runnable (${r.error.message})`;
  return r.status === 0 ? null : `python3 lacks torch/transformers/tokenizers (${r.stderr.trim().split('\n').pop()})`;
}
const problem = pythonProblem();
if (problem !== null) console.warn(`encode-corpus parity skipped: ${problem}`);

interface Line {
  _id: string;
  vector?: { indices: number[]; values: number[] };
  dense?: number[];
}

describe.skipIf(problem !== null)('scripts/encode-corpus.py matches the ONNX pipeline (fp32, CPU)', () => {
  const texts = loadReferences().texts;
  let dir: string;
  let variantDir: string;
  const got = new Map<string, Line[]>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spladex-encode-parity-'));
    variantDir = await copyFixture('bert-splade-logits', VARIANT, (m) => {
      Object.assign(m, { maxLength: 32, chunking: true, maxChunks: 8, minWeight: 0.3, maxTerms: 24 });
    });
    const input = path.join(dir, 'docs.jsonl');
    await writeFile(input, `${texts.map((t, i) => JSON.stringify({ _id: `t${i}`, title: '', text: t })).join('\n')}\n`);
    const jobs = [...ENCODERS.map((e) => [path.join(FIXTURES, e), e]), [path.join(variantDir, VARIANT), VARIANT]];
    const py = [
      'import importlib.util, sys',
      `spec = importlib.util.spec_from_file_location("encode_corpus", ${JSON.stringify(SCRIPT)})`,
      'mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)',
      ...jobs.map(
        ([enc, name]) =>
          `mod.main(["--encoder", ${JSON.stringify(enc)}, "--input", ${JSON.stringify(input)}, "--output", ${JSON.stringify(path.join(dir, `${name}.jsonl`))}, "--device", "cpu", "--dtype", "fp32"])`,
      ),
    ].join('\n');
    execFileSync('python3', ['-c', py], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '2' } });
    for (const [, name] of jobs) {
      const lines = (await readFile(path.join(dir, `${name}.jsonl`), 'utf8')).split('\n').filter((l) => l !== '');
      got.set(
        name,
        lines.map((l) => JSON.parse(l) as Line),
      );
    }
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(variantDir, { recursive: true, force: true });
  });

  for (const name of [...ENCODERS, VARIANT]) {
    it(`${name}: same non-zero set, max abs error <= 1e-3`, async () => {
      const encodersDir = name === VARIANT ? variantDir : FIXTURES;
      const enc = await openEncoder(encodersDir, name, { logger: pino({ level: 'silent' }), threads: 0 });
      try {
        const want = await enc.encode(texts, 'document');
        const lines = got.get(name) as Line[];
        expect(lines.map((l) => l._id)).toEqual(texts.map((_, i) => `t${i}`));
        let maxErr = 0;
        let nnz = 0;
        lines.forEach((l, i) => {
          const w = want[i];
          if (w instanceof Float32Array) {
            expect(l.dense?.length).toBe(w.length);
            w.forEach((x, j) => (maxErr = Math.max(maxErr, Math.abs(x - (l.dense as number[])[j]))));
            return;
          }
          expect(l.vector?.indices, `${name} t${i}`).toEqual(Array.from(w.indices));
          nnz += w.indices.length;
          w.values.forEach((x, j) => (maxErr = Math.max(maxErr, Math.abs(x - (l.vector as { values: number[] }).values[j]))));
        });
        expect(maxErr).toBeLessThanOrEqual(1e-3);
        if (name === VARIANT) expect(lines.every((l) => (l.vector?.indices.length ?? 0) <= 24)).toBe(true);
        else if (enc.kind === 'sparse') expect(nnz).toBeGreaterThan(1000);
      } finally {
        await enc.close();
      }
    });
  }
});
