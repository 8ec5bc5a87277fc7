/** lexicalQueryVector must equal the generic fromPairs construction (count × idf summed per term) it replaces on the search hot path. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromPairs } from '../core/sparse-vector.js';
import { bm25Idf } from '../encoders/lexical/lexical-encoder.js';
import type { Dictionary, TermStats } from '../storage/store-types.js';
import { lexicalQueryVector } from './text-binding.js';

/** Each occurrence of a term adds its idf once (a repeated query term is a repeated SHOULD clause). */
function reference(terms: readonly string[], dict: Dictionary, stats: TermStats) {
  const pairs: [number, number][] = [];
  for (const t of terms) {
    const id = dict.get(t);
    if (id === undefined) continue;
    const df = stats.df(id);
    if (df <= 0) continue;
    pairs.push([id, bm25Idf(stats.numDocs, df)]);
  }
  return fromPairs(pairs, 'sum');
}

function counts(terms: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of terms) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

describe('lexicalQueryVector', () => {
  it('equals fromPairs summing (id, idf) per occurrence: repeats counted, unknown terms, df 0 and df > numDocs dropped, ids sorted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 61, maxLength: 61 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 61, maxLength: 61 }),
        fc.integer({ min: 1, max: 100 }),
        (termNums, dfs, ids, numDocs) => {
          // Terms 50..60 are unknown; the rest map to distinct ids (a dictionary is a bijection).
          const idOf = new Map<string, number>();
          const used = new Set<number>();
          for (let t = 0; t < 50; t++) {
            let id = ids[t];
            while (used.has(id)) id++;
            used.add(id);
            idOf.set(`t${t}`, id);
          }
          const dict: Dictionary = { size: idOf.size, get: (t) => idOf.get(t), getOrAdd: () => 0, term: () => undefined };
          const stats: TermStats = { numDocs, avgdl: 1, df: (id) => dfs[id % 61] };
          const terms = termNums.map((n) => `t${n}`);
          const got = lexicalQueryVector(counts(terms), dict, stats);
          const want = reference(terms, dict, stats);
          expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
          expect(got.values.length).toBe(want.values.length);
          // Repeated double additions vs one multiplication, both rounded to float32: equal to float32 precision.
          for (let i = 0; i < want.values.length; i++) expect(got.values[i]).toBeCloseTo(want.values[i], 4);
        },
      ),
      { numRuns: 300 },
    );
  });
});
