/**
 * Per-hit explanation: every query term the hit shares with the query (all of them by default, so the
 * products sum to the sparse score up to float rounding), with query weight, document weight and product,
 * largest products first.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { Vocabulary } from './vector-input.js';

export interface TermContribution {
  token: string;
  query: number;
  doc: number;
  product: number;
}

export interface HitExplanation {
  sparse: number;
  dense?: number;
  fused?: number;
  terms: TermContribution[];
}

/** Explains `score` of a doc vector against `query`; at most `maxTerms` terms are listed. */
export function explainHit(query: SparseVector, doc: SparseVector, score: number, vocab: Vocabulary, maxTerms = Infinity): HitExplanation {
  const terms: TermContribution[] = [];
  let i = 0;
  let j = 0;
  while (i < query.indices.length && j < doc.indices.length) {
    const a = query.indices[i];
    const b = doc.indices[j];
    if (a === b) {
      const q = query.values[i];
      const d = doc.values[j];
      terms.push({ token: vocab.decode(a), query: q, doc: d, product: q * d });
      i++;
      j++;
    } else if (a < b) i++;
    else j++;
  }
  terms.sort((x, y) => y.product - x.product || (x.token < y.token ? -1 : 1));
  return { sparse: score, terms: terms.slice(0, maxTerms) };
}
