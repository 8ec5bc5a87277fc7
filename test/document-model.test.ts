/**
 * The document model (src/search/document-input.ts), through the real service and `app.inject`: each case of
 * issue 11 items 1, 7, 8, 10 as it was seen, plus the per-document metadata limits of issue 12 item 5. The
 * cross-door agreement on a real corpus is test/door-conformance.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/config/env.js';
import { openSpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { startTestServer, type TestServer } from './server-harness.js';

const DATA = process.env.SPLADEX_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data');
const TOY = join(DATA, 'seismic-toy', 'documents.jsonl');

let s: TestServer;
const docs = (name: string, documents: unknown[]) => s.call('POST', `/v1/collections/${name}/documents`, { documents });
const count = async (name: string) => (await s.call('GET', `/v1/collections/${name}`)).json().stats.documents as number;
const ids = (res: { json(): { hits: { id: string }[] } }) => res.json().hits.map((h) => h.id);

beforeAll(async () => {
  s = await startTestServer();
  expect((await s.call('PUT', '/v1/collections/lex', { metadata: { year: 'number', lang: 'keyword' } })).statusCode).toBe(201);
  expect((await s.call('PUT', '/v1/collections/vec', { encoder: 'none', dim: 30522 })).statusCode).toBe(201);
});
afterAll(() => s.close());

describe('issue 11.1: empty titles drop the text', () => {
  it('a document with title "" is indexed from its text and found, over REST JSON and NDJSON', async () => {
    expect((await docs('lex', [{ id: 'a', title: '', text: 'otters swim fast' }])).json()).toEqual({ indexed: 1, errors: [] });
    const nd = '{"_id":"b","title":"","text":"beavers build dams"}\n';
    expect((await s.call('POST', '/v1/collections/lex/documents', nd, { 'content-type': 'application/x-ndjson' })).json()).toEqual({
      indexed: 1,
      errors: [],
    });
    expect(ids(await s.call('POST', '/v1/collections/lex/search', { query: 'otters' }))).toEqual(['a']);
    expect(ids(await s.call('POST', '/v1/collections/lex/search', { query: 'beavers dams' }))).toEqual(['b']);
    // Absent, not stored as "".
    expect((await s.call('GET', '/v1/collections/lex/documents/a')).json()).toEqual({ id: 'a', text: 'otters swim fast' });
    // A text of "" with a title is the title alone; both empty is no content.
    const r = (
      await docs('lex', [
        { id: 'c', title: 'herons wade', text: '' },
        { id: 'd', title: '', text: '' },
      ])
    ).json();
    expect(r.indexed).toBe(1);
    expect(r.errors).toEqual([
      { index: 1, id: 'd', code: 'INVALID_ARGUMENT', message: 'documents[1].text: a document needs text (or title) or a vector' },
    ]);
    expect(ids(await s.call('POST', '/v1/collections/lex/search', { query: 'herons' }))).toEqual(['c']);
  });
});

describe('issue 11.7: lone surrogates corrupt collections', () => {
  it('ids "\\ud800", "\\udbff" are refused naming the field; "\\ufffd" and "ok" survive a restart', async () => {
    const dir = (await import('node:fs/promises')).mkdtemp;
    const dataDir = await dir(join((await import('node:os')).tmpdir(), 'spladex-surrogate-'));
    const open = async () => {
      const service = await openSpladexService({ dataDir, encodersDir: dataDir, logger: pino({ level: 'silent' }) });
      const app = await buildApp({ service, logger: pino({ level: 'silent' }) });
      const call = (method: string, url: string, body?: unknown) =>
        app.inject({
          method: method as 'GET',
          url,
          headers: { 'content-type': 'application/json' },
          payload: body === undefined ? undefined : JSON.stringify(body),
        });
      return {
        call,
        close: async () => {
          await app.close();
          await service.close();
        },
      };
    };
    let a = await open();
    await a.call('PUT', '/v1/collections/c', {});
    const up = (
      await a.call('POST', '/v1/collections/c/documents', {
        documents: ['\ud800', '\udbff', '\ufffd', 'ok'].map((id) => ({ id, text: 'same text' })),
      })
    ).json();
    expect(up.indexed).toBe(2);
    expect(up.errors.map((e: { message: string }) => e.message)).toEqual([
      'documents[0].id: must be well-formed Unicode (no lone surrogate code units)',
      'documents[1].id: must be well-formed Unicode (no lone surrogate code units)',
    ]);
    // Token maps with lone surrogates in a vectors-only collection: refused, so optimize + restart stay healthy.
    await a.call('PUT', '/v1/collections/v', { encoder: 'none', dim: 100 });
    const vr = (
      await a.call('POST', '/v1/collections/v/documents', {
        documents: [
          { id: 'x', vector: { '\ud800': 1 } },
          { id: 'y', vector: { '\udbff': 2 } },
          { id: 'z', vector: { ok: 1 } },
        ],
      })
    ).json();
    expect(vr.indexed).toBe(1);
    expect(vr.errors.map((e: { message: string }) => e.message)).toEqual([
      'documents[0].vector: token "\\ud800" must be well-formed Unicode (no lone surrogate code units)',
      'documents[1].vector: token "\\udbff" must be well-formed Unicode (no lone surrogate code units)',
    ]);
    expect((await a.call('POST', '/v1/collections/v/optimize')).statusCode).toBe(200);
    await a.close();
    a = await open();
    expect((await a.call('GET', '/v1/collections/c')).json().stats.documents).toBe(2);
    expect((await a.call('GET', `/v1/collections/c/documents/${encodeURIComponent('\ufffd')}`)).statusCode).toBe(200);
    expect((await a.call('GET', '/v1/collections/v')).json().stats.documents).toBe(1);
    expect(ids(await a.call('POST', '/v1/collections/v/search', { vector: { ok: 1 } }))).toEqual(['z']);
    await a.close();
  });

  it('title, text, metadata keys and values, query text, filter values and collection strings are refused too', async () => {
    const bad = '\ud83d';
    const r = (
      await docs('lex', [
        { id: 't', title: `x${bad}` },
        { id: 'u', text: bad },
        { id: 'm', text: 'ok', metadata: { [bad]: 'v' } },
        { id: 'n', text: 'ok', metadata: { tags: ['fine', bad] } },
      ])
    ).json();
    expect(r.indexed).toBe(0);
    expect(r.errors.map((e: { message: string }) => e.message.split(':')[0])).toEqual([
      'documents[0].title',
      'documents[1].text',
      'documents[2].metadata."\\ud83d" (key)',
      'documents[3].metadata.tags[1]',
    ]);
    const q = await s.call('POST', '/v1/collections/lex/search', { query: `otters ${bad}` });
    expect(q.statusCode).toBe(400);
    expect(q.json().message).toMatch(/^query: must be well-formed Unicode/);
    const f = await s.call('POST', '/v1/collections/lex/search', { query: 'otters', filter: { must: [{ field: 'lang', eq: bad }] } });
    expect(f.statusCode).toBe(400);
    expect(f.json().message).toMatch(/^filter\.must\[0\]\.eq: must be well-formed Unicode/);
    // The library entry (no request schema in front) refuses them the same way.
    await expect(s.service.search('lex', { query: bad })).rejects.toThrow(/^query: must be well-formed Unicode/);
    await expect(s.service.search('lex', { query: 'otters', filter: { must: [{ field: 'lang', in: ['en', bad] }] } })).rejects.toThrow(
      /^filter\.must\[0\]: values must be well-formed Unicode/,
    );
    const c = await s.call('PUT', '/v1/collections/badconf', { metadata: { [bad]: 'keyword' } });
    expect(c.statusCode).toBe(400);
    expect(c.json().message).toMatch(/^metadata\."\\ud83d" \(key\): must be well-formed Unicode/);
  });
});

describe('issue 11.8: real SPLADE tokens are rejected', () => {
  it('token maps holding the wordpieces "values" and "indices" are token maps; {indices, values} arrays stay the indices form', async () => {
    const r = (
      await docs('vec', [
        { id: 'w1', vector: { values: 1.5, indices: 0.5, otter: 2 } },
        { id: 'w2', vector: { values: 0.25 } },
        { id: 'w3', vector: { indices: [1, 2], values: [0.5, 0.5] } },
      ])
    ).json();
    expect(r).toEqual({ indexed: 3, errors: [] });
    expect((await s.call('GET', '/v1/collections/vec/documents/w1?vector=true')).json().vector.tokens).toEqual({
      values: 1.5,
      indices: 0.5,
      otter: 2,
    });
    expect(ids(await s.call('POST', '/v1/collections/vec/search', { vector: { values: 1 } }))).toEqual(['w1', 'w2']);
    const mixed = (await docs('vec', [{ id: 'w4', vector: { indices: [1], values: [1], extra: 1 } }])).json();
    expect(mixed.errors[0].message).toBe('documents[0].vector: unknown field(s) "extra"');
  });

  it.skipIf(!existsSync(TOY))('the Seismic toy set (real SPLADE vectors, numeric ids, "content") indexes whole over REST', async () => {
    const lines = readFileSync(TOY, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const toy = lines.map((l) => JSON.parse(l) as { id: number; content: string; vector: Record<string, number> });
    expect(toy.some((d) => 'values' in d.vector)).toBe(true);
    await s.call('PUT', '/v1/collections/toy', { encoder: 'none', dim: 30522 });
    const nd = (
      await s.call('POST', '/v1/collections/toy/documents', `${lines.join('\n')}\n`, { 'content-type': 'application/x-ndjson' })
    ).json();
    expect(nd).toEqual({ indexed: toy.length, errors: [] });
    const withValues = toy.find((d) => 'values' in d.vector) as (typeof toy)[number];
    const got = (await s.call('GET', `/v1/collections/toy/documents/${withValues.id}?vector=true`)).json();
    expect(got.text).toBe(withValues.content);
    expect(Object.keys(got.vector.tokens).sort()).toEqual(Object.keys(withValues.vector).sort());
  });
});

describe('issue 11.10: the doors disagree', () => {
  it('NDJSON accepts BEIR `_id` lines; integer ids become decimal strings, string ids stay byte for byte', async () => {
    const nd = [
      '{"_id":"beir-1","title":"T","text":"kingfishers dive"}',
      '{"_id":7,"text":"sparrows chirp"}',
      '{"id":"007","text":"sparrows nest"}',
    ].join('\n');
    expect((await s.call('POST', '/v1/collections/lex/documents', nd, { 'content-type': 'application/x-ndjson' })).json()).toEqual({
      indexed: 3,
      errors: [],
    });
    expect((await docs('lex', [{ id: 8, text: 'sparrows fly' }])).json()).toEqual({ indexed: 1, errors: [] });
    expect(ids(await s.call('POST', '/v1/collections/lex/search', { query: 'sparrows' })).sort()).toEqual(['007', '7', '8']);
    expect((await s.call('GET', '/v1/collections/lex/documents/7')).json().id).toBe('7');
    const r = (
      await docs('lex', [
        { id: 1.5, text: 'x' },
        { id: 2 ** 60, text: 'x' },
        { _id: 'a', id: 'a', text: 'x' },
        { id: 'z', text: 'x', content: 'y' },
      ])
    ).json();
    expect(r.errors.map((e: { message: string }) => e.message)).toEqual([
      'documents[0].id: must be a string or an integer',
      'documents[1].id: must be a string or an integer',
      'documents[2]._id: is an alias of "id": give one of them',
      'documents[3].content: is an alias of "text": give one of them',
    ]);
  });

  it('unknown fields (`metadta`, `txt`) are rejected, named', async () => {
    const r = (
      await docs('lex', [
        { id: 'u1', text: 'x', metadta: { y: 1 } },
        { id: 'u2', txt: 'x' },
      ])
    ).json();
    expect(r.indexed).toBe(0);
    expect(r.errors.map((e: { message: string }) => e.message)).toEqual([
      'documents[0]: unknown field(s) "metadta"',
      'documents[1]: unknown field(s) "txt"',
    ]);
  });

  it('metadata values are checked against the declared schema', async () => {
    const r = (
      await docs('lex', [
        { id: 'y1', text: 'x', metadata: { year: '2010' } },
        { id: 'y2', text: 'x', metadata: { year: [2010, '2011'] } },
        { id: 'y3', text: 'x', metadata: { lang: { nested: 1 } } },
        { id: 'y4', text: 'grebes', metadata: { year: 2010, lang: 'en', free: 'any' } },
      ])
    ).json();
    expect(r.indexed).toBe(1);
    expect(r.errors.map((e: { message: string }) => e.message)).toEqual([
      'documents[0].metadata.year: expected number, got string (declared "number" in the collection\'s metadata)',
      'documents[1].metadata.year[1]: expected number, got string (declared "number" in the collection\'s metadata)',
      expect.stringMatching(/^documents\[2\]\.metadata\.lang/),
    ]);
    const hit = await s.call('POST', '/v1/collections/lex/search', { query: 'grebes', filter: { must: [{ field: 'year', gte: 2010 }] } });
    expect(ids(hit)).toEqual(['y4']);
  });
});

describe('issue 12.5: metadata is unbounded', () => {
  it('keys and bytes per document are capped (defaults 256 keys, 64 KiB), before any per-key work', async () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 50_000; i++) many[`k${i}`] = i;
    const t0 = performance.now();
    const r = (
      await docs('lex', [
        { id: 'big-keys', text: 'x', metadata: many },
        { id: 'big-bytes', text: 'x', metadata: { blob: 'a'.repeat(10 * 1024 * 1024) } },
        { id: 'wide-array', text: 'x', metadata: { tags: new Array(100_000).fill('t') } },
        { id: 'fits', text: 'x', metadata: { blob: 'a'.repeat(60 * 1024) } },
      ])
    ).json();
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(r.indexed).toBe(1);
    expect(r.errors.map((e: { message: string }) => e.message)).toEqual([
      'documents[0].metadata: at most 256 keys per document (SPLADEX_MAX_METADATA_KEYS)',
      'documents[1].metadata: at most 65536 bytes per document (SPLADEX_MAX_METADATA_BYTES)',
      'documents[2].metadata: at most 65536 bytes per document (SPLADEX_MAX_METADATA_BYTES)',
    ]);
    // Past the most keys any field allows, the body scan refuses the whole request before JSON.parse.
    for (let i = 50_000; i < 500_000; i++) many[`k${i}`] = i;
    const huge = await docs('lex', [{ id: 'huge-keys', text: 'x', metadata: many }]);
    expect(huge.statusCode).toBe(400);
    expect(huge.json().message).toMatch(/^documents\[0\]\.metadata: at most 100000 keys in one object/);
  });

  it('SPLADEX_MAX_METADATA_KEYS / _BYTES configure the limits', async () => {
    const env = loadEnv({ SPLADEX_MAX_METADATA_KEYS: '2', SPLADEX_MAX_METADATA_BYTES: '100' });
    expect([env.maxMetadataKeys, env.maxMetadataBytes]).toEqual([2, 100]);
    expect([loadEnv({}).maxMetadataKeys, loadEnv({}).maxMetadataBytes]).toEqual([256, 65536]);
    const small = await startTestServer({ limits: { maxMetadataKeys: env.maxMetadataKeys, maxMetadataBytes: env.maxMetadataBytes } });
    try {
      await small.call('PUT', '/v1/collections/c', {});
      const r = (
        await small.call('POST', '/v1/collections/c/documents', {
          documents: [
            { id: 'a', text: 'x', metadata: { a: 1, b: 2, c: 3 } },
            { id: 'b', text: 'x', metadata: { a: 'z'.repeat(101) } },
            { id: 'c', text: 'x', metadata: { a: 1, b: 'ok' } },
          ],
        })
      ).json();
      expect(r.indexed).toBe(1);
      expect(r.errors.map((e: { message: string }) => e.message)).toEqual([
        'documents[0].metadata: at most 2 keys per document (SPLADEX_MAX_METADATA_KEYS)',
        'documents[1].metadata: at most 100 bytes per document (SPLADEX_MAX_METADATA_BYTES)',
      ]);
    } finally {
      await small.close();
    }
  });
});
