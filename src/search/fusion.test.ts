import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuse, normalizeScores, type FusionCandidate } from './fusion.js';
import { HybridSchema } from '../config/request-schemas.js';

const P = (o: Record<string, unknown> = {}) => HybridSchema.parse(o);

describe('normalizeScores', () => {
  it('minmax maps to [0, 1]', () => {
    expect([...normalizeScores(Float64Array.from([2, 4, 3]), 'minmax')]).toEqual([0, 1, 0.5]);
  });
  it('zscore uses the population sd', () => {
    // mean 3, sd sqrt(2/3)
    const z = normalizeScores(Float64Array.from([2, 4, 3]), 'zscore');
    const sd = Math.sqrt(2 / 3);
    expect(z[0]).toBeCloseTo(-1 / sd, 12);
    expect(z[1]).toBeCloseTo(1 / sd, 12);
    expect(z[2]).toBe(0);
  });
  it('constant scores map to 0 for minmax and zscore (no division by zero)', () => {
    for (const kind of ['minmax', 'zscore'] as const) {
      expect([...normalizeScores(Float64Array.from([0.1, 0.1, 0.1]), kind)]).toEqual([0, 0, 0]);
      expect([...normalizeScores(Float64Array.from([7]), kind)]).toEqual([0]);
    }
  });
  it('missing (NaN) takes the smallest present normalised value', () => {
    expect([...normalizeScores(Float64Array.from([NaN, 1, 3]), 'minmax')]).toEqual([0, 0, 1]);
    expect([...normalizeScores(Float64Array.from([NaN, -2, 5]), 'none')]).toEqual([-2, -2, 5]);
    expect([...normalizeScores(Float64Array.from([NaN, NaN]), 'minmax')]).toEqual([0, 0]);
  });
});

describe('fuse convex', () => {
  const cands: FusionCandidate[] = [
    { id: 'a', sparse: 10, dense: 0.2 },
    { id: 'b', sparse: 6, dense: 0.9 },
    { id: 'c', sparse: 2, dense: 0.5 },
  ];
  it('hand-computed minmax alpha 0.5', () => {
    // sparse norm: a 1, b 0.5, c 0; dense norm: a 0, b 1, c 3/7
    const out = fuse(cands, P({ alpha: 0.5 }));
    expect(out.map((h) => h.id)).toEqual(['b', 'a', 'c']);
    expect(out[0].fused).toBeCloseTo(0.75, 12);
    expect(out[1].fused).toBeCloseTo(0.5, 12);
    expect(out[2].fused).toBeCloseTo(0.5 * (0.3 / 0.7), 12);
  });
  it('alpha 1 is the sparse ranking, alpha 0 the dense ranking', () => {
    expect(fuse(cands, P({ alpha: 1 })).map((h) => h.id)).toEqual(['a', 'b', 'c']);
    expect(fuse(cands, P({ alpha: 0 })).map((h) => h.id)).toEqual(['b', 'c', 'a']);
  });
  it('ties are broken by id ascending', () => {
    const t: FusionCandidate[] = [
      { id: 'z', sparse: 1, dense: 0 },
      { id: 'm', sparse: 0, dense: 1 },
      { id: 'a', sparse: 1, dense: 0 },
    ];
    // alpha 0.5: z 0.5, m 0.5, a 0.5 → all tied
    expect(fuse(t, P({ alpha: 0.5 })).map((h) => h.id)).toEqual(['a', 'm', 'z']);
    expect(fuse(t, P({ alpha: 1 })).map((h) => h.id)).toEqual(['a', 'z', 'm']);
  });
  it('a single candidate fuses to 0 (constant sides)', () => {
    const out = fuse([{ id: 'x', sparse: 3, dense: 0.4 }], P());
    expect(out).toEqual([{ id: 'x', sparse: 3, dense: 0.4, fused: 0 }]);
  });
  it('a constant sparse side lets dense decide', () => {
    const out = fuse(
      [
        { id: 'a', sparse: 5, dense: 0.1 },
        { id: 'b', sparse: 5, dense: 0.3 },
      ],
      P({ alpha: 0.9, normalization: 'zscore' }),
    );
    expect(out.map((h) => h.id)).toEqual(['b', 'a']);
    expect(out[0].fused).toBeCloseTo(0.1, 12);
    expect(out[1].fused).toBeCloseTo(-0.1, 12);
  });
  it('none uses raw scores', () => {
    const out = fuse(cands, P({ alpha: 0.25, normalization: 'none' }));
    expect(out[0]).toMatchObject({ id: 'a', fused: 0.25 * 10 + 0.75 * 0.2 });
  });
  it('a candidate without a dense vector gets the worst dense value', () => {
    const out = fuse(
      [
        { id: 'a', sparse: 1, dense: null },
        { id: 'b', sparse: 1, dense: 0.5 },
        { id: 'c', sparse: 0, dense: 0.9 },
      ],
      P({ alpha: 0 }),
    );
    // a and b both normalise to 0, but at alpha 0 the dense ranking puts the doc that has a vector first.
    expect(out.map((h) => [h.id, h.fused])).toEqual([
      ['c', 1],
      ['b', 0],
      ['a', 0],
    ]);
    // alpha 0.5: a 0.5·1 + 0.5·0, b 0.5·1 + 0.5·0, c 0.5·0 + 0.5·1: a three-way tie, broken by id.
    expect(fuse(out, P({ alpha: 0.5 })).map((h) => [h.id, h.fused])).toEqual([
      ['a', 0.5],
      ['b', 0.5],
      ['c', 0.5],
    ]);
  });
});

