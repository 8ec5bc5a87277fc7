/**
 * `POST /v1/collections/{name}/optimize` with `{calibrationQueries}` through `app.inject` on the real service:
 * the 400s (too few, too many, a bad item named by index, items with no known term, text to an `encoder: "none"`
 * collection) and the happy paths (vectors and text), after which the collection reports a calibrated setting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';
import { Rng } from '../src/core/rng.js';

const DIM = 500;
const rng = new Rng(11);
const TERMS = Array.from({ length: DIM }, (_, t) => t);

function randomVector(): { indices: number[]; values: number[] } {
  const indices = rng.sample(TERMS, 5 + rng.int(20)).sort((a, b) => a - b);
  return { indices, values: indices.map(() => 0.1 + rng.int(100) / 50) };
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'river', 'stone', 'cloud', 'forest', 'signal', 'engine', 'garden'];
function randomText(n: number): string {
  return Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]).join(' ');
}

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  const index = { approximateThreshold: 100 };
  const search = { targetRecall: 0.9 };
  expect((await s.call('PUT', '/v1/collections/vec', { encoder: 'none', dim: DIM, index, search })).statusCode).toBe(201);
  const docs = Array.from({ length: 400 }, (_, i) => ({ id: `d${i}`, vector: randomVector() }));
  expect((await s.call('POST', '/v1/collections/vec/documents', { documents: docs })).json().indexed).toBe(400);
  expect((await s.call('PUT', '/v1/collections/lex', { index, search })).statusCode).toBe(201);
  const texts = Array.from({ length: 300 }, (_, i) => ({ id: `t${i}`, text: randomText(8 + rng.int(20)) }));
  expect((await s.call('POST', '/v1/collections/lex/documents', { documents: texts })).json().indexed).toBe(300);
});
afterAll(() => s.close());

const vectors = (n: number) => Array.from({ length: n }, () => ({ vector: randomVector() }));

describe('optimize with calibrationQueries: 400s', () => {
  it('fewer than 16 or more than 1000 items → 400 naming calibrationQueries', async () => {
    const few = await s.call('POST', '/v1/collections/vec/optimize', { calibrationQueries: vectors(15) });
    expect(few.statusCode).toBe(400);
    expect(errorOf(few)).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'calibrationQueries: at least 16 queries' });
    const many = await s.call('POST', '/v1/collections/vec/optimize', { calibrationQueries: vectors(1001) });
    expect(many.statusCode).toBe(400);
    expect(errorOf(many).message).toBe('calibrationQueries: at most 1000 queries');
  });

  it('a bad item → 400 naming calibrationQueries[i]', async () => {
    const cases: [unknown, string][] = [
      [{ vector: { indices: [1, 2], values: [1, -1] } }, 'calibrationQueries[3].vector.values[1]: must be >= 0'],
      [{ query: 'x', vector: { indices: [1], values: [1] } }, 'calibrationQueries[3].query: give exactly one of query or vector'],
      [{}, 'calibrationQueries[3].query: give exactly one of query or vector'],
      [{ vector: { indices: [DIM], values: [1] } }, `calibrationQueries[3].vector`],
      [{ vector: { indices: [4, 4], values: [1, 1] } }, `calibrationQueries[3].vector`],
    ];
    for (const [item, message] of cases) {
      const qs: unknown[] = vectors(20);
      qs[3] = item;
      const res = await s.call('POST', '/v1/collections/vec/optimize', { calibrationQueries: qs });
      expect(res.statusCode, JSON.stringify(item)).toBe(400);
      expect(errorOf(res).message.startsWith(message), `${JSON.stringify(item)}: ${errorOf(res).message}`).toBe(true);
    }
    const unknownField = await s.call('POST', '/v1/collections/vec/optimize', { calibrationQueries: vectors(20), extra: 1 });
    expect(errorOf(unknownField).message).toBe('body: unknown field(s) "extra"');
  });

  it('text to an encoder "none" collection, or too few queries with known terms → 400', async () => {
    const qs: unknown[] = vectors(20);
    qs[0] = { query: 'alpha' };
    const text = await s.call('POST', '/v1/collections/vec/optimize', { calibrationQueries: qs });
    expect(errorOf(text).message).toMatch(/^calibrationQueries\[0\]\.query: this collection has encoder "none"/);
    const unknown = Array.from({ length: 20 }, (_, i) => ({ query: i < 15 ? 'alpha beta' : 'zzzunknown' }));
    const res = await s.call('POST', '/v1/collections/lex/optimize', { calibrationQueries: unknown });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe('calibrationQueries: needs at least 16 queries with terms known to this collection, got 15');
  });
});

describe('optimize with calibrationQueries: 200', () => {
  it('vectors (token maps too) and text rebuild with a calibration; a plain optimize still works', async () => {
    const qs: unknown[] = vectors(31);
    qs.push({ vector: { '1': 0.5, '7': 1.5, nosuchtoken: 1 } });
    const res = await s.call('POST', '/v1/collections/vec/optimize', { calibrationQueries: qs });
    expect(res.statusCode).toBe(200);
    expect(res.json().segments).toBe(1);
    const stats = (await s.call('GET', '/v1/collections/vec')).json().stats;
    expect(stats.documents).toBe(400);
    expect(stats.tuned).not.toBeNull();
    expect(stats.estimatedRecall).toBeGreaterThanOrEqual(0.9);

    const text = await s.call('POST', '/v1/collections/lex/optimize', {
      calibrationQueries: Array.from({ length: 20 }, () => ({ query: randomText(3) })),
    });
    expect(text.statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/lex')).json().stats.tuned).not.toBeNull();
    const hits = (await s.call('POST', '/v1/collections/lex/search', { query: 'alpha river' })).json().hits;
    expect(hits.length).toBe(10);

    expect((await s.call('POST', '/v1/collections/lex/optimize', {})).statusCode).toBe(200);
    expect((await s.call('POST', '/v1/collections/lex/optimize')).statusCode).toBe(200);
  });
});
