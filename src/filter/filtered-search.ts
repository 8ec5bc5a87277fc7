/**
 * Exact search restricted to an explicit list of accepted ords, for selective filters (DESIGN.md §4): when a
 * filter (plus deletes) leaves few docs (≤ SELECTIVE_FILTER_MAX_DOCS), scoring exactly those docs through the
 * forward index is cheaper than any index traversal and always exact (recall 1.0). Scores are computed like
 * `bruteForceSearch` (products in ascending term order into a float64 sum from 0, docs with score 0 not
 * reported), so both return identical results for the same accepted set.
 * Callers: collection-store.ts (per segment, after `evaluateFilter`), tests.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import { TopK } from '../core/top-k.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { bm25Weight, type Bm25Params } from '../index/exact-search.js';

/** Accepted-doc count at or below which a filtered segment search scores the accepted docs directly. */
export const SELECTIVE_FILTER_MAX_DOCS = 5000;

/** bm25 segments: raw tf in forward order, dl per doc, and the parameters to weight them with (exact-search.ts). */
export interface FilteredBm25 {
  tf: Float32Array;
  dl: Float64Array;
  params: Bm25Params;
}

/**
 * Exact top-k over the docs `accepted` (ords ascending, all < f.numDocs). `dense` is per-query scratch of length
 * ≥ the largest query term that can match (it is cleared before returning). With `bm25`, entry p of doc d weighs
 * `bm25Weight(tf[p], dl[d], …)` at the given avgdl instead of `f.values[p]` (the weight baked at the build), as
 * `taatSearchBm25` does. Returns ords best first, ties by ord ascending.
 */
export function filteredExactSearch(
  f: ForwardIndex,
  query: SparseVector,
  accepted: Uint32Array,
  k: number,
  dense: Float32Array = new Float32Array(f.dim),
  top: TopK = new TopK(k),
  bm25: FilteredBm25 | null = null,
): { ords: Int32Array; scores: Float32Array; docsScored: number } {
  top.reset(k);
  const qi = query.indices;
  for (let j = 0; j < qi.length; j++) if (qi[j] < dense.length) dense[qi[j]] = query.values[j];
  const ids = f.termIds;
  const vals = f.values;
  const offsets = f.offsets;
  const dl = dense.length;
  let scored = 0;
  for (let i = 0; i < accepted.length; i++) {
    const d = accepted[i];
    let s = 0;
    if (bm25 === null) {
      for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
        const t = ids[p];
        if (t < dl) s += dense[t] * vals[p];
      }
    } else {
      const { tf, params } = bm25;
      const len = bm25.dl[d];
      for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
        const t = ids[p];
        if (t < dl && dense[t] !== 0) s += dense[t] * bm25Weight(tf[p], len, params.avgdl, params.k1, params.b);
      }
    }
    if (s > 0) {
      scored++;
      top.push(d, s);
    }
  }
  for (let j = 0; j < qi.length; j++) if (qi[j] < dl) dense[qi[j]] = 0;
  const { keys, scores } = top.drain();
  return { ords: keys, scores, docsScored: scored };
}
