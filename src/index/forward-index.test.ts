import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildForwardIndex, scoreDoc, scoreDocs } from './forward-index.js';
import type { SparseVector } from '../core/sparse-vector.js';

const DIM = 64;

/** A sparse vector over [0, DIM): sorted unique ids, positive float32 weights (some docs empty). */
const vectorArb = fc
  .uniqueArray(fc.integer({ min: 0, max: DIM - 1 }), { maxLength: 20 })
  .chain((ids) =>
    fc.tuple(
      fc.constant(ids.sort((a, b) => a - b)),
      fc.array(fc.float({ min: Math.fround(0.001), max: 100, noNaN: true }), { minLength: ids.length, maxLength: ids.length }),
    ),
  )
  .map(([ids, vals]): SparseVector => ({ indices: Uint32Array.from(ids), values: Float32Array.from(vals) }));

describe('scoreDocs', () => {
  it('gives every doc the same score as scoreDoc, bit for bit, for any count and order of docs', () => {
    fc.assert(
      fc.property(
        fc.array(vectorArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.float({ min: 0, max: 10, noNaN: true }), { minLength: DIM, maxLength: DIM }),
        fc.array(fc.nat(), { maxLength: 23 }),
        (vectors, q, picks) => {
          const f = buildForwardIndex(vectors, DIM);
          const dense = Float32Array.from(q);
          const docs = Uint32Array.from(picks.map((p) => p % vectors.length));
          const out = new Float64Array(docs.length + 1).fill(-1);
          scoreDocs(f, docs, docs.length, dense, out);
          for (let i = 0; i < docs.length; i++) expect(Object.is(out[i], scoreDoc(f, docs[i], dense))).toBe(true);
          expect(out[docs.length]).toBe(-1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('scores only the first n docs of the buffer', () => {
    const f = buildForwardIndex([{ indices: Uint32Array.of(1), values: Float32Array.of(2) }], DIM);
    const dense = new Float32Array(DIM);
    dense[1] = 3;
    const out = new Float64Array(6).fill(-1);
    scoreDocs(f, Uint32Array.of(0, 0, 0, 0, 0, 0), 5, dense, out);
    expect(Array.from(out)).toEqual([6, 6, 6, 6, 6, -1]);
  });
});
