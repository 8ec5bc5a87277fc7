/**
 * The Seismic kernel of this checkout against another's, in one process (issue 14):
 * `npx tsx bench/bench-kernel-ab.ts --root-b DIR [--seg DIR] [--query-cut 1] [--heap-factor 0.9] [--rounds 8]`.
 * Opens one approximate segment (`--seg`, default the fixed-cost collection's, bench-fixed-cost.ts `--data
 * /tmp/fc50`), reads its seismic.bin once into a wasm memory, and builds two searchers over those same bytes:
 * A with this checkout's src/seismic (and its wasm kernels), B with `--root-b`'s (e.g. `git worktree add /tmp/b
 * <commit>` with this checkout's node_modules linked in). Every query must give both the same ords and scores;
 * then each round sends every query to both, A on query i while B is on query i + n/2 and the other way round
 * the next round, so neither finds the other's docs in cache and a drift of the machine's speed falls on both
 * alike (separate processes run minutes apart differed by up to 30% here). Prints the mean µs per query of each.
 * `--query-terms N` keeps each query's N largest weights (SPLADE queries have ~20–40 terms; the synthetic ~43).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readSectionFileSync } from '../src/core/section-file.js';
import type { SparseVector } from '../src/core/sparse-vector.js';
import { createSyntheticModel, generateQuery } from '../src/eval/synthetic.js';
import { openApproximateSearcher, type ApproximateSearcher } from '../src/seismic/approximate.js';
import { SegmentReader } from '../src/segment/segment-reader.js';

const { values } = parseArgs({
  options: {
    'root-b': { type: 'string' },
    seg: { type: 'string', default: '/tmp/fc50/fixed/store/seg-00000001' },
    'query-cut': { type: 'string', default: '1' },
    'heap-factor': { type: 'string', default: '0.9' },
    rounds: { type: 'string', default: '8' },
    queries: { type: 'string', default: '2000' },
    'query-terms': { type: 'string' },
  },
});
if (values['root-b'] === undefined) throw new Error('--root-b DIR (the other checkout) is required');
const open = (await import(path.join(path.resolve(values['root-b']), 'src/seismic/approximate.ts')))
  .openApproximateSearcher as typeof openApproximateSearcher;
const dir = values.seg;
const reader = SegmentReader.openSync(dir);
const file = readSectionFileSync(path.join(dir, 'seismic.bin'), 'seismic', { shared: true, wasm: true });
const forward = (reader as unknown as { forward: Parameters<typeof openApproximateSearcher>[0] }).forward;
const a = openApproximateSearcher(forward, file.sections, file.memory) as ApproximateSearcher;
const b = open(forward, file.sections, file.memory, true) as ApproximateSearcher;
const model = createSyntheticModel({ seed: 1 });
const n = Number(values.queries);
const maxTerms = values['query-terms'] === undefined ? Infinity : Number(values['query-terms']);
const queries: SparseVector[] = Array.from({ length: n }, (_, i) => reader.localQuery(topTerms(generateQuery(model, i), maxTerms)));
const opts = { k: 10, queryCut: Number(values['query-cut']), heapFactor: Number(values['heap-factor']), nKnn: 0, excluded: null };
for (let i = 0; i < n; i++) {
  const ra = a.search(queries[i], opts);
  const rb = b.search(queries[i], opts);
  const same = ra.ords.length === rb.ords.length && ra.ords.every((o, j) => o === rb.ords[j] && ra.scores[j] === rb.scores[j]);
  if (!same) throw new Error(`query ${i}: the two checkouts answer differently`);
}
const total = [0, 0];
const rounds = Number(values.rounds);
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < n; i++) {
    for (const side of [0, 1] as const) {
      const s = side === 0 ? a : b;
      const q = (side === 0) === (r % 2 === 0) ? queries[i] : queries[(i + (n >> 1)) % n];
      const t0 = performance.now();
      s.search(q, opts);
      total[side] += performance.now() - t0;
    }
  }
}
const us = (t: number) => ((t / (rounds * n)) * 1000).toFixed(2);
process.stdout.write(
  `qc ${opts.queryCut} hf ${opts.heapFactor}, ${n} queries × ${rounds} rounds: A (this checkout) ${us(total[0])} µs, B (${values['root-b']}) ${us(total[1])} µs\n`,
);

/** `q` with only its `n` largest weights, ids ascending (all of it when it has no more than `n`). */
function topTerms(q: SparseVector, n: number): SparseVector {
  if (q.indices.length <= n) return q;
  const order = Array.from(q.indices.keys())
    .sort((x, y) => q.values[y] - q.values[x])
    .slice(0, n)
    .sort((x, y) => q.indices[x] - q.indices[y]);
  return { indices: Uint32Array.from(order, (j) => q.indices[j]), values: Float32Array.from(order, (j) => q.values[j]) };
}
