/**
 * Forward index: CSR over doc ords. Doc `d`'s entries are `termIds[offsets[d] .. offsets[d+1])` (sorted
 * ascending) with weights in `values` at the same positions. Scoring a doc = walking its entries against a dense
 * query array. Term ids are u16 when the vocabulary fits (halves the bytes of the largest array), else u32.
 * Built once per segment; read-only afterwards.
 */
import type { SparseVector } from '../core/sparse-vector.js';

export interface ForwardIndex {
  readonly numDocs: number;
  /** Vocabulary bound: every term id is < dim. */
  readonly dim: number;
  /** numDocs + 1 entries; offsets[numDocs] = total nonzeros. */
  readonly offsets: Uint32Array;
  readonly termIds: Uint16Array | Uint32Array;
  readonly values: Float32Array;
}

/** Builds a CSR forward index from vectors whose ids are all < dim. */
export function buildForwardIndex(vectors: readonly SparseVector[], dim: number): ForwardIndex {
  let nnz = 0;
  for (const v of vectors) nnz += v.indices.length;
  const offsets = new Uint32Array(vectors.length + 1);
  const termIds = dim <= 65536 ? new Uint16Array(nnz) : new Uint32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  for (let d = 0; d < vectors.length; d++) {
    const v = vectors[d];
    termIds.set(v.indices, p);
    values.set(v.values, p);
    p += v.indices.length;
    offsets[d + 1] = p;
  }
  return { numDocs: vectors.length, dim, offsets, termIds, values };
}

/** The vector of doc `ord` as copies (safe to keep). */
export function docVector(f: ForwardIndex, ord: number): SparseVector {
  const s = f.offsets[ord];
  const e = f.offsets[ord + 1];
  return { indices: Uint32Array.from(f.termIds.subarray(s, e)), values: f.values.slice(s, e) };
}

/** Dot product of doc `ord` with a dense query array (length >= dim). */
export function scoreDoc(f: ForwardIndex, ord: number, denseQuery: Float32Array): number {
  const ids = f.termIds;
  const vals = f.values;
  let s = 0;
  for (let p = f.offsets[ord], e = f.offsets[ord + 1]; p < e; p++) s += denseQuery[ids[p]] * vals[p];
  return s;
}
