/**
 * Pseudo-relevance feedback (Rocchio on sparse vectors, RM3-style normalisation): each of the top `docs` hits
 * contributes its vector, weighted by term importance and normalised to unit L1 mass; the contributions are
 * averaged with weights proportional to the hits' scores (RM3's P(d|q): the best hit counts most), the average
 * keeps its `terms` heaviest terms and is added to the query with `weight`, rescaled to the query's L1 mass:
 *   q'(t) = q(t) + weight · |q|₁ · c(t) / |c|₁.
 * Term importance matters for encoders whose document weights are not importance weights: lexical document
 * weights are BM25 saturated term frequencies, so without IDF the centroid is dominated by frequent, generic
 * terms. Learned sparse encoders already weigh importance into their document weights (importance = 1).
 * Measured on SciFact, lexical, before repeated query terms were counted (nDCG@10; no PRF 0.6795): plain feedback 0.6246, with IDF importance 0.6697,
 * plus score-weighted hits 0.6791 at (3 docs, 20 terms, 0.5) and 0.6824 at the default (5, 20, 0.5).
 */
import { fromPairs, topTerms, type SparseVector } from '../core/sparse-vector.js';
import type { PrfParams } from '../config/request-schemas.js';
import type { StoreHit } from '../storage/store-types.js';
import { TimeSlicer } from '../core/time-slice.js';

/** Importance of a term for feedback (e.g. its IDF); 1 when absent. */
export type TermImportance = (termId: number) => number;

/**
 * The expanded query. Yields to the event loop between feedback documents once a slice is used (100 feedback
 * docs of 100k terms each are ~0.9 s of accumulation).
 */
export async function applyPrf(
  query: SparseVector,
  hits: readonly StoreHit[],
  prf: PrfParams,
  importance?: TermImportance,
): Promise<SparseVector> {
  const fb = hits.slice(0, prf.docs).filter((h) => h.vector && h.vector.indices.length > 0);
  if (fb.length === 0 || prf.weight === 0) return query;
  let qMass = 0;
  for (let i = 0; i < query.values.length; i++) qMass += query.values[i];
  if (qMass === 0) return query;
  let scoreSum = 0;
  for (const h of fb) scoreSum += Math.max(h.score, 0);
  // One Map of term → mass, not a tuple per posting fed to fromPairs: 100 feedback docs of 100k terms each took
  // 2.3–4.5 s and +1 GB RSS with tuples.
  const acc = new Map<number, number>();
  const slicer = new TimeSlicer();
  for (const h of fb) {
    if (slicer.due()) await slicer.yield();
    // Equal shares when scores carry no information (all zero).
    const share = scoreSum > 0 ? Math.max(h.score, 0) / scoreSum : 1 / fb.length;
    const v = h.vector as SparseVector;
    let mass = 0;
    for (let i = 0; i < v.indices.length; i++) mass += v.values[i] * (importance ? importance(v.indices[i]) : 1);
    if (mass <= 0) continue;
    const scale = share / mass;
    for (let i = 0; i < v.indices.length; i++) {
      const t = v.indices[i];
      const w = v.values[i] * (importance ? importance(t) : 1) * scale;
      acc.set(t, (acc.get(t) ?? 0) + w);
    }
  }
  const centroid = topTerms(fromMap(acc), prf.terms);
  let cMass = 0;
  for (let i = 0; i < centroid.values.length; i++) cMass += centroid.values[i];
  if (cMass === 0) return query;
  const scale = (prf.weight * qMass) / cMass;
  const merged: [number, number][] = [];
  for (let i = 0; i < query.indices.length; i++) merged.push([query.indices[i], query.values[i]]);
  for (let i = 0; i < centroid.indices.length; i++) merged.push([centroid.indices[i], scale * centroid.values[i]]);
  return fromPairs(merged, 'sum');
}

/** Sorted sparse vector of the positive entries of `acc`. */
function fromMap(acc: Map<number, number>): SparseVector {
  const ids = new Uint32Array(acc.size);
  let n = 0;
  for (const [id, w] of acc) if (w > 0) ids[n++] = id;
  const indices = ids.slice(0, n).sort();
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = acc.get(indices[i]) as number;
  return { indices, values };
}
