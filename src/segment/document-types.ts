/**
 * The document and weighting types the memtable and segments are built from; src/storage/store-types.ts
 * re-exports them as part of the store's contract (they live here so segments do not import the storage layer).
 */
import type { SparseVector } from '../core/sparse-vector.js';

/** How stored vectors turn into document weights. `bm25`: stored values are raw term frequencies and the
 * document weight is `tf·(k1+1)/(tf + k1·(1−b+b·dl/avgdl))` with dl = Σtf, avgdl over live docs (the memtable
 * applies it at search time; a seal bakes it in with the avgdl of that moment). */
export type DocWeighting = { kind: 'none' } | { kind: 'bm25'; k1: number; b: number };

/** One document as the store receives it. */
export interface StoreDocument {
  id: string;
  title?: string;
  text?: string;
  metadata?: Record<string, unknown>;
  /** Raw vector: term frequencies for bm25 weighting, final weights otherwise. */
  vector: SparseVector;
  dense?: Float32Array;
}
