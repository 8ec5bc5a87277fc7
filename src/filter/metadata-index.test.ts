import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildMetadataIndex,
  clearOrds,
  countBits,
  evaluateFilter,
  matchesFilter,
  readMetadataIndex,
  writeMetadataIndex,
  type MetadataTypes,
} from './metadata-index.js';
import type { FilterInput } from '../config/request-schemas.js';
import { buildForwardIndex } from '../index/forward-index.js';
import { bruteForceSearch, buildPostingLists, createExactScratch, taatSearch } from '../index/exact-search.js';
import { TopK } from '../core/top-k.js';
import { filteredExactSearch } from './filtered-search.js';
import type { SparseVector } from '../core/sparse-vector.js';

const types: MetadataTypes = { lang: 'keyword', tags: 'keyword', year: 'number' };
const docs: (Record<string, unknown> | undefined)[] = [
  { lang: 'en', year: 2019, tags: ['a', 'b'] },
  { lang: 'de', year: 2021, tags: ['b'] },
  { lang: 'en', year: 2024 },
  undefined,
  { lang: 'fr', tags: 'draft', year: [2010, 2022] },
  { lang: 'en', year: 'n/a', other: 1 },
];

function accepted(filter: FilterInput): number[] {
  const idx = buildMetadataIndex(docs, types);
  return [...clearOrds(evaluateFilter(idx, filter, docs.length), docs.length)];
}

