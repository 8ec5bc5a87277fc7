/** toLocalQuery with the dense table (buildLocalMap) gives what the binary search gives; huge dims get no table. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildLocalMap, toLocalQuery } from './term-remap.js';
import { fromIndicesValues, vectorScratch } from '../core/sparse-vector.js';

describe('toLocalQuery', () => {
  it('maps a query the same with and without the dense table and into a reused scratch, dropping terms the segment lacks', () => {
    // One scratch for every run, from one entry: it grows, and a longer query before never leaks into a shorter one.
    const scratch = vectorScratch(1);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 6000 }), { maxLength: 80 }),
        (segTerms, qTerms) => {
          const terms = Uint32Array.from(segTerms.sort((a, b) => a - b));
          const ids = qTerms.sort((a, b) => a - b);
          const q = fromIndicesValues(
            ids,
            ids.map((t) => (t % 7) + 0.5),
            10_000,
          );
          const map = buildLocalMap(terms);
          expect(map).not.toBeNull();
          const a = toLocalQuery(terms, q, map);
          const b = toLocalQuery(terms, q, null);
          expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
          expect(Array.from(a.values)).toEqual(Array.from(b.values));
          const c = toLocalQuery(terms, q, map, scratch);
          expect(c.indices.buffer).toBe(scratch.ids.buffer);
          expect(Array.from(c.indices)).toEqual(Array.from(a.indices));
          expect(Array.from(c.values)).toEqual(Array.from(a.values));
          const have = new Set(segTerms);
          expect(a.indices.length).toBe(ids.filter((t) => have.has(t)).length);
          for (const l of a.indices) expect(have.has(terms[l])).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('builds no table when the largest term id dwarfs the term count (huge-dim vectors-only collections)', () => {
    expect(buildLocalMap(Uint32Array.from([3, 900_000_000]))).toBeNull();
    expect(buildLocalMap(new Uint32Array(0))).not.toBeNull();
  });
});
