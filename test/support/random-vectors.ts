/**
 * Seeded random sparse vectors for kernel tests (seismic, half-float and quantised rows): `n` vectors of 1 to
 * `maxTerms` distinct term ids below `dim`, each weight drawn by `weight` from the same generator (after the ids).
 */
import { Rng } from '../../src/core/rng.js';
import { fromIndicesValues, type SparseVector } from '../../src/core/sparse-vector.js';

export function randomSparseVectors(seed: number, n: number, dim: number, maxTerms: number, weight: (rng: Rng) => number): SparseVector[] {
  const rng = new Rng(seed);
  const out: SparseVector[] = [];
  for (let i = 0; i < n; i++) {
    const m = 1 + rng.int(Math.min(maxTerms, dim));
    const ids = new Set<number>();
    while (ids.size < m) ids.add(rng.int(dim));
    const idx = [...ids];
    out.push(
      fromIndicesValues(
        idx,
        idx.map(() => weight(rng)),
        dim,
      ),
    );
  }
  return out;
}
