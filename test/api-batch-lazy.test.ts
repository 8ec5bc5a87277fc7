/**
 * The batch route reads a `{"searches": [...]}` body search by search as the service runs it (server/lazy-batch.ts):
 * the same answers and the same errors as parsing and validating the body whole first. The oracle for every body
 * here is that whole-body path (parseJsonChunked, then the route schema), which is what the route ran before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchSearchSchema, DEFAULT_LIMITS, searchRequestSchema, type Limits } from '../src/config/request-schemas.js';
import { jsonScanLimitsFor } from '../src/server/body-parsers.js';
import { parseJsonChunked } from '../src/server/json-scan.js';
import { BatchElementRejected, LazySearchBatch } from '../src/server/lazy-batch.js';
import { safeParseForFastify } from '../src/server/validation.js';
import { buildApp } from '../src/server/app.js';
import { pino } from 'pino';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

const LIMITS: Limits = { ...DEFAULT_LIMITS, maxBatchSearches: 4, maxResponseHits: 30 };
const parseOptions = { ...jsonScanLimitsFor(LIMITS), where: 'body' };
const schemas = { body: batchSearchSchema(LIMITS), element: searchRequestSchema(LIMITS), limits: LIMITS };

/** What the whole-body path answers for `text`: the parsed searches, or the error message. */
async function wholeBody(text: string): Promise<{ ok: true; searches: unknown[] } | { ok: false; message: string }> {
  let value: unknown;
  try {
    value = await parseJsonChunked(text, parseOptions);
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  const r = safeParseForFastify(schemas.body, value, '');
  return 'error' in r ? { ok: false, message: r.error.message } : { ok: true, searches: (r.value as { searches: unknown[] }).searches };
}

const fish = '{"query": "fish", "k": 10}';
const birds = '{"query":"birds"}';
const dogs = '{ "vector": {"indices": [], "values": []}, "query": "dogs" }';

describe('LazySearchBatch', () => {
  it('hands out search 0 before a later search is parsed: the invalid search 2 fails only when read', async () => {
    const text = `{"searches": [${fish}, ${birds}, {"query": "x", "k": 5000}]}`;
    const lazy = await LazySearchBatch.from(text, schemas, parseOptions);
    expect(lazy).toBeInstanceOf(LazySearchBatch);
    const batch = lazy as LazySearchBatch;
    expect(batch.length).toBe(3);
    expect(batch.at(0)).toEqual({ query: 'fish', k: 10 });
    expect(batch.at(1)).toEqual({ query: 'birds' });
    expect(() => batch.at(2)).toThrow(BatchElementRejected);
    expect((await batch.rejection())?.message).toBe('searches[2].k: must be <= 1000');
    expect(await wholeBody(text)).toEqual({ ok: false, message: 'searches[2].k: must be <= 1000' });
  });

  it('refuses the search that takes the batch over a response budget, and not the ones before it', async () => {
    const text = `{"searches": [${fish}, ${fish}, ${fish}, ${fish}]}`; // 40 hits asked, 30 allowed
    const batch = (await LazySearchBatch.from(text, schemas, parseOptions)) as LazySearchBatch;
    expect(batch.at(0)).toEqual({ query: 'fish', k: 10 });
    expect(batch.at(1)).toEqual({ query: 'fish', k: 10 });
    expect(batch.at(2)).toEqual({ query: 'fish', k: 10 });
    expect(() => batch.at(3)).toThrow(BatchElementRejected);
    const whole = await wholeBody(text);
    expect(whole.ok).toBe(false);
    expect((await batch.rejection())?.message).toBe((whole as { message: string }).message);
    expect((whole as { message: string }).message).toMatch(/^searches: asks for 40 hits/);
  });

  it('a search read twice is counted once against the budgets', async () => {
    const text = `{"searches": [${fish}, ${fish}, ${fish}]}`; // 30 hits: exactly the budget
    const batch = (await LazySearchBatch.from(text, schemas, parseOptions)) as LazySearchBatch;
    for (let round = 0; round < 2; round++) for (let i = 0; i < 3; i++) expect(batch.at(i)).toEqual({ query: 'fish', k: 10 });
    expect(await batch.rejection()).toBeNull();
  });

  it('a body of any other shape is parsed whole, as before', async () => {
    const others = [
      '{"searches": []}',
      `{"searches": [${fish}], "extra": 1}`,
      `{"searches": [${fish}], "searches": [${birds}]}`,
      `{"searches": [${fish},${fish},${fish},${fish},${fish}]}`,
      `{"other": [${fish}]}`,
      `[${fish}]`,
    ];
    for (const text of others) {
      const r = await LazySearchBatch.from(text, schemas, parseOptions);
      expect(r, text).not.toBeInstanceOf(LazySearchBatch);
      expect(r, text).toEqual(JSON.parse(text));
    }
    // A broken top level is not scanned into pieces either: the whole-body parse reports it.
    await expect(LazySearchBatch.from(`{"searches": [${fish}]} x`, schemas, parseOptions)).rejects.toThrow(/^body: not valid JSON/);
  });
});

describe('POST /v1/collections/:name/search/batch, bodies read search by search', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ limits: { maxBatchSearches: LIMITS.maxBatchSearches, maxResponseHits: LIMITS.maxResponseHits } });
    await s.call('PUT', '/v1/collections/kb', {});
    const documents = [
      { id: 'a', title: 'Cats', text: 'cats purr and cats sleep' },
      { id: 'b', title: 'Dogs', text: 'dogs bark at cats' },
      { id: 'c', title: 'Fish', text: 'fish swim' },
      { id: 'd', title: 'Birds', text: 'birds sing' },
    ];
    expect((await s.call('POST', '/v1/collections/kb/documents', { documents })).json().indexed).toBe(4);
  });
  afterAll(() => s.close());

  const noTook = (r: { took: unknown }) => ({ ...r, took: null });

  it('answers every body as the whole-body path does: the same results, or the same 400 message', async () => {
    const bodies = [
      `{"searches": [${fish}, ${birds}, ${dogs}]}`,
      `  {\n"searches"\t:\n[ ${birds} ,${fish}\n]\n}  `,
      `{"sea\\u0072ches": [${fish}]}`,
      `{"searches": [{"query": "caf\\u00e9 cats"}, ${fish}]}`,
      `{"searches": [{"query": "x", "k": 5000}, ${fish}]}`,
      `{"searches": [${fish}, {"query": "x", "k": 5000}]}`,
      `{"searches": [${fish}, ${birds}, {"query": "x", "unknown": 1}]}`,
      `{"searches": [${fish}, {"query": }, ${birds}]}`,
      `{"searches": [${fish}, 5]}`,
      `{"searches": [${fish}, ${fish}, ${fish}, ${fish}]}`,
      `{"searches": [${fish}], "x": 1}`,
      `{"searches": [${fish}], "searches": [${birds}]}`,
      '{"searches": []}',
      `{"searches": [${fish},${fish},${fish},${fish},${fish}]}`,
      `{"searches": [${fish}]} trailing`,
      `{"searches": [${fish}, {"query": "x", "__proto__": {}}]}`,
      `{"searches": [${fish}, {"query": "x", "k": 1e999}]}`,
    ];
    let valid = 0;
    for (const text of bodies) {
      const expected = await wholeBody(text);
      const res = await s.call('POST', '/v1/collections/kb/search/batch', text);
      if (expected.ok) {
        valid++;
        expect(res.statusCode, text).toBe(200);
        const singles = [];
        for (const q of expected.searches) singles.push(noTook((await s.call('POST', '/v1/collections/kb/search', q)).json()));
        expect(res.json().results.map(noTook), text).toEqual(singles);
      } else {
        expect(res.statusCode, text).toBe(400);
        expect(errorOf(res).message, text).toBe(expected.message);
      }
    }
    expect(valid).toBe(4);
  });

  it('a body error wins over a search error met first, as when the body was validated before any search ran', async () => {
    // Search 0 fails when it runs (a dense vector for a collection without a dense part); search 2 is invalid.
    const failing = '{"query": "fish", "hybrid": {}}';
    const searchError = await s.call('POST', '/v1/collections/kb/search/batch', `{"searches": [${failing}, ${fish}]}`);
    expect(searchError.statusCode).toBe(400);
    expect(errorOf(searchError).message).toMatch(/hybrid/);
    const both = await s.call('POST', '/v1/collections/kb/search/batch', `{"searches": [${failing}, ${fish}, {"query": "x", "k": 0}]}`);
    expect(both.statusCode).toBe(400);
    expect(errorOf(both).message).toBe('searches[2].k: must be >= 1');
    // And over a collection that does not exist (looked up before the first search is read).
    const ghost = await s.call('POST', '/v1/collections/ghost/search/batch', `{"searches": [${fish}, {"query": "x", "k": 0}]}`);
    expect(ghost.statusCode).toBe(400);
    expect(errorOf(ghost).message).toBe('searches[1].k: must be >= 1');
    expect((await s.call('POST', '/v1/collections/ghost/search/batch', `{"searches": [${fish}]}`)).statusCode).toBe(404);
  });

  it('answers UTF-8 JSON bytes of its own length: non-ASCII titles come back whole, as from single searches', async () => {
    await s.call('PUT', '/v1/collections/utf', {});
    const documents = [
      { id: 'é1', title: 'Café ☕ 東京', text: 'coffee in tokyo' },
      { id: 'e2', title: 'Emoji 🐟 fish', text: 'fish emoji coffee' },
    ];
    expect((await s.call('POST', '/v1/collections/utf/documents', { documents })).json().indexed).toBe(2);
    const searches = [{ query: 'coffee', k: 5 }, { query: 'fish' }, { query: 'nothing here' }];
    const res = await s.call('POST', '/v1/collections/utf/search/batch', { searches });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    expect(res.rawPayload.toString('utf8')).toBe(res.body);
    const results = res.json().results;
    expect(results[0].hits.map((h: { title: string }) => h.title).sort()).toEqual(['Café ☕ 東京', 'Emoji 🐟 fish']);
    const singles = [];
    for (const q of searches) singles.push(noTook((await s.call('POST', '/v1/collections/utf/search', q)).json()));
    expect(results.map(noTook)).toEqual(singles);
    // The library's bytes are the JSON of its results, as the route sends them.
    const bytes = await s.service.searchBatchJson('utf', searches);
    expect(JSON.parse(bytes.toString('utf8')).results.map(noTook)).toEqual(singles);
  });

  it('the service starts on a body whose last search is invalid: the searches are read lazily, the answer is the 400', async () => {
    // The same service behind a second app that notes what the route passes to searchBatchJson.
    const seen: unknown[] = [];
    const service = new Proxy(s.service, {
      get(target, prop) {
        if (prop === 'searchBatchJson') {
          return (name: string, reqs: Parameters<typeof target.searchBatchJson>[1]) => {
            seen.push(reqs);
            return target.searchBatchJson(name, reqs);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const app = await buildApp({ service, logger: pino({ level: 'silent' }) });
    try {
      const post = (payload: string) =>
        app.inject({ method: 'POST', url: '/v1/collections/kb/search/batch', headers: { 'content-type': 'application/json' }, payload });
      const bad = await post(`{"searches": [${fish}, ${birds}, {"query": "x", "k": 5000}]}`);
      expect(bad.statusCode).toBe(400);
      expect(errorOf(bad).message).toBe('searches[2].k: must be <= 1000');
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(LazySearchBatch);
      const good = await post(`{"searches": [${fish}, ${birds}]}`);
      expect(good.statusCode).toBe(200);
      expect(good.json().results.map((r: { hits: { id: string }[] }) => r.hits[0].id)).toEqual(['c', 'd']);
      expect(seen[1]).toBeInstanceOf(LazySearchBatch);
      // Another shape goes whole, validated before the service is called (an array of parsed searches).
      expect((await post(`{"searches": [${fish}], "x": 1}`)).statusCode).toBe(400);
      expect(seen).toHaveLength(2);
    } finally {
      await app.close();
    }
  });

  it('a service without searchBatchJson (cluster mode) gets the searches validated whole', async () => {
    const seen: unknown[] = [];
    const service = new Proxy(s.service, {
      get(target, prop) {
        if (prop === 'searchBatchJson') return undefined;
        if (prop === 'searchBatch') {
          return (name: string, reqs: Parameters<typeof target.searchBatch>[1]) => {
            seen.push(reqs);
            return target.searchBatch(name, reqs);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const app = await buildApp({ service, logger: pino({ level: 'silent' }) });
    try {
      const post = (payload: string) =>
        app.inject({ method: 'POST', url: '/v1/collections/kb/search/batch', headers: { 'content-type': 'application/json' }, payload });
      const good = await post(`{"searches": [${fish}, ${birds}]}`);
      expect(good.statusCode).toBe(200);
      expect(good.json().results.map((r: { hits: { id: string }[] }) => r.hits[0].id)).toEqual(['c', 'd']);
      expect(seen).toEqual([[{ query: 'fish', k: 10 }, { query: 'birds' }]]);
      const bad = await post(`{"searches": [${fish}, {"query": "x", "k": 5000}]}`);
      expect(bad.statusCode).toBe(400);
      expect(errorOf(bad).message).toBe('searches[1].k: must be <= 1000');
      expect(seen).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
