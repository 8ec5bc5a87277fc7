/**
 * Exact top-k oracles for a segment (DESIGN.md §4, "Exact modes"), used for recall measurement, calibration and the
 * benchmark: brute force over the forward index, and term-at-a-time over unpruned posting lists. Both honour an
 * `excluded` bitset (bit `d & 31` of word `d >>> 5` set ⇒ skipped). Brute force scores docs with exactly the
 * loop of searcher.ts, so its scores equal the approximate searcher's bit for bit; TAAT sums in another order and
 * may differ in the last float bits (fine for recall, not for equality tests).
 * Callers: calibrate.ts, bench-runner.ts, tests. (The storage engineer's src/index/exact-search.ts serves the
 * product's `exact: true` path; this file is the Seismic module's self-contained oracle.)
 */
import type { SparseVector } from '../core/sparse-vector.js';
import { TopK } from '../core/top-k.js';
import type { ForwardIndex } from '../index/forward-index.js';

/** Top-k result: ords best first (ties: ord ascending) and scores. */
export interface ExactResult {
  ords: Int32Array;
  scores: Float32Array;
}

/** Brute force over every doc of the forward index. O(nnz) per query. Reuse `scratch` across queries. */
export function bruteForceSearch(
  forward: ForwardIndex,
  query: SparseVector,
  k: number,
  excluded: Uint32Array | null = null,
  scratch: { qDense: Float32Array; heap: TopK } = { qDense: new Float32Array(forward.dim), heap: new TopK(k) },
): ExactResult {
  const { qDense, heap } = scratch;
  heap.reset(k);
  const dim = forward.dim;
  const qi = query.indices;
  for (let i = 0; i < qi.length; i++) if (qi[i] < dim) qDense[qi[i]] = query.values[i];
  const { offsets, termIds, values, numDocs } = forward;
  let thr = -Infinity;
  for (let d = 0; d < numDocs; d++) {
    if (excluded !== null && ((excluded[d >>> 5] >>> (d & 31)) & 1) === 1) continue;
    let s = 0;
    for (let q = offsets[d], qe = offsets[d + 1]; q < qe; q++) s += qDense[termIds[q]] * values[q];
    if (s > 0 && Math.fround(s) >= thr) {
      heap.push(d, s);
      thr = heap.threshold();
    }
  }
  for (let i = 0; i < qi.length; i++) if (qi[i] < dim) qDense[qi[i]] = 0;
  const r = heap.drain();
  return { ords: r.keys, scores: r.scores };
}

/** Unpruned inverted index: list t is docs/values[offsets[t] .. offsets[t+1]), doc ords ascending. */
export interface ExactInvertedIndex {
  readonly numDocs: number;
  readonly dim: number;
  readonly offsets: Uint32Array;
  readonly docs: Uint32Array;
  readonly values: Float32Array;
}

/** Transposes the forward index (two passes, O(nnz)). */
export function buildExactInvertedIndex(forward: ForwardIndex): ExactInvertedIndex {
  const { numDocs, dim, offsets: fOff, termIds, values: fVal } = forward;
  const nnz = fOff[numDocs];
  const offsets = new Uint32Array(dim + 1);
  for (let p = 0; p < nnz; p++) offsets[termIds[p] + 1]++;
  for (let t = 0; t < dim; t++) offsets[t + 1] += offsets[t];
  const cursor = offsets.slice(0, dim);
  const docs = new Uint32Array(nnz);
  const values = new Float32Array(nnz);
  for (let d = 0; d < numDocs; d++) {
    for (let p = fOff[d], e = fOff[d + 1]; p < e; p++) {
      const c = cursor[termIds[p]]++;
      docs[c] = d;
      values[c] = fVal[p];
    }
  }
  return { numDocs, dim, offsets, docs, values };
}

/** Reusable term-at-a-time searcher: a dense f32 accumulator per doc, then one scan of the touched docs. */
export class ExactTaatSearcher {
  private readonly acc: Float32Array;
  private readonly touched: Uint32Array;
  private readonly heap = new TopK(10);
  constructor(private readonly inv: ExactInvertedIndex) {
    this.acc = new Float32Array(inv.numDocs);
    this.touched = new Uint32Array(inv.numDocs);
  }

