/**
 * Quantised rows (quantised-rows.ts): the bound never falls below the exact score and stays within the 16-bit
 * step of it; the searcher that filters candidates with it returns exactly what exact candidate scoring returns.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildForwardIndex, scoreDocs } from '../index/forward-index.js';
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { buildSeismicIndex } from './build.js';
import { SeismicSearcher } from './searcher.js';
import { boundDocs, buildQuantisedRows } from './quantised-rows.js';
import { randomSparseVectors } from '../../test/support/random-vectors.js';

function vectors(seed: number, n: number, dim: number, maxTerms: number, spread: number): SparseVector[] {
  // Heavy-tailed weights (up to `spread`× apart inside a doc) stress the per-doc step.
  return randomSparseVectors(seed, n, dim, maxTerms, (rng) => Math.exp(rng.next() * Math.log(spread)) * 0.01);
}

describe('quantised rows', () => {
  it('bound ≥ exact score and within ½·Σq·step·2 of it, for every doc and query', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.constantFrom(2, 100, 1e4), (seed, spread) => {
        const dim = 300;
        const fwd = buildForwardIndex(vectors(seed, 60, dim, 40, spread), dim);
        const qr = buildQuantisedRows(fwd);
        expect(qr).not.toBeNull();
        if (!qr) return;
        const docs = Uint32Array.from({ length: fwd.numDocs }, (_, i) => i);
        const exact = new Float64Array(fwd.numDocs);
        const bound = new Float64Array(fwd.numDocs);
        for (const q of vectors(seed + 1, 5, dim, 30, spread)) {
          const qd = new Float32Array(dim);
          let l1 = 0;
          for (let i = 0; i < q.indices.length; i++) {
            qd[q.indices[i]] = q.values[i];
            l1 += q.values[i];
          }
          scoreDocs(fwd, docs, docs.length, qd, exact);
          boundDocs(fwd.offsets, qr, docs, docs.length, qd, bound);
          for (let d = 0; d < fwd.numDocs; d++) {
            expect(bound[d]).toBeGreaterThanOrEqual(exact[d]);
            expect(bound[d] - exact[d]).toBeLessThanOrEqual(l1 * qr.scales[d] * 1.000001);
          }
        }
      }),
      { numRuns: 50 },
    );
  });

  it('is null for negative values and for term ids past 16 bits', () => {
    expect(buildQuantisedRows({ ...buildForwardIndex([fromIndicesValues([1], [1], 4)], 4), values: Float32Array.of(-1) })).toBeNull();
    expect(buildQuantisedRows(buildForwardIndex([fromIndicesValues([70_000], [1], 70_001)], 70_001))).toBeNull();
  });

  it('the searcher returns the same ords and scores with and without the bound filter', () => {
    const dim = 400;
    const fwd = buildForwardIndex(vectors(11, 3000, dim, 60, 100), dim);
    const queries = vectors(12, 60, dim, 30, 100);
    const index = buildSeismicIndex(fwd, IndexBuildConfigSchema.parse({ nPostings: 300 }));
    const fast = new SeismicSearcher(fwd, index, { quantisedRows: buildQuantisedRows(fwd) });
    const plain = new SeismicSearcher(fwd, index, { halfRows: false });
    let filtered = 0;
    for (const q of queries) {
      for (const [queryCut, heapFactor] of [
        [1, 0.9],
        [5, 0.8],
        [20, 1],
      ]) {
        const o = { k: 10, queryCut, heapFactor, nKnn: 0, excluded: null };
        const a = fast.search(q, o);
        const b = plain.search(q, o);
        expect(Array.from(a.ords)).toEqual(Array.from(b.ords));
        expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
        filtered += a.docsScored - fast.lastExactScored;
      }
    }
    // The filter did reject docs (the test would be vacuous otherwise).
    expect(filtered).toBeGreaterThan(0);
  });
});
