/**
 * Exact search kernels over one sealed segment, the `exact: true` path and the oracle for approximate search:
 * - `taatSearch`: term-at-a-time accumulation over the unpruned posting lists (docs ascending per term).
 * - `taatSearchBm25`: the same over bm25 segments, weighting each posting from its raw tf and the doc's length
 *   with the avgdl of the search (not the one baked in at the seal): `bm25Weight`, the memtable's formula, so a doc
 *   scores the same bit for bit whether it is in a memtable or in a segment, and whenever it was sealed.
 * - `bruteForceSearch`: scores every doc through the forward index against a dense query array.
 * Both add the products q·w of a doc in ascending term id order into a float64 sum that starts at 0, so they
 * return bit-identical scores; both only report docs sharing at least one term with the query (score > 0).
 * Excluded ords (deleted, later filtered) are skipped through a dense bitset (bit `ord` of word `ord >>> 5`).
 * Results go into a caller-provided TopK (keys = ords; ords are in id order, so its tie rule is the API's).
 *
 * Scratch is preallocated per segment and reused (searches are synchronous on one thread): `acc` (float64 per
 * doc), `touched` (ords touched by this query, for clearing only what was touched), and `dense` (the dense
 * query sized to the segment's largest term id + 1 — its number of distinct terms, since segments use local term
ids (term-remap.ts) — filled once per query and cleared after).
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { ForwardIndex } from './forward-index.js';
import { TopK } from '../core/top-k.js';

/** bm25 document weight of raw term frequency `tf` in a doc of length `dl`, rounded to float32. */
export function bm25Weight(tf: number, dl: number, avgdl: number, k1: number, b: number): number {
  const norm = avgdl > 0 ? dl / avgdl : 1;
  return Math.fround((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * norm)));
}

/** BM25 parameters of one search: the collection's k1 and b, and the avgdl to weight with (> 0; 0 = norm 1). */
export interface Bm25Params {
  avgdl: number;
  k1: number;
  b: number;
}

/** Raw term frequencies of a bm25 segment's postings (parallel to `PostingLists.values`) and its doc lengths. */
export interface Bm25Postings {
  tf: Float32Array;
  dl: Float64Array;
}

/** Unpruned posting lists (CSR by term id): list `t` is `docs/values[offsets[t] .. offsets[t+1])`, docs ascending. */
export interface PostingLists {
  /** Term ids are < numTerms (= largest term id in the segment + 1). */
  readonly numTerms: number;
  readonly offsets: Uint32Array;
  readonly docs: Uint32Array;
  readonly values: Float32Array;
}

/** Transposes a forward index into posting lists (counting sort: O(nnz)). */
export function buildPostingLists(f: ForwardIndex): PostingLists {
  const nnz = f.offsets[f.numDocs];
  let maxTerm = -1;
  const tids = f.termIds;
  for (let p = 0; p < nnz; p++) if (tids[p] > maxTerm) maxTerm = tids[p];
  const numTerms = maxTerm + 1;
  const offsets = new Uint32Array(numTerms + 1);
  for (let p = 0; p < nnz; p++) offsets[tids[p] + 1]++;
  for (let t = 0; t < numTerms; t++) offsets[t + 1] += offsets[t];
  const fill = offsets.slice(0, Math.max(1, numTerms));
  const docs = new Uint32Array(nnz);
  const values = new Float32Array(nnz);
  for (let d = 0; d < f.numDocs; d++) {
    for (let p = f.offsets[d], e = f.offsets[d + 1]; p < e; p++) {
      const at = fill[tids[p]]++;
      docs[at] = d;
      values[at] = f.values[p];
    }
  }
  return { numTerms, offsets, docs, values };
}

/** Per-segment reusable scratch. */
export interface ExactScratch {
  acc: Float64Array;
  mark: Uint8Array;
  touched: Int32Array;
  dense: Float32Array;
}

/** Scratch for a segment of `numDocs` docs whose term ids are < numTerms. */
export function createExactScratch(numDocs: number, numTerms: number): ExactScratch {
  return {
    acc: new Float64Array(numDocs),
    mark: new Uint8Array(numDocs),
    touched: new Int32Array(numDocs),
    dense: new Float32Array(numTerms),
  };
}

function excludedBit(excluded: Uint32Array | null, ord: number): boolean {
  return excluded !== null && (excluded[ord >>> 5] & (1 << (ord & 31))) !== 0;
}

/**
 * Term-at-a-time exact top-k. `query` must be sorted by term id (SparseVector invariant). Offers every
 * non-excluded doc with a positive score to `top`; returns the number of docs scored.
 */
