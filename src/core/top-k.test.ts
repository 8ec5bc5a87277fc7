import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TopK } from './top-k.js';

describe('TopK', () => {
  it('keeps the k best, ties by key ascending', () => {
    const t = new TopK(3);
    for (const [k, s] of [
      [5, 1],
      [2, 3],
      [9, 3],
      [1, 3],
      [4, 0.5],
      [7, 2],
    ] as const)
      t.push(k, s);
    const { keys, scores } = t.drain();
    expect(Array.from(keys)).toEqual([1, 2, 9]);
    expect(Array.from(scores)).toEqual([3, 3, 3]);
  });

  it('matches a full sort on random input', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), fc.integer({ min: 1, max: 30 }), (raw, k) => {
        const t = new TopK(k);
        raw.forEach((s, i) => t.push(i, s));
        const expected = raw
          .map((s, i) => [i, s] as const)
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, k);
        const got = t.drain();
        expect(Array.from(got.keys)).toEqual(expected.map((e) => e[0]));
      }),
    );
  });

  it('reports the k-th score as threshold only when full', () => {
    const t = new TopK(2);
    t.push(1, 5);
    expect(t.threshold()).toBe(-Infinity);
    t.push(2, 4);
    expect(t.threshold()).toBe(4);
  });
});
