/**
 * Experiment behind the approximate searcher's scoring layout: random docs scored four at a time in lockstep from
 * the f32 forward index (`scoreDocs`: u16/u32 term ids and f32 values in two arrays, rows found through `offsets`)
 * against the half-float rows (half-rows.ts `scoreHalfRows`: one u32 per nonzero, rows found from the posting).
 * At 1M docs the forward index is far larger than the caches, so doc scoring is bound by its cache misses; the
 * bench prints both per-doc costs and the largest relative rounding of a weight to a half float.
 * Callers: bench-runner.ts.
 */
import { scoreDocs, type ForwardIndex } from '../index/forward-index.js';
import { Rng } from '../core/rng.js';
import { buildHalfRows, halfTable, scoreHalfRows } from './half-rows.js';

/** Mean nanoseconds per scored doc for each layout, scoring `docsPerQuery` random docs per query. */
export function measureValueLayouts(
  forward: ForwardIndex,
  queries: readonly { indices: Uint32Array; values: Float32Array }[],
  docsPerQuery = 2000,
): { f32NsPerDoc: number; halfRowsNsPerDoc: number; maxRelError: number } | null {
  const hr = buildHalfRows(forward, new Uint32Array(0));
  if (hr === null) return null;
  const tbl = halfTable();
  let maxRel = 0;
  for (let d = 0; d < forward.numDocs; d++) {
    for (let p = forward.offsets[d], e = forward.offsets[d + 1]; p < e; p++) {
      const v = forward.values[p];
      const r = v !== 0 ? Math.abs(tbl[hr.rows[p + d + 1] >>> 16] * hr.invScale - v) / Math.abs(v) : 0;
      if (r > maxRel) maxRel = r;
    }
  }
  const rng = new Rng(7);
  const docs = new Uint32Array(docsPerQuery);
  const starts = new Uint32Array(docsPerQuery);
  const ends = new Uint32Array(docsPerQuery);
  const qDense = new Float32Array(forward.dim);
  const out = new Float64Array(docsPerQuery);
  let t32 = 0;
  let t16 = 0;
  for (let round = 0; round < 2; round++) {
    for (const q of queries) {
      for (let i = 0; i < q.indices.length; i++) qDense[q.indices[i]] = q.values[i];
      for (let i = 0; i < docs.length; i++) docs[i] = rng.int(forward.numDocs);
      let s = performance.now();
      scoreDocs(forward, docs, docs.length, qDense, out);
      const a = performance.now() - s;
      // Fresh random docs (the first pass left its rows in cache); row starts as a posting would carry them.
      for (let i = 0; i < docs.length; i++) {
        const d = rng.int(forward.numDocs);
        starts[i] = forward.offsets[d] + d;
      }
      s = performance.now();
      scoreHalfRows(hr.rows, starts, ends, docs.length, qDense, tbl, out);
      const b = performance.now() - s;
      if (round === 1) {
        t32 += a;
        t16 += b;
      }
      for (let i = 0; i < q.indices.length; i++) qDense[q.indices[i]] = 0;
    }
  }
  const n = queries.length * docsPerQuery;
  return { f32NsPerDoc: (t32 * 1e6) / n, halfRowsNsPerDoc: (t16 * 1e6) / n, maxRelError: maxRel };
}
