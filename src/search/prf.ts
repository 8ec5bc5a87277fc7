/**
 * Pseudo-relevance feedback (Rocchio on sparse vectors): average the vectors of the top `docs` hits, keep the
 * `terms` heaviest terms, and add them with `weight` to the query. Document vectors are scaled so that their
 * mean is comparable to the query's own weights (each feedback vector is normalised by its maximum and the
 * result by the query's maximum), which keeps `weight` meaningful across encoders.
 */
import { fromPairs, topTerms, type SparseVector } from '../core/sparse-vector.js';
import type { PrfParams } from '../config/request-schemas.js';
import type { StoreHit } from '../index/store-types.js';

export function applyPrf(query: SparseVector, hits: readonly StoreHit[], prf: PrfParams): SparseVector {
  const fb = hits.slice(0, prf.docs).filter((h) => h.vector && h.vector.indices.length > 0);
  if (fb.length === 0 || prf.weight === 0) return query;
  let qMax = 0;
  for (let i = 0; i < query.values.length; i++) qMax = Math.max(qMax, query.values[i]);
  if (qMax === 0) qMax = 1;
  const pairs: [number, number][] = [];
  for (const h of fb) {
    const v = h.vector as SparseVector;
    let m = 0;
    for (let i = 0; i < v.values.length; i++) m = Math.max(m, v.values[i]);
    for (let i = 0; i < v.indices.length; i++) pairs.push([v.indices[i], v.values[i] / m / fb.length]);
  }
  const centroid = topTerms(fromPairs(pairs, 'sum'), prf.terms);
  const merged: [number, number][] = [];
  for (let i = 0; i < query.indices.length; i++) merged.push([query.indices[i], query.values[i]]);
  for (let i = 0; i < centroid.indices.length; i++) merged.push([centroid.indices[i], prf.weight * qMax * centroid.values[i]]);
  return fromPairs(merged, 'sum');
}
