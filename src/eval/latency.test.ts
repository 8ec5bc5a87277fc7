import { describe, expect, it } from 'vitest';
import { latencySummary } from './latency.js';

describe('latencySummary', () => {
  it('gives the mean and nearest-rank p50/p99, whatever the input order', () => {
    const xs = Array.from({ length: 200 }, (_, i) => 200 - i); // 200 .. 1
    expect(latencySummary(xs)).toEqual({ mean: 100.5, p50: 100, p99: 198 });
    expect(latencySummary([3, 1, 2])).toEqual({ mean: 2, p50: 2, p99: 3 });
    expect(latencySummary([7])).toEqual({ mean: 7, p50: 7, p99: 7 });
  });

  it('is all zeros for an empty sample and leaves its input unsorted', () => {
    expect(latencySummary([])).toEqual({ mean: 0, p50: 0, p99: 0 });
    const xs = [5, 1, 4];
    latencySummary(xs);
    expect(xs).toEqual([5, 1, 4]);
  });
});
