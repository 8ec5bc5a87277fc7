import { describe, expect, it } from 'vitest';
import { fitLsa, lsaModelFromArrays, lsaModelToArrays, projectLsa } from './lsa-encoder.js';
import { randomizedSvd, symmetricEigen, type CsrMatrix } from './randomized-svd.js';

const corpus = [
  'The cat sat on the mat and purred at the dog.',
  'Dogs bark loudly at cats and chase them up trees.',
  'Quantum computers use qubits and superposition to factor integers.',
  'Shor algorithm factors integers on a quantum computer exponentially faster.',
  'Photosynthesis converts sunlight water and carbon dioxide into glucose in plants.',
  'Chlorophyll in plant leaves absorbs sunlight for photosynthesis.',
  'The stock market fell as interest rates rose and investors sold shares.',
  'Central banks raise interest rates to fight inflation in the market.',
];

function cos(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('randomized SVD', () => {
  it('recovers the singular values of a small diagonal-ish matrix', () => {
    // A = diag(5, 3, 1) padded to 4 columns, as CSR.
    const a: CsrMatrix = {
      rows: 3,
      cols: 4,
      offsets: Uint32Array.from([0, 1, 2, 3]),
      colIds: Uint32Array.from([0, 1, 2]),
      values: Float32Array.from([5, 3, 1]),
    };
    const svd = randomizedSvd(a, { rank: 2, seed: 1 });
    expect(svd.rank).toBe(2);
    expect(svd.sigma[0]).toBeCloseTo(5, 9);
    expect(svd.sigma[1]).toBeCloseTo(3, 9);
    // V's columns are ±e0 and ±e1.
    expect(Math.abs(svd.v[0 * 2 + 0])).toBeCloseTo(1, 9);
    expect(Math.abs(svd.v[1 * 2 + 1])).toBeCloseTo(1, 9);
  });
  it('Jacobi eigen-decomposition of a 2×2 by hand', () => {
    const { values } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect([...values].sort()).toEqual([expect.closeTo(1, 12), expect.closeTo(3, 12)]);
  });
});

describe('LSA encoder', () => {
  const model = fitLsa(corpus, { dim: 6, minDf: 1, seed: 3 });
  const docs = projectLsa(model, corpus);

  it('projects to unit vectors of the declared dim', () => {
    expect(model.rank).toBe(6);
    for (const v of docs) {
      expect(v.length).toBe(6);
      expect(cos(v, v)).toBeCloseTo(1, 5);
    }
  });

  it("a doc's own text retrieves itself top-1", () => {
    // Full rank (8 docs → 8 components): fold-in gives the rows of U, which are orthonormal.
    const full = fitLsa(corpus, { dim: 8, minDf: 1, seed: 3 });
    const vs = projectLsa(full, corpus);
    vs.forEach((v, i) => {
      const scores = vs.map((d) => cos(v, d));
      const best = scores.indexOf(Math.max(...scores));
      expect(best).toBe(i);
    });
  });

  it('a query lands near its topic', () => {
    const [q] = projectLsa(model, ['interest rates and inflation']);
    const scores = docs.map((d) => cos(q, d));
    const top2 = scores
      .map((s, i) => [s, i])
      .sort((x, y) => y[0] - x[0])
      .slice(0, 2)
      .map((x) => x[1]);
    expect(top2.sort()).toEqual([6, 7]);
  });

  it('pads to dim when the corpus supports fewer components, zero for unknown text', () => {
    const m = fitLsa(corpus.slice(0, 3), { dim: 16, minDf: 1 });
    expect(m.rank).toBeLessThanOrEqual(3);
    const [v, z] = projectLsa(m, [corpus[0], 'zzzz qqqq']);
    expect(v.length).toBe(16);
    expect(cos(v, v)).toBeCloseTo(1, 5);
    expect([...z].every((x) => x === 0)).toBe(true);
  });

  it('is deterministic and survives a round trip through its arrays', () => {
    const again = fitLsa(corpus, { dim: 6, minDf: 1, seed: 3 });
    expect([...again.projection]).toEqual([...model.projection]);
    const arrays = lsaModelToArrays(model);
    const back = lsaModelFromArrays((n) => arrays[n]);
    expect([...projectLsa(back, [corpus[2]])[0]]).toEqual([...docs[2]]);
  });
});

describe('LSA fit in a worker thread', () => {
  it('gives the same model and projections as inline', async () => {
    const { fitAndProjectLsa } = await import('./lsa-fit-runner.js');
    const inline = await fitAndProjectLsa(corpus, { dim: 4, minDf: 1, seed: 9 }, 'inline');
    const worker = await fitAndProjectLsa(corpus, { dim: 4, minDf: 1, seed: 9 }, 'worker');
    expect(worker.model.rank).toBe(4);
    expect([...worker.model.projection]).toEqual([...inline.model.projection]);
    expect([...worker.vectors]).toEqual([...inline.vectors]);
  });
});
