// BM25 helpers checked against hand-computed numbers.
import { describe, expect, it } from 'vitest';
import { B, K1, bm25DocWeight, bm25Idf } from './bm25.js';

describe('bm25', () => {
  it('uses Anserini defaults', () => {
    expect([K1, B]).toEqual([0.9, 0.4]);
  });
  it('doc weight at average length is tf·1.9/(tf+0.9)', () => {
    expect(bm25DocWeight(1, 100, 100)).toBeCloseTo(1.9 / 1.9, 12);
    expect(bm25DocWeight(3, 50, 50)).toBeCloseTo((3 * 1.9) / 3.9, 12);
  });
  it('doc weight with length normalisation', () => {
    // tf=2, dl=200, avgdl=100: 2·1.9 / (2 + 0.9·(0.6 + 0.8)) = 3.8 / 3.26
    expect(bm25DocWeight(2, 200, 100)).toBeCloseTo(3.8 / 3.26, 12);
    // short doc: tf=1, dl=10, avgdl=100: 1.9 / (1 + 0.9·(0.6+0.04)) = 1.9/1.576
    expect(bm25DocWeight(1, 10, 100)).toBeCloseTo(1.9 / 1.576, 12);
    expect(bm25DocWeight(2, 200, 100, 1.2, 0.75)).toBeCloseTo((2 * 2.2) / (2 + 1.2 * (0.25 + 1.5)), 12);
    expect(bm25DocWeight(0, 10, 10)).toBe(0);
  });
  it('doc weight saturates towards k1+1 and grows with tf', () => {
    expect(bm25DocWeight(1e9, 100, 100)).toBeCloseTo(1.9, 6);
    expect(bm25DocWeight(2, 100, 100)).toBeGreaterThan(bm25DocWeight(1, 100, 100));
  });
  it("idf is Lucene's ln(1 + (N − df + 0.5)/(df + 0.5))", () => {
    expect(bm25Idf(1000, 10)).toBeCloseTo(Math.log(1 + 990.5 / 10.5), 12);
    expect(bm25Idf(5183, 1)).toBeCloseTo(Math.log(1 + 5182.5 / 1.5), 12);
    expect(bm25Idf(10, 10)).toBeCloseTo(Math.log(1 + 0.5 / 10.5), 12);
    expect(bm25Idf(10, 10)).toBeGreaterThan(0);
  });
});