describe('evaluateFilter', () => {
  it('eq on keyword, range on number, missing fields fail must', () => {
    expect(accepted({ must: [{ field: 'lang', eq: 'en' }] })).toEqual([0, 2, 5]);
    expect(accepted({ must: [{ field: 'year', gte: 2020, lt: 2025 }] })).toEqual([1, 2, 4]);
    expect(
      accepted({
        must: [
          { field: 'lang', eq: 'en' },
          { field: 'year', gte: 2020 },
        ],
      }),
    ).toEqual([2]);
  });
  it('arrays match when any element matches', () => {
    expect(accepted({ must: [{ field: 'tags', eq: 'b' }] })).toEqual([0, 1]);
    expect(accepted({ must: [{ field: 'tags', in: ['a', 'draft'] }] })).toEqual([0, 4]);
    // one value must satisfy the whole clause: 2010 and 2022 each fail [2015, 2020)
    expect(accepted({ must: [{ field: 'year', gte: 2015, lt: 2020 }] })).toEqual([0]);
  });
  it('a doc missing the field does not match mustNot', () => {
    expect(accepted({ mustNot: [{ field: 'tags', in: ['draft'] }] })).toEqual([0, 1, 2, 3, 5]);
    expect(accepted({ mustNot: [{ field: 'year', lt: 2020 }] })).toEqual([1, 2, 3, 5]);
  });
  it('should: at least one when non-empty', () => {
    expect(
      accepted({
        should: [
          { field: 'lang', eq: 'de' },
          { field: 'year', gt: 2023 },
        ],
      }),
    ).toEqual([1, 2]);
    expect(accepted({ should: [] })).toEqual([0, 1, 2, 3, 4, 5]);
    expect(accepted({})).toEqual([0, 1, 2, 3, 4, 5]);
  });
  it('eq on a number field, unknown values and undeclared fields', () => {
    expect(accepted({ must: [{ field: 'year', eq: 2022 }] })).toEqual([4]);
    expect(accepted({ must: [{ field: 'lang', eq: 'xx' }] })).toEqual([]);
    expect(accepted({ must: [{ field: 'other', eq: 1 }] })).toEqual([]);
  });
  it('clears the bits past numDocs', () => {
    const idx = buildMetadataIndex(docs, types);
    const ex = evaluateFilter(idx, { must: [{ field: 'lang', eq: 'zz' }] }, docs.length);
    expect(ex.length).toBe(1);
    expect(ex[0]).toBe(0b111111);
    expect(countBits(ex, docs.length)).toBe(6);
  });
  it('survives a round trip through its section file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'md-'));
    try {
      const idx = buildMetadataIndex(docs, types);
      await writeMetadataIndex(join(dir, 'metadata'), idx);
      const back = await readMetadataIndex(join(dir, 'metadata'));
      const f: FilterInput = { must: [{ field: 'year', gte: 2020 }], mustNot: [{ field: 'tags', eq: 'draft' }] };
      expect([...evaluateFilter(back, f, docs.length)]).toEqual([...evaluateFilter(idx, f, docs.length)]);
      expect([...clearOrds(evaluateFilter(back, f, docs.length), docs.length)]).toEqual([1, 2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Random metadata + random filters: bitmap evaluation = per-doc matcher, and filtered search = brute force
// with the same filter.
const langs = ['en', 'de', 'fr', 'es'];
const metaArb = fc.option(
  fc.record(
    {
      lang: fc.constantFrom(...langs),
      tags: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 3 }),
      year: fc.oneof(fc.integer({ min: 2000, max: 2010 }), fc.array(fc.integer({ min: 2000, max: 2010 }), { maxLength: 2 })),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);
const clauseArb = fc.oneof(
  fc.record({ field: fc.constant('lang'), eq: fc.constantFrom(...langs) }),
  fc.record({ field: fc.constant('tags'), in: fc.array(fc.constantFrom('a', 'b', 'c', 'x'), { minLength: 1, maxLength: 3 }) }),
  fc.record({ field: fc.constant('year'), gte: fc.integer({ min: 1999, max: 2011 }) }),
  fc.record({ field: fc.constant('year'), lt: fc.integer({ min: 1999, max: 2011 }), gt: fc.integer({ min: 1999, max: 2011 }) }),
);
const filterArb = fc.record(
  {
    must: fc.array(clauseArb, { maxLength: 2 }),
    mustNot: fc.array(clauseArb, { maxLength: 2 }),
    should: fc.array(clauseArb, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const vecArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 15 }), { maxLength: 6 })
  .chain((ids) => fc.array(fc.integer({ min: 1, max: 20 }), { minLength: ids.length, maxLength: ids.length }).map((ws) => ({ ids, ws })))
  .map(({ ids, ws }): SparseVector => {
    const order = ids.map((_, i) => i).sort((a, b) => ids[a] - ids[b]);
    return { indices: Uint32Array.from(order.map((i) => ids[i])), values: Float32Array.from(order.map((i) => ws[i] / 4)) };
  });

describe('filters against the per-doc oracle', () => {
  it('evaluateFilter agrees with matchesFilter', () => {
    fc.assert(
      fc.property(fc.array(metaArb, { maxLength: 70 }), filterArb, (metas, filter) => {
        const idx = buildMetadataIndex(metas, types);
        const acc = [...clearOrds(evaluateFilter(idx, filter, metas.length), metas.length)];
        const want = metas.flatMap((m, d) => (matchesFilter(m, filter, types) ? [d] : []));
        expect(acc).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });

  it('filtered exact search equals brute force over the accepted docs (with deletes)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(metaArb, vecArb, fc.boolean()), { minLength: 1, maxLength: 60 }),
        filterArb,
        vecArb,
        fc.integer({ min: 1, max: 10 }),
        (rows, filter, query, k) => {
          const n = rows.length;
          const f = buildForwardIndex(
            rows.map((r) => r[1]),
            16,
          );
          const idx = buildMetadataIndex(
            rows.map((r) => r[0]),
            types,
          );
          const excluded = evaluateFilter(idx, filter, n);
          rows.forEach((r, d) => {
            if (r[2]) excluded[d >>> 5] |= 1 << (d & 31);
          });
          const got = filteredExactSearch(f, query, clearOrds(excluded, n), k);
          const want = bruteForceSearch(f, query, k, excluded);
          expect([...got.ords]).toEqual([...want.ords]);
          expect([...got.scores]).toEqual([...want.scores]);
          // the non-selective path: the same bitset as the TAAT kernel's `excluded`
          const lists = buildPostingLists(f);
          const top = new TopK(k);
          taatSearch(lists, query, excluded, createExactScratch(n, lists.numTerms), top);
          const taat = top.drain();
          expect([...taat.keys]).toEqual([...want.ords]);
          expect([...taat.scores]).toEqual([...want.scores]);
          // and the oracle by hand: every returned doc passes the filter and is not deleted
          for (const d of got.ords) {
            expect(matchesFilter(rows[d][0], filter, types)).toBe(true);
            expect(rows[d][2]).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
