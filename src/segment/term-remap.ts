/**
 * Per-segment compact term ids. A segment stores its terms as local ids `0 .. terms.length)`, where `terms`
 * (strictly ascending) maps a local id back to the collection's term id, so every per-term array of the segment
 * (posting offsets, Seismic list and summary arrays, dense query scratch) is sized by the terms the segment
 * actually uses, never by the collection's `dim`: with `encoder: "none", dim: 300000000` one document with one
 * term id near the top used to write a 1.2 GB postings.bin (issue 12.3). The mapping is monotone, so a doc's
 * entries stay ascending and every dot product adds the same products in the same order (scores bit-identical).
 * Segments written before the remap (forward.bin layout 1) have `terms === null`: local ids are the term ids.
 * Callers: segment-writer.ts (build), segment-reader.ts and live-segment.ts (queries in, vectors and df out).
 */
import { fitScratch, type SparseVector, type VectorScratch } from '../core/sparse-vector.js';

/**
 * Rewrites `termIds` (collection ids, all <= maxTerm) in place to local ids; returns the ascending distinct ids.
 * When `maxTerm` is within a small multiple of the nonzero count a mark array indexed by term id is cheapest
 * (lexical and model vocabularies); otherwise the ids are sorted, so memory stays O(nnz) for any `dim`.
 */
export function remapToLocal(termIds: Uint32Array, maxTerm: number): Uint32Array {
  const nnz = termIds.length;
  if (nnz === 0) return new Uint32Array(0);
  if (maxTerm < 4 * nnz + 65536) {
    const local = new Int32Array(maxTerm + 1).fill(-1);
    for (let p = 0; p < nnz; p++) local[termIds[p]] = 0;
    let n = 0;
    for (let t = 0; t <= maxTerm; t++) if (local[t] === 0) local[t] = n++;
    const terms = new Uint32Array(n);
    for (let t = 0; t <= maxTerm; t++) if (local[t] >= 0) terms[local[t]] = t;
    for (let p = 0; p < nnz; p++) termIds[p] = local[termIds[p]];
    return terms;
  }
  const sorted = termIds.slice().sort();
  let n = 0;
  for (let p = 0; p < nnz; p++) if (p === 0 || sorted[p] !== sorted[p - 1]) sorted[n++] = sorted[p];
  const terms = sorted.slice(0, n);
  for (let p = 0; p < nnz; p++) termIds[p] = localId(terms, termIds[p]);
  return terms;
}

/** Local id of collection term `t` in ascending `terms`, or -1 when the segment does not have it. */
export function localId(terms: Uint32Array, t: number): number {
  let lo = 0;
  let hi = terms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = terms[mid];
    if (x === t) return mid;
    if (x < t) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * A dense collection-id → local-id table (-1: the segment lacks the term) when the largest term id is within a
 * small multiple of the segment's term count (model and lexical vocabularies: 30,522 entries, 122 KB), else null
 * (huge `dim` of a vectors-only collection: queries keep the binary search).
 */
export function buildLocalMap(terms: Uint32Array): Int32Array | null {
  const maxTerm = terms.length > 0 ? terms[terms.length - 1] : 0;
  if (maxTerm >= 4 * terms.length + 65536) return null;
  const map = new Int32Array(maxTerm + 1).fill(-1);
  for (let l = 0; l < terms.length; l++) map[terms[l]] = l;
  return map;
}

/**
 * The query in the segment's local ids, keeping only the terms the segment has (others match no doc of it);
 * ascending like the input. `terms === null` (layout 1): the query itself. With `map` (buildLocalMap) one table
 * read per query term; without, one binary search per term (≤ 1,024 × ~17 steps). The table took the remap of a
 * 43-term query from ~5 µs to ~1 µs on a 50k-doc segment (bench/bench-fixed-cost.ts). With `scratch` the result
 * is a pair of views of it (core/sparse-vector.ts `VectorScratch`), valid until the next call with the same
 * scratch; without, fresh arrays.
 */
export function toLocalQuery(
  terms: Uint32Array | null,
  q: SparseVector,
  map: Int32Array | null = null,
  scratch: VectorScratch | null = null,
): SparseVector {
  if (terms === null) return q;
  const n = q.indices.length;
  if (scratch !== null) fitScratch(scratch, n);
  const ids = scratch !== null ? scratch.ids : new Uint32Array(n);
  const vals = scratch !== null ? scratch.vals : new Float32Array(n);
  const qi = q.indices;
  const qv = q.values;
  let m = 0;
  if (map !== null) {
    const top = map.length;
    for (let j = 0; j < n; j++) {
      const t = qi[j];
      const l = t < top ? map[t] : -1;
      if (l < 0) continue;
      ids[m] = l;
      vals[m++] = qv[j];
    }
  } else {
    for (let j = 0; j < n; j++) {
      const l = localId(terms, qi[j]);
      if (l < 0) continue;
      ids[m] = l;
      vals[m++] = qv[j];
    }
  }
  return { indices: ids.subarray(0, m), values: vals.subarray(0, m) };
}

/** Collection term ids of local ids `ids` (a fresh array; `terms === null`: a copy). */
export function toGlobalIds(terms: Uint32Array | null, ids: Uint16Array | Uint32Array): Uint32Array {
  const out = Uint32Array.from(ids);
  if (terms !== null) for (let i = 0; i < out.length; i++) out[i] = terms[out[i]];
  return out;
}