describe('fuse rrf', () => {
  it('hand-computed with rrfK 60', () => {
    const out = fuse(
      [
        { id: 'a', sparse: 10, dense: 0.2 },
        { id: 'b', sparse: 6, dense: 0.9 },
        { id: 'c', sparse: 2, dense: 0.5 },
      ],
      P({ method: 'rrf' }),
    );
    // a: 1/61 + 1/63; b: 1/62 + 1/61; c: 1/63 + 1/62
    expect(out.map((h) => h.id)).toEqual(['b', 'a', 'c']);
    expect(out[0].fused).toBeCloseTo(1 / 62 + 1 / 61, 15);
    expect(out[1].fused).toBeCloseTo(1 / 61 + 1 / 63, 15);
    expect(out[2].fused).toBeCloseTo(1 / 63 + 1 / 62, 15);
  });
  it('ranks tied scores by id, missing dense adds nothing', () => {
    const out = fuse(
      [
        { id: 'b', sparse: 1, dense: null },
        { id: 'a', sparse: 1, dense: 0.5 },
      ],
      P({ method: 'rrf', rrfK: 0 }),
    );
    // sparse ranks: a 1, b 2; dense: a 1
    expect(out.map((h) => [h.id, h.fused])).toEqual([
      ['a', 2],
      ['b', 0.5],
    ]);
  });
});

describe('fuse properties', () => {
  const cand = fc.record({
    sparse: fc.float({ min: 0, max: 100, noNaN: true, noDefaultInfinity: true }).map(Math.fround),
    dense: fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }),
  });
  const arb = fc
    .array(cand, { minLength: 1, maxLength: 30 })
    .map((cs) => cs.map((c, i) => ({ id: `d${String(i).padStart(2, '0')}`, ...c })));
  const byScore = (key: 'sparse' | 'dense') => (cs: FusionCandidate[]) =>
    [...cs].sort((x, y) => (y[key] as number) - (x[key] as number) || (x.id < y.id ? -1 : 1)).map((c) => c.id);
  it('alpha 1 / 0 reproduce the sparse / dense ranking for every normalisation', () => {
    fc.assert(
      fc.property(arb, fc.constantFrom('minmax', 'zscore', 'none'), (cs, normalization) => {
        expect(fuse(cs, P({ alpha: 1, normalization })).map((h) => h.id)).toEqual(byScore('sparse')(cs));
        expect(fuse(cs, P({ alpha: 0, normalization })).map((h) => h.id)).toEqual(byScore('dense')(cs));
      }),
    );
  });
});
