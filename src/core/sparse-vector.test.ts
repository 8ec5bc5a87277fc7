import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromIndicesValues } from './sparse-vector.js';

describe('fromIndicesValues', () => {
  it('sorts, drops zeros and keeps pairs together, with or without the sorted fast path', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 99 }), { maxLength: 30 }), fc.boolean(), (ids, presort) => {
        const list = presort ? [...ids].sort((a, b) => a - b) : ids;
        const values = list.map((id) => (id % 4 === 0 ? 0 : id / 10));
        const v = fromIndicesValues(list, values, 100);
        const expected = list
          .map((id, i) => [id, values[i]] as const)
          .filter(([, w]) => w > 0)
          .sort((a, b) => a[0] - b[0]);
        expect(Array.from(v.indices)).toEqual(expected.map((e) => e[0]));
        expect(Array.from(v.values)).toEqual(expected.map((e) => Math.fround(e[1])));
      }),
    );
  });

  it('rejects duplicates, out-of-range ids and bad weights naming the field', () => {
    expect(() => fromIndicesValues([1, 1], [1, 1], 10)).toThrow(/vector.indices: duplicate term id 1/);
    expect(() => fromIndicesValues([1, 10], [1, 1], 10)).toThrow(/vector.indices\[1\]/);
    expect(() => fromIndicesValues([1, 2], [1, Infinity], 10)).toThrow(/vector.values\[1\]/);
    expect(() => fromIndicesValues([1, 2], [1, -1], 10)).toThrow(/vector.values\[1\]/);
    expect(() => fromIndicesValues([1], [1, 2], 10)).toThrow(/equal|entries/);
  });
});
