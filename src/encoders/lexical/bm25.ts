/**
 * BM25 arithmetic for the `lexical` encoder, with Anserini's defaults k1 = 0.9, b = 0.4. Document side: the
 * saturated term frequency (applied by the collection store, DocWeighting `bm25`, with the avgdl of the live
 * collection); query side: count × idf from the collection's statistics (a term written q times in the query
 * weighs q·idf, as in Lucene's BooleanQuery of one SHOULD clause per query token). Their dot product is BM25
 * (Lucene ≥ 8 drops the (k1+1) factor; it scales every score equally, so rankings are the same).
 */

/** BM25 term-frequency saturation, Anserini default. */
export const K1 = 0.9;
/** BM25 length normalisation, Anserini default. */
export const B = 0.4;

/**
 * Document weight of a term: `tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))`. `tf` ≥ 0, `dl` = document length in
 * terms (Σ tf), `avgdl` > 0 the collection average. Returns 0 for tf = 0.
 */
export function bm25DocWeight(tf: number, dl: number, avgdl: number, k1 = K1, b = B): number {
  if (tf <= 0) return 0;
  return (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * dl) / avgdl));
}

/**
 * Lucene's BM25 idf: `ln(1 + (N − df + 0.5) / (df + 0.5))`, always > 0 for 0 ≤ df ≤ N. `N` = live documents,
 * `df` = live documents containing the term.
 */
export function bm25Idf(numDocs: number, df: number): number {
  return Math.log(1 + (numDocs - df + 0.5) / (df + 0.5));
}
