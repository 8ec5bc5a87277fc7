/**
 * API.md "Collections" through `app.inject` on the real service: create (201 / 200 identical / 409 / 400),
 * list, get with stats, delete (204 then 404), optimize, and name validation on every collection route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('PUT /v1/collections/:name', () => {
  it('creates with defaults (201), then is idempotent (200), then conflicts (409)', async () => {
    const created = await s.call('PUT', '/v1/collections/news', {});
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body.name).toBe('news');
    expect(body.config.encoder).toBe('lexical');
    expect(body.config.index.nPostings).toBe(4000);
    expect(body.config.search).toEqual({ k: 10, queryCut: 10, heapFactor: 0.9, targetRecall: null });
    expect(body.stats.documents).toBe(0);

    const again = await s.call('PUT', '/v1/collections/news', { encoder: 'lexical' });
    expect(again.statusCode).toBe(200);
    expect(again.json().name).toBe('news');

    const conflict = await s.call('PUT', '/v1/collections/news', { search: { k: 20 } });
    expect(conflict.statusCode).toBe(409);
    expect(errorOf(conflict)).toMatchObject({ code: 'CONFLICT', error: 'Conflict' });
    expect(conflict.json().message).toContain('news');
  });

  it('accepts a PUT without a body', async () => {
    const res = await s.app.inject({ method: 'PUT', url: '/v1/collections/nobody' });
    expect(res.statusCode).toBe(201);
    expect(res.json().config.encoder).toBe('lexical');
  });

  it('unknown encoder → 400 naming encoder', async () => {
    const res = await s.call('PUT', '/v1/collections/bad-enc', { encoder: 'no-such-model' });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toMatch(/^encoder: .*no-such-model/);
    expect((await s.call('GET', '/v1/collections/bad-enc')).statusCode).toBe(404);
  });

  it('wrong types and unknown fields in the config → 400 naming the field', async () => {
    const a = await s.call('PUT', '/v1/collections/c1', { index: { nPostings: 'many' } });
    expect(a.statusCode).toBe(400);
    expect(errorOf(a).message).toBe('index.nPostings: expected number, got string');
    const b = await s.call('PUT', '/v1/collections/c1', { search: { heapFactor: 2 } });
    expect(b.statusCode).toBe(400);
    expect(errorOf(b).message).toMatch(/^search\.heapFactor: /);
    const c = await s.call('PUT', '/v1/collections/c1', { colour: 'red' });
    expect(c.statusCode).toBe(400);
    expect(errorOf(c).message).toBe('body: unknown field(s) "colour"');
    const d = await s.call('PUT', '/v1/collections/c1', { encoder: 'none' });
    expect(d.statusCode).toBe(400);
    expect(errorOf(d).message).toMatch(/^dim: /);
  });

  it('invalid names → 400 on every collection route', async () => {
    const bad = ['Upper', '-lead', 'a'.repeat(65), 'sp ace', 'dot.name', '%C3%A9'];
    for (const name of bad) {
      const routes: [string, string, unknown?][] = [
        ['PUT', `/v1/collections/${encodeURIComponent(name)}`, {}],
        ['GET', `/v1/collections/${encodeURIComponent(name)}`],
        ['DELETE', `/v1/collections/${encodeURIComponent(name)}`],
        ['POST', `/v1/collections/${encodeURIComponent(name)}/optimize`],
        ['POST', `/v1/collections/${encodeURIComponent(name)}/documents`, { documents: [] }],
        ['GET', `/v1/collections/${encodeURIComponent(name)}/documents/x`],
        ['DELETE', `/v1/collections/${encodeURIComponent(name)}/documents/x`],
        ['POST', `/v1/collections/${encodeURIComponent(name)}/search`, { query: 'x' }],
        ['POST', `/v1/collections/${encodeURIComponent(name)}/search/batch`, { searches: [{ query: 'x' }] }],
      ];
      for (const [method, url, body] of routes) {
        const res = await s.call(method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(400);
        expect(errorOf(res).message).toBe('name: must match ^[a-z0-9][a-z0-9_-]{0,63}$');
      }
    }
    // The longest valid name works.
    const longest = `a${'b'.repeat(63)}`;
    expect((await s.call('PUT', `/v1/collections/${longest}`, {})).statusCode).toBe(201);
    expect((await s.call('DELETE', `/v1/collections/${longest}`)).statusCode).toBe(204);
  });
});

describe('GET, DELETE, optimize', () => {
  it('lists collections with document counts', async () => {
    await s.call('PUT', '/v1/collections/listed', {});
    await s.call('POST', '/v1/collections/listed/documents', {
      documents: [
        { id: 'a', text: 'alpha beta' },
        { id: 'b', text: 'gamma' },
      ],
    });
    const res = await s.call('GET', '/v1/collections');
    expect(res.statusCode).toBe(200);
    const listed = res.json().collections.find((c: { name: string }) => c.name === 'listed');
    expect(listed).toMatchObject({ name: 'listed', documents: 2 });
  });

  it('gets a collection with config and the documented stats', async () => {
    const res = await s.call('GET', '/v1/collections/listed');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.name).toBe('listed');
    expect(body.config.encoder).toBe('lexical');
    for (const key of ['documents', 'deleted', 'segments', 'memtableDocuments', 'nnz', 'avgDocTerms', 'bytes', 'estimatedRecall']) {
      expect(body.stats, key).toHaveProperty(key);
    }
    expect(body.stats.documents).toBe(2);
    expect(body.stats.memtableDocuments).toBe(2);
    expect(body.stats.nnz).toBe(3);
  });

  it('optimize seals the memtable: 200 {segments, tookMs}', async () => {
    const res = await s.call('POST', '/v1/collections/listed/optimize');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.segments).toBe(1);
    expect(typeof body.tookMs).toBe('number');
    const stats = (await s.call('GET', '/v1/collections/listed')).json().stats;
    expect(stats).toMatchObject({ documents: 2, segments: 1, memtableDocuments: 0 });
    // An empty JSON body (a common client habit) is fine too.
    const again = await s.app.inject({
      method: 'POST',
      url: '/v1/collections/listed/optimize',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(again.statusCode).toBe(200);
  });

  it('unknown collection → 404 on get, delete, optimize', async () => {
    for (const [method, url] of [
      ['GET', '/v1/collections/ghost'],
      ['DELETE', '/v1/collections/ghost'],
      ['POST', '/v1/collections/ghost/optimize'],
    ]) {
      const res = await s.call(method, url);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(errorOf(res)).toMatchObject({ code: 'NOT_FOUND', error: 'Not Found' });
      expect(res.json().message).toContain('ghost');
    }
  });

  it('delete → 204 with no body, then 404; the name can be reused', async () => {
    const res = await s.call('DELETE', '/v1/collections/listed');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await s.call('GET', '/v1/collections/listed')).statusCode).toBe(404);
    expect((await s.call('DELETE', '/v1/collections/listed')).statusCode).toBe(404);
    expect((await s.call('PUT', '/v1/collections/listed', {})).statusCode).toBe(201);
    expect((await s.call('GET', '/v1/collections/listed')).json().stats.documents).toBe(0);
  });
});
