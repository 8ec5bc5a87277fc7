import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildForwardIndex } from './forward-index.js';
import { bm25Weight, bruteForceSearch, buildPostingLists, createExactScratch, taatSearch, taatSearchBm25 } from './exact-search.js';
import { TopK } from '../core/top-k.js';
import { Memtable } from '../segment/memtable.js';
import { IdTopK } from './id-top-k.js';
import { filteredExactSearch } from '../filter/filtered-search.js';
import type { SparseVector } from '../core/sparse-vector.js';

/** fast-check arbitrary: a sparse vector over [0, dim) with weights from a small set (forces ties). */
const vectorArb = (dim: number, maxNnz: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: dim - 1 }), { minLength: 0, maxLength: maxNnz }).chain((ids) =>
    fc.array(fc.constantFrom(0.5, 1, 1.5, 2, 0.25, 3.75), { minLength: ids.length, maxLength: ids.length }).map((ws) => {
      const order = ids.map((_, i) => i).sort((a, b) => ids[a] - ids[b]);
      return { indices: Uint32Array.from(order, (i) => ids[i]), values: Float32Array.from(order, (i) => ws[i]) } as SparseVector;
    }),
  );

function bitsetOf(n: number, ords: number[]): Uint32Array {
  const b = new Uint32Array((n + 31) >>> 5);
  for (const o of ords) b[o >>> 5] |= 1 << (o & 31);
  return b;
}

