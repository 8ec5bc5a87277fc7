/**
 * κ-NN graph for Seismic's result expansion: each doc's `nKnn` nearest docs by inner product, found with the index
 * itself (the doc's vector as the query, queryCut 10, heapFactor 0.9, the doc excluded), as in the Seismic
 * follow-up (CIKM 2024). Approximate by construction. Cost: one approximate search per doc, so this is the
 * slowest optional build step (≈ numDocs × query latency).
 * Callers: build.ts when `config.nKnn > 0`.
 */
import type { ForwardIndex } from '../index/forward-index.js';
import { docVector } from '../index/forward-index.js';
import { NO_NEIGHBOUR, type SeismicIndex } from './seismic-index.js';
import { SeismicSearcher } from './searcher.js';

/** Returns `knn` (u32[numDocs·nKnn], best first, NO_NEIGHBOUR padding) for an index built without one. */
export function buildKnnGraph(forward: ForwardIndex, index: SeismicIndex, nKnn: number, onProgress?: (done: number) => void): Uint32Array {
  const n = forward.numDocs;
  const out = new Uint32Array(n * nKnn).fill(NO_NEIGHBOUR);
  const searcher = new SeismicSearcher(forward, { ...index, knnK: 0, knn: new Uint32Array(0) });
  const excluded = new Uint32Array((n + 31) >>> 5);
  for (let d = 0; d < n; d++) {
    excluded[d >>> 5] |= 1 << (d & 31);
    const r = searcher.search(docVector(forward, d), { k: nKnn, queryCut: 10, heapFactor: 0.9, nKnn: 0, excluded });
    excluded[d >>> 5] &= ~(1 << (d & 31));
    out.set(r.ords, d * nKnn);
    if (onProgress && (d & 0x3fff) === 0x3fff) onProgress(d + 1);
  }
  return out;
}