  /** Exact top-k (ties: ord ascending). Cost: Σ list lengths of the query terms + touched docs. */
  search(query: SparseVector, k: number, excluded: Uint32Array | null = null): ExactResult {
    const { offsets, docs, values, dim } = this.inv;
    const acc = this.acc;
    const touched = this.touched;
    let nt = 0;
    for (let i = 0; i < query.indices.length; i++) {
      const t = query.indices[i];
      if (t >= dim) continue;
      const w = query.values[i];
      for (let p = offsets[t], e = offsets[t + 1]; p < e; p++) {
        const d = docs[p];
        if (acc[d] === 0) touched[nt++] = d;
        acc[d] += w * values[p];
      }
    }
    const heap = this.heap;
    heap.reset(k);
    let thr = -Infinity;
    for (let i = 0; i < nt; i++) {
      const d = touched[i];
      const s = acc[d];
      acc[d] = 0;
      if (excluded !== null && ((excluded[d >>> 5] >>> (d & 31)) & 1) === 1) continue;
      if (s >= thr) {
        heap.push(d, s);
        thr = heap.threshold();
      }
    }
    const r = heap.drain();
    return { ords: r.keys, scores: r.scores };
  }
}

/**
 * Brute force for many queries in one pass over the forward index (the calibration oracle at seal time: one
 * ~0.3 s pass at 1M docs instead of one per query). Each query's score for a doc sums the same products in the
 * same term order as `bruteForceSearch`, so results are identical to it. `excludeOrds[i]` (≥ 0) is a doc left
 * out of query i's answer. Memory: a term → (query, weight) table of Σ query lengths entries.
 */
export function bruteForceBatch(
  forward: ForwardIndex,
  queries: readonly SparseVector[],
  k: number,
  excludeOrds: readonly number[] | null = null,
): ExactResult[] {
  const { dim, numDocs, offsets, termIds, values } = forward;
  const nq = queries.length;
  // CSR table: term t's (query, weight) pairs at tStart[t] .. tStart[t+1].
  const tStart = new Uint32Array(dim + 1);
  for (const q of queries) for (let i = 0; i < q.indices.length; i++) if (q.indices[i] < dim) tStart[q.indices[i] + 1]++;
  for (let t = 0; t < dim; t++) tStart[t + 1] += tStart[t];
  const fill = tStart.slice(0, dim);
  const pq = new Uint32Array(tStart[dim]);
  const pw = new Float32Array(tStart[dim]);
  for (let qi = 0; qi < nq; qi++) {
    const q = queries[qi];
    for (let i = 0; i < q.indices.length; i++) {
      const t = q.indices[i];
      if (t >= dim) continue;
      const c = fill[t]++;
      pq[c] = qi;
      pw[c] = q.values[i];
    }
  }
  const acc = new Float64Array(nq);
  const touched = new Uint32Array(nq);
  const mark = new Uint8Array(nq);
  const heaps = Array.from({ length: nq }, () => new TopK(k));
  const thr = new Float64Array(nq).fill(-Infinity);
  const excl = new Int32Array(nq).fill(-1);
  if (excludeOrds) for (let i = 0; i < nq; i++) excl[i] = excludeOrds[i];
  for (let d = 0; d < numDocs; d++) {
    let nt = 0;
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
      const t = termIds[p];
      const w = values[p];
      for (let j = tStart[t], je = tStart[t + 1]; j < je; j++) {
        const qi = pq[j];
        if (mark[qi] === 0) {
          mark[qi] = 1;
          acc[qi] = 0;
          touched[nt++] = qi;
        }
        acc[qi] += pw[j] * w;
      }
    }
    for (let i = 0; i < nt; i++) {
      const qi = touched[i];
      mark[qi] = 0;
      const s = acc[qi];
      if (s > 0 && excl[qi] !== d && Math.fround(s) >= thr[qi]) {
        heaps[qi].push(d, s);
        thr[qi] = heaps[qi].threshold();
      }
    }
  }
  return heaps.map((h) => {
    const r = h.drain();
    return { ords: r.keys, scores: r.scores };
  });
}