export function taatSearch(
  lists: PostingLists,
  query: SparseVector,
  excluded: Uint32Array | null,
  scratch: ExactScratch,
  top: TopK,
): number {
  const { acc, mark, touched } = scratch;
  const { offsets, docs, values } = lists;
  let nTouched = 0;
  const qi = query.indices;
  const qv = query.values;
  for (let j = 0; j < qi.length; j++) {
    const t = qi[j];
    if (t >= lists.numTerms) break;
    const qw = qv[j];
    for (let p = offsets[t], e = offsets[t + 1]; p < e; p++) {
      const d = docs[p];
      if (mark[d] === 0) {
        mark[d] = 1;
        touched[nTouched++] = d;
        acc[d] = qw * values[p];
      } else acc[d] += qw * values[p];
    }
  }
  return offerTouched(scratch, nTouched, excluded, top);
}

/**
 * `taatSearch` over a bm25 segment: posting p of doc d weighs `bm25Weight(tf[p], dl[d], avgdl, k1, b)` instead of
 * `lists.values[p]` (the weight baked at the seal). Two divisions more per posting than `taatSearch` (Lucene pays
 * one, its norm cache spares the dl/avgdl term): 0.171 → 0.258 ms per 10-term query over ~12k postings of a
 * synthetic 200k-doc segment. A per-doc norm cache would need rebuilding, O(docs), whenever avgdl moves (every
 * write), more than a query costs; callers use `taatSearch` when the avgdl is the segment's build avgdl (same
 * weights bit for bit), so an optimized collection without later writes pays nothing.
 */
export function taatSearchBm25(
  lists: PostingLists,
  raw: Bm25Postings,
  params: Bm25Params,
  query: SparseVector,
  excluded: Uint32Array | null,
  scratch: ExactScratch,
  top: TopK,
): number {
  const { acc, mark, touched } = scratch;
  const { offsets, docs } = lists;
  const { tf, dl } = raw;
  const { avgdl, k1, b } = params;
  let nTouched = 0;
  const qi = query.indices;
  const qv = query.values;
  for (let j = 0; j < qi.length; j++) {
    const t = qi[j];
    if (t >= lists.numTerms) break;
    const qw = qv[j];
    for (let p = offsets[t], e = offsets[t + 1]; p < e; p++) {
      const d = docs[p];
      const w = bm25Weight(tf[p], dl[d], avgdl, k1, b);
      if (mark[d] === 0) {
        mark[d] = 1;
        touched[nTouched++] = d;
        acc[d] = qw * w;
      } else acc[d] += qw * w;
    }
  }
  return offerTouched(scratch, nTouched, excluded, top);
}

/** Offers the `n` touched docs' sums to `top` (skipping excluded ones) and clears their marks; returns how many. */
function offerTouched(scratch: ExactScratch, n: number, excluded: Uint32Array | null, top: TopK): number {
  const { acc, mark, touched } = scratch;
  let scored = 0;
  for (let i = 0; i < n; i++) {
    const d = touched[i];
    mark[d] = 0;
    if (excludedBit(excluded, d)) continue;
    scored++;
    top.push(d, acc[d]);
  }
  return scored;
}

/**
 * Brute-force exact top-k over the forward index: the oracle. `dense` must have length >= the largest query
 * term id that can match (terms beyond its length are ignored, as no doc of the segment has them).
 */
export function bruteForceSearch(
  f: ForwardIndex,
  query: SparseVector,
  k: number,
  excluded: Uint32Array | null,
  dense: Float32Array = new Float32Array(f.dim),
): { ords: Int32Array; scores: Float32Array; docsScored: number } {
  const top = new TopK(k);
  const qi = query.indices;
  for (let j = 0; j < qi.length; j++) if (qi[j] < dense.length) dense[qi[j]] = query.values[j];
  const ids = f.termIds;
  const vals = f.values;
  let scored = 0;
  for (let d = 0; d < f.numDocs; d++) {
    if (excludedBit(excluded, d)) continue;
    let s = 0;
    for (let p = f.offsets[d], e = f.offsets[d + 1]; p < e; p++) {
      const t = ids[p];
      if (t < dense.length) s += dense[t] * vals[p];
    }
    if (s > 0) {
      scored++;
      top.push(d, s);
    }
  }
  for (let j = 0; j < qi.length; j++) if (qi[j] < dense.length) dense[qi[j]] = 0;
  const { keys, scores } = top.drain();
  return { ords: keys, scores, docsScored: scored };
}
