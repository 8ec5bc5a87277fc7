/** The load test's RSS readings (load.ts `rssGrowth`): two-point and windowed peaks/means. */
import { describe, expect, it } from 'vitest';
import { rssGrowth } from './load.js';

const series = (mibs: number[]) => mibs.map((mib, atSec) => ({ atSec, mib }));

describe('rssGrowth', () => {
  it('a flat series grows 0% by every reading', () => {
    const g = rssGrowth(series(new Array(61).fill(200)), 10, 60);
    expect([g.twoPointPct, g.peakPct, g.meanPct]).toEqual([0, 0, 0]);
  });

  it('reads the sample at 10 s and the last one; windows are 5-15 s and 50-60 s', () => {
    const mibs = new Array(61).fill(100);
    mibs[10] = 110; // early sample
    mibs[14] = 120; // early window peak
    mibs[3] = 500; // outside both windows
    mibs[55] = 126; // late window peak
    mibs[60] = 99; // end sample
    const g = rssGrowth(series(mibs), 10, 60);
    expect(g.earlyMib).toBe(110);
    expect(g.endMib).toBe(99);
    expect(g.twoPointPct).toBeCloseTo(-10, 6);
    expect(g.earlyPeakMib).toBe(120);
    expect(g.latePeakMib).toBe(126);
    expect(g.peakPct).toBeCloseTo(5, 6);
    expect(g.earlyMeanMib).toBeCloseTo((9 * 100 + 110 + 120) / 11, 6);
  });

  it('a saw-tooth caught low at 10 s and high at 60 s fails the two-point reading but not the windowed one', () => {
    const mibs = Array.from({ length: 61 }, (_, s) => 240 + ((s * 12) % 60)); // 240..288 every 5 s
    mibs[10] = 240;
    mibs[60] = 288;
    const g = rssGrowth(series(mibs), 10, 60);
    expect(g.twoPointPct).toBeGreaterThan(10);
    expect(Math.abs(g.peakPct)).toBeLessThan(10);
    expect(g.runPeakMib).toBe(288);
    expect(g.runPeakPct).toBeCloseTo(20, 6);
  });

  it('a steady leak fails both', () => {
    const g = rssGrowth(series(Array.from({ length: 61 }, (_, s) => 200 + s)), 10, 60);
    expect(g.twoPointPct).toBeGreaterThan(10);
    expect(g.peakPct).toBeGreaterThan(10);
  });
});
