/**
 * Half-float scoring rows (half-rows.ts): the f32 → half rounding against a reference, the searcher's half-float
 * ranking against brute force over the half-float scores (with exact f32 scores returned), and the version-1
 * layout (no rows) still read and searched with f32 scores.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { Rng } from '../core/rng.js';
import { buildForwardIndex, scoreDoc } from '../index/forward-index.js';
import { buildSeismicIndex } from './build.js';
import { buildHalfRows, halfBitsOfFloatBits, halfBruteForce, halfTable } from './half-rows.js';
import { SeismicSearcher } from './searcher.js';
import { seismicFromSections, seismicToSections } from './seismic-index.js';
import { randomSparseVectors } from '../../test/support/random-vectors.js';

function vectors(seed: number, n: number, dim: number, maxTerms: number, maxW: number): SparseVector[] {
  return randomSparseVectors(seed, n, dim, maxTerms, (rng) => maxW * (0.02 + 0.98 * rng.next()));
}

/** Reference rounding: nearest half float (ties to even) by exact arithmetic on doubles. */
function refHalf(v: number): number {
  const a = Math.abs(v);
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  if (a >= 65520) return sign | 0x7c00; // ≥ max + half an ulp rounds to Inf
  let e = a < 2 ** -14 ? -14 : Math.floor(Math.log2(a));
  if (e > 15) e = 15;
  const ulp = 2 ** (e - 10);
  let q = a / ulp; // exact: a power-of-two division
  const fl = Math.floor(q);
  const r = q - fl;
  q = r > 0.5 || (r === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  const mag = q * ulp;
  if (mag === 0) return sign;
  if (mag < 2 ** -14) return sign | (mag / 2 ** -24);
  const ee = Math.floor(Math.log2(mag));
  return sign | ((ee + 15) << 10) | (mag / 2 ** (ee - 10) - 1024);
}

describe('half-float rounding', () => {
  it('matches round-to-nearest-even for normals, subnormals, ties and overflow', () => {
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    const tbl = halfTable();
    const rng = new Rng(5);
    const samples = [0, 1, 65504, 65519, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2049, 2051];
    for (let i = 0; i < 20_000; i++) samples.push(2 ** (rng.next() * 50 - 30) * (rng.next() < 0.5 ? -1 : 1));
    for (const v of samples) {
      f[0] = v;
      const x = f[0];
      const h = halfBitsOfFloatBits(bits[0]);
      expect(h, `${x}`).toBe(refHalf(x));
      if (Math.abs(x) >= 2 ** -14 && Math.abs(x) <= 65504) expect(Math.abs(tbl[h] - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -11);
    }
  });

  it('scales the largest weight into the top binade and lays rows out as count + words', () => {
    const fwd = buildForwardIndex(
      [fromIndicesValues([1, 3], [0.5, 3], 8), fromIndicesValues([], [], 8), fromIndicesValues([7], [98_304], 8)],
      8,
    );
    const hr = buildHalfRows(fwd, Uint32Array.of(2, 0));
    expect(hr).not.toBeNull();
    if (hr === null) return;
    // 98,304 = 1.5·2^16 lies in [2^16, 2^17): scale 2^-2 brings it into [2^14, 2^15).
    expect(hr.invScale).toBe(4);
    expect(Array.from(hr.rows).map((w, i) => (i === 0 || i === 3 || i === 4 ? w : w & 0xffff))).toEqual([2, 1, 3, 0, 1, 7]);
    expect(Array.from(hr.postingRows)).toEqual([4, 0]);
    expect(halfTable()[hr.rows[5] >>> 16] * hr.invScale).toBe(98_304);
    expect(buildHalfRows(buildForwardIndex([fromIndicesValues([70_000], [1], 70_001)], 70_001), new Uint32Array(0))).toBeNull();
  });
});

describe('half-float ranking in the searcher', () => {
  it('with nothing pruned, returns brute force over the half-float scores, with exact f32 scores', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 3, max: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(1, 1e-3, 300),
        (seed, n, dim, k, maxW) => {
          // Few distinct weights make near-ties that half floats merge: the case a plain f32 oracle would miss.
          const docs = vectors(seed, n, dim, 10, maxW).map((v) => ({
            indices: v.indices,
            values: v.values.map((x) => (seed % 2 === 0 ? Math.round(x * 64) / 64 + 1e-4 * (x % 1e-3) : x)),
          }));
          const fwd = buildForwardIndex(docs, dim);
          const half = halfBruteForce(fwd);
          expect(half).not.toBeNull();
          if (half === null) return;
          const index = buildSeismicIndex(fwd, IndexBuildConfigSchema.parse({ nPostings: 1_000_000, summaryEnergy: 1, seed }), {
            halfRows: true,
          });
          const s = new SeismicSearcher(fwd, index, { rowsFromDocs: 0 });
          const q = new Float32Array(dim);
          for (const query of vectors(seed + 1, 4, dim, 8, 1)) {
            const got = s.search(query, { k, queryCut: dim, heapFactor: 1e-6, nKnn: 0, excluded: null });
            expect(new Set(got.ords)).toEqual(new Set(half(query, k)));
            for (let i = 0; i < query.indices.length; i++) q[query.indices[i]] = query.values[i];
            got.ords.forEach((o, i) => expect(got.scores[i]).toBe(Math.fround(scoreDoc(fwd, o, q))));
            for (let i = 1; i < got.ords.length; i++) {
              const ok = got.scores[i - 1] > got.scores[i] || (got.scores[i - 1] === got.scores[i] && got.ords[i - 1] < got.ords[i]);
              expect(ok).toBe(true);
            }
            q.fill(0);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("scores a query's first rowsFromDocs candidates in f32: a query that stops before gives the f32 answer", () => {
    const dim = 3000;
    const fwd = buildForwardIndex(vectors(5, 3000, dim, 40, 2), dim);
    const index = buildSeismicIndex(fwd, IndexBuildConfigSchema.parse({ nPostings: 200 }));
    expect(index.halfRows?.normal).toBe(true);
    const f32 = new SeismicSearcher(fwd, index, { halfRows: false });
    const never = new SeismicSearcher(fwd, index, { rowsFromDocs: Number.MAX_SAFE_INTEGER });
    const always = new SeismicSearcher(fwd, index, { rowsFromDocs: 0 });
    const mid = new SeismicSearcher(fwd, index, { rowsFromDocs: 60 });
    const q = new Float32Array(dim);
    let switched = 0;
    for (const query of vectors(6, 40, dim, 20, 1)) {
      const o = { k: 10, queryCut: 5, heapFactor: 0.9, nKnn: 2, excluded: null };
      const want = f32.search(query, o);
      // Under the threshold the searcher is the f32 one, bit for bit.
      expect(never.search(query, o)).toEqual(want);
      const got = mid.search(query, o);
      if (got.docsScored > 60) switched++;
      else expect(got).toEqual(want);
      // Either way every returned score is the exact f32 one.
      for (let i = 0; i < query.indices.length; i++) q[query.indices[i]] = query.values[i];
      for (const r of [got, always.search(query, o)]) r.ords.forEach((d, i) => expect(r.scores[i]).toBe(Math.fround(scoreDoc(fwd, d, q))));
      q.fill(0);
    }
    expect(switched).toBeGreaterThan(0);
  });

  it('reads a version-1 index (no rows) and searches it exactly as f32 scoring does', () => {
    const dim = 200;
    const fwd = buildForwardIndex(vectors(3, 2000, dim, 40, 2), dim);
    const index = buildSeismicIndex(fwd, IndexBuildConfigSchema.parse({ nPostings: 200 }), { halfRows: true });
    expect(buildSeismicIndex(fwd, IndexBuildConfigSchema.parse({ nPostings: 200 }), { halfRows: false }).halfRows).toBeNull();
    expect(buildSeismicIndex(fwd, IndexBuildConfigSchema.parse({ nPostings: 200 })).halfRows?.normal).toBe(true);
    const sections = seismicToSections(index);
    expect(sections['seismic.rows']).toBeDefined();
    const { ['seismic.rows']: _r, ['seismic.postingRows']: _p, ...v1 } = sections;
    const meta = Uint32Array.from(sections['seismic.meta'] as Uint32Array);
    meta[0] = 1;
    meta[4] &= ~4;
    meta[5] = 0;
    const old = seismicFromSections({ ...v1, 'seismic.meta': meta });
    expect(old.halfRows).toBeNull();
    const f32 = new SeismicSearcher(fwd, index, { halfRows: false });
    const fromV1 = new SeismicSearcher(fwd, old);
    for (const query of vectors(4, 30, dim, 20, 1)) {
      const o = { k: 10, queryCut: 3, heapFactor: 0.9, nKnn: 0, excluded: null };
      expect(fromV1.search(query, o)).toEqual(f32.search(query, o));
    }
    const bad = Uint32Array.from(sections['seismic.postingRows'] as Uint32Array);
    bad[0] += 1;
    expect(() => seismicFromSections({ ...sections, 'seismic.postingRows': bad })).toThrow(/postingRows/);
    const short = (sections['seismic.rows'] as Uint32Array).subarray(1);
    expect(() => seismicFromSections({ ...sections, 'seismic.rows': short })).toThrow(/rows/);
    // The "normal halves" flag (meta bit 3): a file written before it reads as not normal (the exact decode); a
    // flagged file with a zero half in a row is refused.
    expect(seismicFromSections(sections).halfRows?.normal).toBe(true);
    const unflagged = Uint32Array.from(sections['seismic.meta'] as Uint32Array);
    unflagged[4] &= ~8;
    expect(seismicFromSections({ ...sections, 'seismic.meta': unflagged }).halfRows?.normal).toBe(false);
    const zeroHalf = Uint32Array.from(sections['seismic.rows'] as Uint32Array);
    zeroHalf[1] &= 0xffff;
    expect(() => seismicFromSections({ ...sections, 'seismic.rows': zeroHalf })).toThrow(/not a normal non-negative/);
    // `checked` (a search worker re-opening bytes the main thread opened): the walks are skipped, lengths are not,
    // and the index is the one the full check gives.
    expect(seismicFromSections({ ...sections, 'seismic.rows': zeroHalf }, true).halfRows?.normal).toBe(true);
    const fewer = (sections['seismic.postingRows'] as Uint32Array).subarray(1);
    expect(() => seismicFromSections({ ...sections, 'seismic.postingRows': fewer }, true)).toThrow(/postingRows length/);
    expect(seismicFromSections(sections, true)).toEqual(seismicFromSections(sections));
  });
});
