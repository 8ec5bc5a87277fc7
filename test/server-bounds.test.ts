/**
 * Issue 12 (bounded resources) at the HTTP edge, through `app.inject` on a real service: the batch-response
 * budget, the collections budget, filter fields on inherited names, failed-auth throttling, the Host check,
 * content types and charsets, Fastify's own errors in our envelope, query-string errors, and no absolute paths
 * in error bodies. Each test is named after what was seen. Real-socket cases (trickled body) are in
 * test/server-bounds-process.test.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { openSpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

const WORDS = 'the of and to in is was for on as with by at from that this are be or an it which has its not but were also can into'.split(
  ' ',
);
const fiftyWords = Array.from({ length: 50 }, (_, i) => `${WORDS[i % WORDS.length]}${i}`).join(' ');

describe('search response budget', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ limits: {} });
    await s.call('PUT', '/v1/collections/c', { metadata: { genre: 'keyword' } });
    const documents = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, text: `${fiftyWords} doc ${i}`, metadata: { genre: 'x' } }));
    expect((await s.call('POST', '/v1/collections/c/documents', { documents })).statusCode).toBe(200);
  });
  afterAll(() => s.close());

  it('450 × {50 words, k 1000, explain, include text} in one batch → 400 naming searches and the limit, not 53 s and a 500', async () => {
    const searches = Array.from({ length: 450 }, () => ({ query: fiftyWords, k: 1000, explain: true, include: ['text'] }));
    const t0 = performance.now();
    const res = await s.call('POST', '/v1/collections/c/search/batch', { searches });
    const ms = performance.now() - t0;
    expect(res.statusCode).toBe(400);
    const e = errorOf(res);
    expect(e.message).toMatch(/^searches: /);
    expect(e.message).toContain('450000 hits');
    expect(e.message).toContain('100000');
    expect(ms).toBeLessThan(5000);
  });

  it('50 such searches (a 248 MB answer on main) → 400 naming searches and the explain-term budget', async () => {
    const searches = Array.from({ length: 50 }, () => ({ query: fiftyWords, k: 1000, explain: true }));
    const e = errorOf(await s.call('POST', '/v1/collections/c/search/batch', { searches }));
    expect(e.statusCode).toBe(400);
    expect(e.message).toMatch(/^searches: .*explain terms.*at most 200000/);
  });

  it('50 searches with k 1000 and include text → 400 naming the included-fields budget', async () => {
    const searches = Array.from({ length: 50 }, () => ({ query: 'doc', k: 1000, include: ['text'] }));
    const e = errorOf(await s.call('POST', '/v1/collections/c/search/batch', { searches }));
    expect(e.message).toMatch(/^searches: .*50000 hits with stored text or metadata.*at most 10000/);
  });

  it('a single search with k 1000 × a 1,024-term vector × explain is bounded too (400 naming k)', async () => {
    const tokens = Object.fromEntries(Array.from({ length: 1024 }, (_, i) => [`t${i}`, 1]));
    const e = errorOf(await s.call('POST', '/v1/collections/c/search', { vector: tokens, k: 1000, explain: true }));
    expect(e.statusCode).toBe(400);
    expect(e.message).toMatch(/^k: .*explain terms.*at most 200000/);
  });

  it('searches within the budget still answer 200', async () => {
    const searches = Array.from({ length: 20 }, () => ({ query: fiftyWords, k: 100, explain: true, include: ['text'] }));
    const res = await s.call('POST', '/v1/collections/c/search/batch', { searches });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { results: unknown[] }).results).toHaveLength(20);
  });

  it('filters on inherited names (toString, constructor, __proto__) passed as declared fields → 400', async () => {
    for (const field of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      const res = await s.call('POST', '/v1/collections/c/search', { query: 'doc', filter: { must: [{ field, eq: 'x' }] } });
      expect(res.statusCode, field).toBe(400);
      expect(errorOf(res).message).toContain('is not a declared metadata field');
    }
    const ok = await s.call('POST', '/v1/collections/c/search', { query: 'doc', filter: { must: [{ field: 'genre', eq: 'x' }] } });
    expect(ok.statusCode).toBe(200);
  });

  it('an unknown query-string parameter was reported as "body: unknown field(s)" → names querystring', async () => {
    const e = errorOf(await s.call('GET', '/v1/collections/c/documents/d1?vectr=true'));
    expect(e.statusCode).toBe(400);
    expect(e.message).toMatch(/^querystring: unknown field/);
  });
});

describe('collections budget', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ limits: { maxCollections: 3 } });
  });
  afterAll(() => s.close());

  it('creating one collection more than SPLADEX_MAX_COLLECTIONS → 409 naming the limit; deleting one frees a slot', async () => {
    for (const n of ['a', 'b', 'c']) expect((await s.call('PUT', `/v1/collections/${n}`, {})).statusCode).toBe(201);
    const e = errorOf(await s.call('PUT', '/v1/collections/d', {}));
    expect(e.statusCode).toBe(409);
    expect(e.message).toBe('collections: at most 3 collections (SPLADEX_MAX_COLLECTIONS); delete one first');
    // Re-creating an existing one is still idempotent at the limit.
    expect((await s.call('PUT', '/v1/collections/a', {})).statusCode).toBe(200);
    expect((await s.call('DELETE', '/v1/collections/b')).statusCode).toBe(204);
    expect((await s.call('PUT', '/v1/collections/d', {})).statusCode).toBe(201);
  });
});

describe('edge hygiene', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      apiKey: 'secret-key',
      authFailMax: 5,
      authFailWindowMs: 60_000,
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
    });
  });
  afterAll(() => s.close());
  const auth = { authorization: 'Bearer secret-key', host: 'localhost' };

  it('failed authentication was never rate-limited → 429 after 5 failures from one address, even with the right key', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await s.call('GET', '/v1/collections', undefined, { authorization: `Bearer guess${i}`, host: 'localhost' });
      expect(r.statusCode).toBe(401);
    }
    const r = await s.call('GET', '/v1/collections', undefined, { authorization: 'Bearer guess6', host: 'localhost' });
    expect(r.statusCode).toBe(429);
    expect(errorOf(r).code).toBe('RATE_LIMITED');
    expect(errorOf(r).message).toContain('at most 5 failed authentications per 60000 ms');
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    const right = await s.call('GET', '/v1/collections', undefined, auth);
    expect(right.statusCode).toBe(429);
  });
});

describe('edge hygiene without an API key', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ allowedHosts: ['localhost', '127.0.0.1', '[::1]'] });
    await s.call('PUT', '/v1/collections/c', {}, { host: 'localhost' });
  });
  afterAll(() => s.close());
  const host = { host: 'localhost' };

  it('with no API key any Host was answered (DNS rebinding) → 421 in the envelope; loopback names pass', async () => {
    const bad = await s.app.inject({ method: 'GET', url: '/v1/collections', headers: { host: 'evil.example:8080' } });
    expect(bad.statusCode).toBe(421);
    expect(errorOf(bad).code).toBe('MISDIRECTED_REQUEST');
    expect(errorOf(bad).message).toBe('host: "evil.example:8080" is not an allowed host (SPLADEX_ALLOWED_HOSTS)');
    for (const h of ['localhost', 'localhost:8080', '127.0.0.1:9', '[::1]:8080']) {
      const ok = await s.app.inject({ method: 'GET', url: '/v1/collections', headers: { host: h } });
      expect(ok.statusCode, h).toBe(200);
    }
  });

  it('a POST with no content type was accepted (simple cross-site request) → 415', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/v1/collections/c/search', headers: host, payload: Buffer.from('{"query":"x"}') });
    expect(r.statusCode).toBe(415);
    const noBody = await s.app.inject({ method: 'POST', url: '/v1/collections/c/optimize', headers: host });
    expect(noBody.statusCode).toBe(415);
    const form = await s.app.inject({
      method: 'PUT',
      url: '/v1/collections/z',
      headers: { ...host, 'content-type': 'text/plain' },
      payload: '{}',
    });
    expect(form.statusCode).toBe(415);
    const withType = await s.app.inject({
      method: 'POST',
      url: '/v1/collections/c/optimize',
      headers: { ...host, 'content-type': 'application/json' },
    });
    expect(withType.statusCode).toBe(200);
  });

  it('a DELETE with a non-JSON body → 415; without a body it is fine', async () => {
    const r = await s.app.inject({
      method: 'DELETE',
      url: '/v1/collections/c/documents/x',
      headers: { ...host, 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(r.statusCode).toBe(415);
    const ok = await s.app.inject({ method: 'DELETE', url: '/v1/collections/c/documents/x', headers: host });
    expect(ok.statusCode).toBe(404);
  });

  it('application/json; charset=utf-16 was parsed as UTF-8 → 415; utf-8 in any case passes', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/collections/c/search',
      headers: { ...host, 'content-type': 'application/json; charset=utf-16' },
      payload: '{"query":"x"}',
    });
    expect(r.statusCode).toBe(415);
    expect(errorOf(r).message).toContain('charset');
    const ok = await s.app.inject({
      method: 'POST',
      url: '/v1/collections/c/search',
      headers: { ...host, 'content-type': 'application/json; charset=UTF-8' },
      payload: '{"query":"x"}',
    });
    expect(ok.statusCode).toBe(200);
  });

  it("Fastify's own errors escaped the envelope: %zz (FST_ERR_BAD_URL) and a 5,000-char id (414) → our envelope", async () => {
    const bad = await s.app.inject({ method: 'GET', url: '/v1/collections/%zz', headers: host });
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).code).toBe('INVALID_ARGUMENT');
    const long = await s.app.inject({ method: 'GET', url: `/v1/collections/c/documents/${'x'.repeat(5000)}`, headers: host });
    expect(long.statusCode).toBe(414);
    expect(errorOf(long).code).toBe('URI_TOO_LONG');
  });

  it('absolute paths appeared in error bodies (encoders/x.. lookup) → none', async () => {
    const r = await s.call('PUT', '/v1/collections/e', { encoder: 'nosuch' }, host);
    expect(r.statusCode).toBe(400);
    expect(r.body).not.toContain(s.dataDir);
    expect(r.body).not.toMatch(/"[^"]*\/(tmp|home|srv|work)\//);
  });

  it('absolute paths appeared in the error field of GET /v1/collections → relative to the data dir', async () => {
    // A collection whose collection.json is damaged is listed with its error; a second service opens that dir.
    const dataDir = path.join(s.dataDir, 'index2');
    await mkdir(path.join(dataDir, 'broken'), { recursive: true });
    await writeFile(path.join(dataDir, 'broken', 'collection.json'), '{not json');
    const logger = pino({ level: 'silent' });
    const service = await openSpladexService({ dataDir, encodersDir: path.join(s.dataDir, 'encoders'), logger });
    const app = await buildApp({ service, logger, dataDir });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/collections' });
      const broken = (res.json() as { collections: { name: string; error?: string }[] }).collections.find((c) => c.name === 'broken');
      expect(broken?.error).toMatch(/CORRUPT_INDEX|INVALID_ARGUMENT|INTERNAL/);
      expect(res.body).not.toContain(s.dataDir);
    } finally {
      await app.close();
      await service.close();
    }
  });
});

describe('%zz before auth', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ apiKey: 'k' });
  });
  afterAll(() => s.close());
  it('%zz in a path answered 400 before the 401 check → 401 first; with the key, 400 in the envelope', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/v1/collections/%zz' });
    expect(r.statusCode).toBe(401);
    expect(errorOf(r).code).toBe('UNAUTHENTICATED');
    const long = await s.app.inject({ method: 'GET', url: `/v1/collections/c/documents/${'x'.repeat(5000)}` });
    expect(long.statusCode).toBe(401);
    const withKey = await s.app.inject({ method: 'GET', url: '/v1/collections/%zz', headers: { authorization: 'Bearer k' } });
    expect(withKey.statusCode).toBe(400);
    expect(errorOf(withKey).message).toMatch(/^path: /);
  });
});
