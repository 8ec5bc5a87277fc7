/**
 * Scoped API keys (SPLADEX_API_KEYS) and CORS (SPLADEX_CORS_ORIGINS), through app.inject on a real service
 * (issue 16, acceptance 4): a read-only key searches, reads and counts but every write answers 403 FORBIDDEN; a
 * read-write key and the single SPLADEX_API_KEY write; a preflight from an allowed origin is answered 204 with the
 * CORS headers before auth (it carries no key), from another origin 403 without them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv, parseApiKeys } from '../src/config/env.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const RO = { authorization: 'Bearer read-key-1' };
const RW = { authorization: 'Bearer write-key-2' };

describe('SPLADEX_API_KEYS parsing', () => {
  it('reads ro:/rw: entries and keeps SPLADEX_API_KEY as read-write', () => {
    expect(parseApiKeys(' ro:a , rw:b:c ,', 'single')).toEqual([
      { key: 'single', scope: 'write' },
      { key: 'a', scope: 'read' },
      { key: 'b:c', scope: 'write' },
    ]);
    expect(loadEnv({ SPLADEX_API_KEYS: 'ro:x' }).apiKeys).toEqual([{ key: 'x', scope: 'read' }]);
    expect(loadEnv({}).apiKeys).toEqual([]);
  });

  it('refuses an entry without a scope, without echoing the key', () => {
    expect(() => parseApiKeys('ro:a,secretvalue', undefined)).toThrow('SPLADEX_API_KEYS: entry 2 must be "ro:<key>" or "rw:<key>"');
    expect(() => parseApiKeys('ro:', undefined)).toThrow('entry 1');
  });

  it('parses SPLADEX_CORS_ORIGINS and the snapshot dir default', () => {
    expect(loadEnv({}).corsOrigins).toBeUndefined();
    expect(loadEnv({ SPLADEX_CORS_ORIGINS: ' ' }).corsOrigins).toBeUndefined();
    expect(loadEnv({ SPLADEX_CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
    expect(loadEnv({ SPLADEX_DATA_DIR: '/d' }).snapshotDir).toBe('/d/.snapshots');
    expect(loadEnv({ SPLADEX_SNAPSHOT_DIR: '/s' }).snapshotDir).toBe('/s');
  });
});

describe('scoped keys', () => {
  it('a read-only key can search and read but cannot write (403 FORBIDDEN)', async () => {
    s = await startTestServer({
      apiKeys: [
        { key: 'read-key-1', scope: 'read' },
        { key: 'write-key-2', scope: 'write' },
      ],
    });
    expect((await s.call('PUT', '/v1/collections/c', {}, RW)).statusCode).toBe(201);
    const docs = { documents: [{ id: 'a', text: 'otters swim in rivers' }] };
    expect((await s.call('POST', '/v1/collections/c/documents', docs, RW)).statusCode).toBe(200);

    const search = await s.call('POST', '/v1/collections/c/search', { query: 'otters' }, RO);
    expect(search.statusCode).toBe(200);
    expect(search.json().hits.map((h: { id: string }) => h.id)).toEqual(['a']);
    expect((await s.call('POST', '/v1/collections/c/search/batch', { searches: [{ query: 'otters' }] }, RO)).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/c/documents/a', undefined, RO)).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections', undefined, RO)).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/c', undefined, RO)).statusCode).toBe(200);
    expect((await s.call('POST', '/v1/encode', { texts: ['otters'] }, RO)).statusCode).toBe(200);

    expect((await s.call('PUT', '/v1/aliases/live', { collection: 'c' }, RW)).statusCode).toBe(200);
    const snap = await s.call('POST', '/v1/collections/c/snapshots', undefined, RW);
    expect(snap.statusCode).toBe(201);
    expect((await s.call('GET', '/v1/aliases', undefined, RO)).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/c/snapshots', undefined, RO)).statusCode).toBe(200);
    expect((await s.call('POST', '/v1/collections/live/search', { query: 'otters' }, RO)).statusCode).toBe(200);
    expect((await s.call('POST', '/v1/collections/c/count', {}, RO)).json()).toEqual({ count: 1 });
    expect((await s.call('GET', '/v1/collections/c/documents?limit=10', undefined, RO)).statusCode).toBe(200);

    const writes: [string, string, unknown][] = [
      ['PUT', '/v1/aliases/other', { collection: 'c' }],
      ['DELETE', '/v1/aliases/live', undefined],
      ['POST', '/v1/collections/c/snapshots', undefined],
      ['POST', '/v1/collections/c/restore', { snapshot: snap.json().id, as: 'copy' }],
      ['POST', '/v1/collections/c/documents', docs],
      ['POST', '/v1/collections/c/documents/delete', { ids: ['a'] }],
      ['PATCH', '/v1/collections/c/documents/a', { metadata: { x: 1 } }],
      ['DELETE', '/v1/collections/c/documents/a', undefined],
      ['PUT', '/v1/collections/d', {}],
      ['DELETE', '/v1/collections/c', undefined],
      ['POST', '/v1/collections/c/optimize', {}],
    ];
    for (const [method, url, body] of writes) {
      const res = await s.call(method, url, body, RO);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(errorOf(res).code).toBe('FORBIDDEN');
      expect(errorOf(res).message).toMatch(/^authorization: this API key is read-only; /);
    }
    // Nothing was written: the document is still there, no collection d.
    expect((await s.call('GET', '/v1/collections/c/documents/a', undefined, RW)).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/d', undefined, RW)).statusCode).toBe(404);
    expect((await s.call('GET', '/v1/collections/copy', undefined, RW)).statusCode).toBe(404);
    expect((await s.call('GET', '/v1/aliases', undefined, RW)).json()).toEqual({ aliases: [{ alias: 'live', collection: 'c' }] });
    // A wrong key is still 401, an unknown route with the read key 404.
    expect((await s.call('GET', '/v1/collections', undefined, { authorization: 'Bearer nope' })).statusCode).toBe(401);
    expect((await s.call('POST', '/v1/nothing-here', {}, RO)).statusCode).toBe(404);
    // The read-write key writes.
    expect((await s.call('DELETE', '/v1/collections/c/documents/a', undefined, RW)).statusCode).toBe(204);
  });

  it('the single apiKey keeps working as a read-write key', async () => {
    s = await startTestServer({ apiKey: 'only-key' });
    expect((await s.call('PUT', '/v1/collections/c', {}, { authorization: 'Bearer only-key' })).statusCode).toBe(201);
    expect((await s.call('PUT', '/v1/collections/c', {})).statusCode).toBe(401);
  });
});

describe('CORS', () => {
  const preflight = (origin: string, extra: Record<string, string> = {}) =>
    s!.app.inject({
      method: 'OPTIONS',
      url: '/v1/collections/c/search',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
        ...extra,
      },
    });

  it('answers a preflight from an allowed origin before auth and refuses another origin', async () => {
    s = await startTestServer({ apiKey: 'k', corsOrigins: ['https://app.example'], allowedHosts: ['localhost'] });
    const ok = await preflight('https://app.example', { host: 'localhost' });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(ok.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(ok.headers['access-control-allow-headers'])).toContain('authorization');

    const bad = await preflight('https://evil.example', { host: 'localhost' });
    expect(bad.statusCode).toBe(403);
    expect(errorOf(bad).code).toBe('FORBIDDEN');
    expect(errorOf(bad).message).toBe('origin: "https://evil.example" is not an allowed origin (SPLADEX_CORS_ORIGINS)');
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();

    // The Host check still runs first (a rebinding page cannot preflight its way in).
    expect((await preflight('https://app.example', { host: 'evil.example' })).statusCode).toBe(421);

    // A real request from the allowed origin carries the header; from another origin it does not.
    await s.call('PUT', '/v1/collections/c', {}, { authorization: 'Bearer k', host: 'localhost' });
    const real = await s.call(
      'POST',
      '/v1/collections/c/search',
      { query: 'x' },
      { authorization: 'Bearer k', origin: 'https://app.example', host: 'localhost' },
    );
    expect(real.statusCode).toBe(200);
    expect(real.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(real.headers['access-control-expose-headers']).toContain('x-request-id');
    const other = await s.call(
      'POST',
      '/v1/collections/c/search',
      { query: 'x' },
      { authorization: 'Bearer k', origin: 'https://evil.example', host: 'localhost' },
    );
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('is off by default: no CORS headers, OPTIONS is not answered as a preflight', async () => {
    s = await startTestServer();
    const res = await preflight('https://app.example');
    expect(res.statusCode).not.toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('"*" allows any origin', async () => {
    s = await startTestServer({ corsOrigins: ['*'] });
    const res = await preflight('https://any.example');
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});
