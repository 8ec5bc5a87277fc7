/**
 * The recall calibration is visible (issue 16): after optimize with calibrationQueries, GET collection shows the
 * whole calibration table (setting and measured recall per target) although `search.targetRecall` is not set,
 * and a search with `params.targetRecall` reports in `stats.tuned` the queryCut/heapFactor it used, which are the
 * table's row for that target (explicit params still win, and say so).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { startTestServer, type TestServer } from './server-harness.js';

const DIM = 500;
const rng = new Rng(5);
const TERMS = Array.from({ length: DIM }, (_, t) => t);
function randomVector(): { indices: number[]; values: number[] } {
  const indices = rng.sample(TERMS, 5 + rng.int(20)).sort((a, b) => a - b);
  return { indices, values: indices.map(() => 0.1 + rng.int(100) / 50) };
}

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  expect((await s.call('PUT', '/v1/collections/vec', { encoder: 'none', dim: DIM, index: { approximateThreshold: 100 } })).statusCode).toBe(
    201,
  );
  const docs = Array.from({ length: 400 }, (_, i) => ({ id: `d${i}`, vector: randomVector() }));
  expect((await s.call('POST', '/v1/collections/vec/documents', { documents: docs })).json().indexed).toBe(400);
});
afterAll(() => s.close());

type Row = { targetRecall: number; queryCut: number; heapFactor: number; estimatedRecall: number };

describe('calibration visible', () => {
  it('shows no table before a calibration, the table after one, without search.targetRecall', async () => {
    const before = (await s.call('GET', '/v1/collections/vec')).json().stats;
    expect(before.calibration).toBeNull();
    const calibrationQueries = Array.from({ length: 32 }, () => ({ vector: randomVector() }));
    expect((await s.call('POST', '/v1/collections/vec/optimize', { calibrationQueries })).statusCode).toBe(200);
    const stats = (await s.call('GET', '/v1/collections/vec')).json().stats;
    expect(stats.tuned).toBeNull();
    expect(stats.estimatedRecall).toBeNull();
    expect(stats.calibration.documents).toBe(400);
    const rows = stats.calibration.rows as Row[];
    expect(rows.length).toBeGreaterThan(1);
    for (let i = 0; i < rows.length; i++) {
      expect(rows[i].estimatedRecall).toBeGreaterThanOrEqual(0);
      expect(rows[i].estimatedRecall).toBeLessThanOrEqual(1);
      expect(Number.isInteger(rows[i].queryCut)).toBe(true);
      if (i > 0) expect(rows[i].targetRecall).toBeGreaterThan(rows[i - 1].targetRecall);
    }
  });

  it('a search with params.targetRecall reports the calibrated setting it used', async () => {
    const rows = (await s.call('GET', '/v1/collections/vec')).json().stats.calibration.rows as Row[];
    const target = 0.9;
    const row = rows.find((r) => r.targetRecall >= target) ?? rows[rows.length - 1];
    const q = { vector: randomVector(), k: 10 };
    const res = (await s.call('POST', '/v1/collections/vec/search', { ...q, params: { targetRecall: target } })).json();
    expect(res.stats.tuned).toEqual({
      targetRecall: target,
      queryCut: row.queryCut,
      heapFactor: row.heapFactor,
      estimatedRecall: row.estimatedRecall,
      calibrated: true,
    });
    const explicit = (await s.call('POST', '/v1/collections/vec/search', { ...q, params: { targetRecall: target, queryCut: 3 } })).json();
    expect(explicit.stats.tuned).toMatchObject({ queryCut: 3, heapFactor: row.heapFactor, calibrated: false });
    const plain = (await s.call('POST', '/v1/collections/vec/search', q)).json();
    expect(plain.stats.tuned).toBeUndefined();
  });

  it('without a calibration table a target reports the defaults it fell back to', async () => {
    await s.call('PUT', '/v1/collections/small', { encoder: 'none', dim: DIM });
    await s.call('POST', '/v1/collections/small/documents', { documents: [{ id: 'a', vector: randomVector() }] });
    const res = (await s.call('POST', '/v1/collections/small/search', { vector: randomVector(), params: { targetRecall: 0.95 } })).json();
    expect(res.stats.tuned).toEqual({ targetRecall: 0.95, queryCut: 10, heapFactor: 0.9, estimatedRecall: null, calibrated: false });
  });
});