describe('exact search kernels', () => {
  it('term-at-a-time equals brute force (ords and bit-identical scores), with exclusions', () => {
    fc.assert(
      fc.property(
        fc.array(vectorArb(40, 8), { minLength: 1, maxLength: 60 }),
        vectorArb(45, 6),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (docs, query, k, del) => {
          const f = buildForwardIndex(docs, 40);
          const excluded =
            del.length > 0
              ? bitsetOf(
                  docs.length,
                  del.map((d) => d % docs.length),
                )
              : null;
          const lists = buildPostingLists(f);
          const top = new TopK(k);
          const scratch = createExactScratch(f.numDocs, lists.numTerms);
          const scored = taatSearch(lists, query, excluded, scratch, top);
          const got = top.drain();
          const want = bruteForceSearch(f, query, k, excluded, new Float32Array(64));
          expect(Array.from(got.keys)).toEqual(Array.from(want.ords));
          expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
          expect(scored).toBe(want.docsScored);
          // Scratch is left clean for the next query.
          expect(scratch.mark.every((m) => m === 0)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the memtable returns the same hits as brute force over the same docs', () => {
    fc.assert(
      // Sizes past one 2048-doc chunk so both the chunked inverted index and the brute-force tail are used.
      fc.property(fc.array(vectorArb(30, 6), { minLength: 1, maxLength: 4500 }), vectorArb(30, 5), fc.nat(9), (docs, query, delEvery) => {
        const m = new Memtable();
        // Ids in reverse order of ords to check the id tie rule independently of arrival order.
        const id = (i: number) => `id${String(docs.length - i).padStart(5, '0')}`;
        docs.forEach((v, i) => m.insert({ id: id(i), vector: v }));
        const dead = (i: number) => delEvery > 1 && i % delEvery === 0;
        docs.forEach((_, i) => dead(i) && m.delete(id(i)));
        const top = new IdTopK(10);
        m.search(query, { kind: 'none' }, 1, top);
        const got = top.sorted().map((h) => [h.id, h.score]);
        const all = docs
          .map((v, i) => {
            let s = 0;
            let a = 0;
            let b = 0;
            let hit = false;
            while (a < v.indices.length && b < query.indices.length) {
              if (v.indices[a] === query.indices[b]) {
                s += v.values[a++] * query.values[b++];
                hit = true;
              } else if (v.indices[a] < query.indices[b]) a++;
              else b++;
            }
            return [id(i), Math.fround(s), hit] as const;
          })
          .filter((x, i) => x[2] && !dead(i))
          .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
          .slice(0, 10)
          .map((x) => [x[0], x[1]]);
        expect(got).toEqual(all);
      }),
      {
        numRuns: 25,
        examples: [
          [
            Array.from({ length: 4200 }, (_, i) => ({ indices: Uint32Array.of(i % 30), values: Float32Array.of(1 + (i % 3)) })),
            { indices: Uint32Array.of(1, 2), values: Float32Array.of(1, 1) },
            3,
          ],
        ],
      },
    );
  });
});

describe('memtable lazy chunk indexes', () => {
  it('returns identical hits while chunk indexes are only partly built (8 per search)', () => {
    const m = new Memtable();
    const n = 2048 * 12 + 77;
    for (let i = 0; i < n; i++) {
      const a = i % 97;
      const b = 97 + ((i * 7) % 31);
      m.insert({
        id: `d${String((i * 7919) % n).padStart(6, '0')}`,
        vector: { indices: Uint32Array.of(a, b), values: Float32Array.of(1 + (i % 4), 0.5 + (i % 3)) },
      });
    }
    m.delete('d000123');
    const q = { indices: Uint32Array.of(5, 50, 100, 110), values: Float32Array.of(1, 2, 0.5, 1.5) };
    const run = () => {
      const top = new IdTopK(25);
      const scored = m.search(q, { kind: 'bm25', k1: 0.9, b: 0.4 }, m.sumDl / m.size, top);
      return { scored, hits: top.sorted() };
    };
    const first = run(); // 8 chunks indexed, 4 chunks + tail by merge walk
    const second = run(); // all 12 chunks indexed
    expect(second).toEqual(first);
    expect(first.hits.length).toBe(25);
    expect(first.hits.some((h) => h.id === 'd000123')).toBe(false);
  });
});

describe('bm25 weighting', () => {
  it('matches a hand computation', () => {
    // k1 = 0.9, b = 0.4; doc A: tf(7)=2, tf(9)=1 → dl 3; doc B: tf(7)=1, tf(8)=4, tf(9)=1 → dl 6; avgdl 4.5.
    const k1 = 0.9;
    const b = 0.4;
    const wA7 = (2 * 1.9) / (2 + 0.9 * (1 - 0.4 + (0.4 * 3) / 4.5));
    const wB7 = (1 * 1.9) / (1 + 0.9 * (1 - 0.4 + (0.4 * 6) / 4.5));
    expect(bm25Weight(2, 3, 4.5, k1, b)).toBeCloseTo(wA7, 6);
    expect(wA7).toBeCloseTo(3.8 / 2.78, 12);
    const m = new Memtable();
    m.insert({ id: 'A', vector: { indices: Uint32Array.of(7, 9), values: Float32Array.of(2, 1) } });
    m.insert({ id: 'B', vector: { indices: Uint32Array.of(7, 8, 9), values: Float32Array.of(1, 4, 1) } });
    expect(m.sumDl / m.size).toBe(4.5);
    const top = new IdTopK(5);
    m.search({ indices: Uint32Array.of(7), values: Float32Array.of(2) }, { kind: 'bm25', k1, b }, 4.5, top);
    const hits = top.sorted();
    expect(hits.map((h) => h.id)).toEqual(['A', 'B']);
    expect(hits[0].score).toBeCloseTo(2 * wA7, 5);
    expect(hits[1].score).toBeCloseTo(2 * wB7, 5);
    const wv = m.weightedVector(0, { kind: 'bm25', k1, b }, 4.5);
    expect(wv.values[0]).toBeCloseTo(wA7, 6);
  });
});

describe('taatSearchBm25 (sealed bm25 docs at the avgdl of the search)', () => {
  it('scores every doc bit for bit as the memtable does at the same avgdl, whatever avgdl, and so does the filtered kernel (property)', () => {
    const weighting = { kind: 'bm25', k1: 0.9, b: 0.4 } as const;
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0.5, max: 50, noNaN: true }),
        (docTerms, queryTerms, avgdl) => {
          // Raw term frequencies: a term written n times in a doc has tf n.
          const raws = docTerms.map((ts) => {
            const tf = new Map<number, number>();
            for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
            const indices = Uint32Array.from([...tf.keys()].sort((a, b) => a - b));
            return { indices, values: Float32Array.from(indices, (t) => tf.get(t) ?? 0) };
          });
          const ids = raws.map((_v, i) => `d${String(i).padStart(3, '0')}`);
          const qIdx = Uint32Array.from([...new Set(queryTerms)].sort((a, b) => a - b));
          const q: SparseVector = { indices: qIdx, values: Float32Array.from(qIdx, (t) => 0.25 + (t % 5)) };
          const m = new Memtable();
          raws.forEach((v, i) => m.insert({ id: ids[i], vector: v }));
          const want = new IdTopK(raws.length);
          m.search(q, weighting, avgdl, want);
          const f = buildForwardIndex(raws, 31);
          const dl = Float64Array.from(raws, (v) => v.values.reduce((s, x) => s + x, 0));
          const lists = buildPostingLists(f);
          const top = new TopK(raws.length);
          taatSearchBm25(lists, { tf: lists.values, dl }, { avgdl, k1: 0.9, b: 0.4 }, q, null, createExactScratch(raws.length, 31), top);
          const { keys, scores } = top.drain();
          const expected = want.sorted().map((h) => ({ id: h.id, score: h.score }));
          expect(Array.from(keys, (o, j) => ({ id: ids[o], score: scores[j] }))).toEqual(expected);
          // The selective-filter kernel, every doc accepted, reweighting the forward index's tf the same way.
          const bm25 = { tf: f.values, dl, params: { avgdl, k1: 0.9, b: 0.4 } };
          const all = Uint32Array.from(raws, (_v, o) => o);
          const r = filteredExactSearch(f, q, all, raws.length, new Float32Array(31), new TopK(raws.length), bm25);
          expect(Array.from(r.ords, (o, j) => ({ id: ids[o], score: r.scores[j] }))).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
