/** Unit tests of the pooling kernels against the literal SPLADE / mean / CLS formulas on random data. */
import { describe, expect, it } from 'vitest';
import { clsPoolInto, l2NormalizeInPlace, maxRowInto, meanPoolInto, pairRowInto, poolLogitsInto, sparsifyRow } from './pooling.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('poolLogitsInto', () => {
  it('equals max_i mask_i * log1p(relu(x_ij)) over the pooled range, per sequence of a batch', () => {
    const r = rng(1);
    const [B, S, V] = [3, 7, 50];
    const logits = Float32Array.from({ length: B * S * V }, () => (r() - 0.6) * 6);
    const ranges = [
      [0, 7],
      [2, 5],
      [3, 3],
    ];
    const scratch = new Float32Array(V);
    for (let b = 0; b < B; b++) {
      const acc = new Float32Array(V);
      poolLogitsInto(logits, b, S, V, ranges[b][0], ranges[b][1], acc, scratch);
      for (let j = 0; j < V; j++) {
        let want = 0;
        for (let i = 0; i < S; i++) {
          const mask = i >= ranges[b][0] && i < ranges[b][1] ? 1 : 0;
          want = Math.max(want, mask * Math.log1p(Math.max(0, logits[(b * S + i) * V + j])));
        }
        expect(acc[j]).toBeCloseTo(want, 6);
      }
    }
  });

  it('max-combines into an existing accumulator (chunk windows)', () => {
    const acc = Float32Array.from([5, 0, 0]);
    poolLogitsInto(Float32Array.from([1, 2, -1]), 0, 1, 3, 0, 1, acc, new Float32Array(3));
    expect(Array.from(acc)).toEqual([5, Math.fround(Math.log1p(2)), 0]);
  });
});

describe('pooled outputs and pairs', () => {
  it('maxRowInto and pairRowInto max-combine and ignore out-of-range ids', () => {
    const acc = new Float32Array(4);
    maxRowInto(Float32Array.from([0, 1, 2, 3, 4, 0, 0, 9]), 1, 4, acc);
    expect(Array.from(acc)).toEqual([4, 0, 0, 9]);
    pairRowInto(Float64Array.from([1, 7, 0]), Float32Array.from([2, 5, 1]), 0, 3, acc);
    expect(Array.from(acc)).toEqual([4, 2, 0, 9]);
  });
});

describe('sparsifyRow', () => {
  it('zeroes special ids, keeps positive weights >= minWeight, then the maxTerms largest (ties: smaller id)', () => {
    const row = Float32Array.from([0.9, 0.5, 0, 0.5, 0.05, 2, 0.7]);
    expect(sparsifyRow(row.slice(), { zeroIds: Uint32Array.from([5]), minWeight: 0, maxTerms: Infinity })).toEqual({
      indices: Uint32Array.from([0, 1, 3, 4, 6]),
      values: Float32Array.from([0.9, 0.5, 0.5, 0.05, 0.7]),
    });
    expect(sparsifyRow(row.slice(), { zeroIds: new Uint32Array(0), minWeight: 0.1, maxTerms: 3 })).toEqual({
      indices: Uint32Array.from([0, 5, 6]),
      values: Float32Array.from([0.9, 2, 0.7]),
    });
    expect(sparsifyRow(row.slice(), { zeroIds: new Uint32Array(0), minWeight: 0.1, maxTerms: 5 }).indices).toEqual(
      Uint32Array.from([0, 1, 3, 5, 6]),
    );
    expect(sparsifyRow(row.slice(), { zeroIds: new Uint32Array(0), minWeight: 0.1, maxTerms: 4 }).indices).toEqual(
      Uint32Array.from([0, 1, 5, 6]),
    );
  });
});

describe('dense pooling', () => {
  it('mean over the first len positions, CLS = position 0, L2 normalisation', () => {
    const [S, H] = [3, 2];
    const hidden = Float32Array.from([9, 9, 9, 9, 9, 9, /* b=1 */ 1, 2, 3, 4, 100, 100]);
    const out = new Float32Array(H);
    meanPoolInto(hidden, 1, S, H, 2, out);
    expect(Array.from(out)).toEqual([2, 3]);
    clsPoolInto(hidden, 1, S, H, out);
    expect(Array.from(out)).toEqual([1, 2]);
    const v = Float32Array.from([3, 4]);
    l2NormalizeInPlace(v);
    expect(v[0]).toBeCloseTo(0.6, 6);
    expect(v[1]).toBeCloseTo(0.8, 6);
    const z = new Float32Array(2);
    l2NormalizeInPlace(z);
    expect(Array.from(z)).toEqual([0, 0]);
  });
});
