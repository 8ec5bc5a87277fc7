/**
 * API.md "Count", "Bulk delete", "Partial update", "Scroll", "Highlighting" and 405 through `app.inject` on the
 * real service: counts with and without filters (deleted documents never count), deletes by ids and by filter
 * with their bounds, PATCH merging metadata (null removes a key) and re-encoding on text changes, both durable
 * across a reopen of the data dir; scroll pages in id order on a point in time while real upserts and deletes
 * run, with filter / include / vector / format, and every cursor and limit error; highlight fragments for a
 * lexical and a vectors-only collection; 405 with Allow for known paths.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { openSpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
const docs = Array.from({ length: 250 }, (_, i) => ({
  id: `d${String(i).padStart(3, '0')}`,
  title: `Doc ${i}`,
  text: i % 5 === 0 ? 'Otters & <rivers> swim; the otter’s den is by the river' : `plain words number ${i}`,
  metadata: { lang: i % 2 === 0 ? 'en' : 'de', year: 2000 + (i % 10) },
}));

beforeAll(async () => {
  s = await startTestServer({ memtableMaxDocs: 80 });
  await s.call('PUT', '/v1/collections/c', { metadata: { lang: 'keyword', year: 'number' } });
  expect((await s.call('POST', '/v1/collections/c/documents', { documents: docs })).json().indexed).toBe(250);
});
afterAll(() => s.close());

const post = (url: string, body: unknown) => s.call('POST', url, body);
const count = async (filter?: unknown) => (await post('/v1/collections/c/count', filter === undefined ? {} : { filter })).json().count;

describe('count', () => {
  it('counts live documents, with a filter, without deleted ones', async () => {
    expect(await count()).toBe(250);
    expect(await count({ must: [{ field: 'lang', eq: 'en' }] })).toBe(125);
    expect(await count({ must: [{ field: 'year', gte: 2005 }], mustNot: [{ field: 'lang', eq: 'de' }] })).toBe(50);
    expect(s.service.countDocuments('c', { filter: { must: [{ field: 'lang', eq: 'de' }] } })).toEqual({ count: 125 });
    const bad = await post('/v1/collections/c/count', { filter: { must: [{ field: 'nope', eq: 1 }] } });
    expect(errorOf(bad).message).toBe('filter.must[0].field: "nope" is not a declared metadata field');
    expect((await post('/v1/collections/c/count', { x: 1 })).statusCode).toBe(400);
    expect((await post('/v1/collections/zz/count', {})).statusCode).toBe(404);
  });
});

describe('bulk delete and PATCH', () => {
  it('deletes by ids (absent ones not counted) and by filter; bounds are named', async () => {
    await s.call('PUT', '/v1/collections/del', { metadata: { lang: 'keyword', year: 'number' } });
    await post('/v1/collections/del/documents', { documents: docs });
    const r1 = await post('/v1/collections/del/documents/delete', { ids: ['d000', 'd001', 'd001', 'nope'] });
    expect(r1.json()).toEqual({ deleted: 2 });
    const r2 = await post('/v1/collections/del/documents/delete', { filter: { must: [{ field: 'year', eq: 2003 }] } });
    expect(r2.json()).toEqual({ deleted: 25 });
    expect((await post('/v1/collections/del/count', {})).json().count).toBe(223);
    expect((await post('/v1/collections/del/count', { filter: { must: [{ field: 'year', eq: 2003 }] } })).json().count).toBe(0);
    const both = await post('/v1/collections/del/documents/delete', { ids: ['a'], filter: {} });
    expect(errorOf(both).message).toBe('ids: give exactly one of ids or filter');
    const many = await post('/v1/collections/del/documents/delete', { ids: Array.from({ length: 10_001 }, (_, i) => `x${i}`) });
    expect(errorOf(many).message).toBe('ids: at most 10000 ids per request (SPLADEX_MAX_DOCS_PER_REQUEST)');
    expect(errorOf(await post('/v1/collections/del/documents/delete', { ids: [] })).message).toBe('ids: must not be empty');
  });

  it('PATCH merges metadata (null removes a key), re-encodes on text changes; both survive a reopen', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'spladex-patch-'));
    const logger = pino({ level: 'silent' });
    const open = async () => {
      const service = await openSpladexService({ dataDir, encodersDir: join(dataDir, 'enc'), logger, memtableMaxDocs: 80 });
      return { service, app: await buildApp({ service, logger }) };
    };
    let t = await open();
    const call = async (method: string, url: string, body?: unknown) => {
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return t.app.inject({ method: method as 'GET', url, headers, payload });
    };
    try {
      await call('PUT', '/v1/collections/pt', { metadata: { lang: 'keyword', year: 'number' } });
      await call('POST', '/v1/collections/pt/documents', { documents: docs.slice(0, 100) });
      const r = await call('PATCH', '/v1/collections/pt/documents/d003', { metadata: { year: 1990, lang: null, extra: 'x' } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ id: 'd003', title: 'Doc 3', text: 'plain words number 3', metadata: { year: 1990, extra: 'x' } });
      const search = async (query: string) =>
        (await call('POST', '/v1/collections/pt/search', { query, k: 5, params: { exact: true } }))
          .json()
          .hits.map((h: { id: string }) => h.id);
      expect(await search('zebra')).toEqual([]);
      const p = await call('PATCH', '/v1/collections/pt/documents/d004', { text: 'a zebra crossing', title: null });
      expect(p.json()).toEqual({ id: 'd004', text: 'a zebra crossing', metadata: { lang: 'en', year: 2004 } });
      expect(await search('zebra')).toEqual(['d004']);
      expect(await search('number 4')).not.toContain('d004');
      // Errors: unknown document, a bad metadata type, an unknown field, a vector for a lexical collection.
      expect((await call('PATCH', '/v1/collections/pt/documents/nope', { text: 'x' })).statusCode).toBe(404);
      const bad = await call('PATCH', '/v1/collections/pt/documents/d005', { metadata: { year: 'old' } });
      expect(errorOf(bad).message).toMatch(/^metadata\.year: expected number, got string/);
      expect((await call('PATCH', '/v1/collections/pt/documents/d005', { titel: 'x' })).statusCode).toBe(400);
      expect((await call('PATCH', '/v1/collections/pt/documents/d005', { vector: { a: 1 } })).statusCode).toBe(400);
      const noType = await t.app.inject({ method: 'PATCH', url: '/v1/collections/pt/documents/d005', payload: '{}' });
      expect(noType.statusCode).toBe(415);
      expect((await call('POST', '/v1/collections/pt/documents/delete', { ids: ['d010', 'd011'] })).json()).toEqual({ deleted: 2 });
      // Reopen the data dir: close does not seal, so the reopen rebuilds the memtable from the WAL replay, as
      // after a kill (test/server-durability.test.ts kills real processes for upserts).
      await t.app.close();
      await t.service.close();
      t = await open();
      expect((await call('GET', '/v1/collections/pt/documents/d003')).json().metadata).toEqual({ year: 1990, extra: 'x' });
      expect(await search('zebra')).toEqual(['d004']);
      expect((await call('GET', '/v1/collections/pt/documents/d010')).statusCode).toBe(404);
      expect((await call('POST', '/v1/collections/pt/count', {})).json().count).toBe(98);
    } finally {
      await t.app.close();
      await t.service.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('PATCH of a vectors-only document keeps its vector unless given one', async () => {
    await s.call('PUT', '/v1/collections/pv', { encoder: 'none', dim: 32 });
    await post('/v1/collections/pv/documents', { documents: [{ id: 'a', vector: { cat: 2, dog: 1 }, metadata: { n: 1 } }] });
    await s.call('PATCH', '/v1/collections/pv/documents/a', { metadata: { n: 2 } });
    const got = (await s.call('GET', '/v1/collections/pv/documents/a?vector=true')).json();
    expect(got).toEqual({ id: 'a', metadata: { n: 2 }, vector: { tokens: { cat: 2, dog: 1 } } });
    await s.call('PATCH', '/v1/collections/pv/documents/a', { vector: { eel: 3 } });
    expect((await s.call('GET', '/v1/collections/pv/documents/a?vector=1')).json().vector).toEqual({ tokens: { eel: 3 } });
  });
});

type ScrollPage = {
  documents: { id: string; text?: string; title?: string; metadata?: unknown; vector?: unknown }[];
  nextCursor: string | null;
};
const scroll = async (qs: string): Promise<ScrollPage> => {
  const r = await s.call('GET', `/v1/collections/c/documents?${qs}`);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as ScrollPage;
};

describe('scroll', () => {
  it('pages in id order on a point in time while upserts and deletes run', async () => {
    const seen: ScrollPage['documents'] = [];
    let page = await scroll('limit=33');
    const writes: Promise<unknown>[] = [];
    let round = 0;
    for (;;) {
      seen.push(...page.documents);
      if (page.nextCursor === null) break;
      // Concurrent writes between and during pages: new ids that sort everywhere, replacements, deletes.
      const r = round++;
      writes.push(
        post('/v1/collections/c/documents', {
          documents: [
            { id: `d${r}x`, text: 'late' },
            { id: docs[r * 7].id, text: 'replaced' },
          ],
        }),
      );
      writes.push(post('/v1/collections/c/documents/delete', { ids: [docs[200 + r].id] }));
      page = await scroll(`limit=33&cursor=${encodeURIComponent(page.nextCursor)}`);
    }
    await Promise.all(writes);
    expect(round).toBeGreaterThan(5);
    expect(seen.map((d) => d.id)).toEqual(docs.map((d) => d.id));
    expect(seen.map((d) => d.text)).toEqual(docs.map((d) => d.text));
    expect(seen[0]).toEqual(docs[0]);
    // A fresh scroll sees the writes.
    const fresh = await scroll('limit=1000&include=text');
    expect(fresh.documents.map((d) => d.id)).toContain('d0x');
    expect(fresh.documents.map((d) => d.id)).not.toContain(docs[200].id);
    expect(fresh.documents.find((d) => d.id === docs[0].id)?.text).toBe('replaced');
  });

  it('filter, include, vector and format', async () => {
    const f = encodeURIComponent(JSON.stringify({ must: [{ field: 'year', eq: 2001 }] }));
    const p = await scroll(`filter=${f}&include=title&limit=1000`);
    expect(p.documents.every((d) => Object.keys(d).join() === 'id,title')).toBe(true);
    expect(p.documents.length).toBe(await count({ must: [{ field: 'year', eq: 2001 }] }));
    expect(p.nextCursor).toBeNull();
    const v = await scroll('limit=1&include=text&vector=true');
    expect(v.documents[0].vector).toEqual({ tokens: expect.any(Object) });
    const u = await scroll('limit=2&format=upsert');
    expect(u.documents[0]).not.toHaveProperty('vector'); // lexical: re-encoded from text
    // The library door: the same page.
    expect(s.service.listDocuments('c', { limit: 2, format: 'upsert' }).documents).toEqual(u.documents);
  });

  it('cursor and limit errors name the field', async () => {
    const bad = async (qs: string, re: RegExp) => {
      const r = await s.call('GET', `/v1/collections/c/documents?${qs}`);
      expect(r.statusCode, r.body).toBe(400);
      expect(errorOf(r).message).toMatch(re);
    };
    await bad('limit=0', /^querystring\.limit: must be from 1 to 1000/);
    await bad('limit=1001', /^querystring\.limit: must be from 1 to 1000/);
    await bad('limit=abc', /^querystring\.limit: must be an integer/);
    await bad('include=vector', /^querystring\.include: must be a comma-separated list/);
    await bad('filter=%7B', /^querystring\.filter: must be a JSON filter object/);
    await bad(`filter=${encodeURIComponent('{"must":[{"field":"nope","eq":1}]}')}`, /^filter\.must\[0\]\.field: "nope" is not a declared/);
    await bad('cursor=xyz', /^cursor: not a cursor of this collection/);
    const first = await scroll('limit=5');
    const other = encodeURIComponent(JSON.stringify({ must: [{ field: 'lang', eq: 'en' }] }));
    await bad(
      `cursor=${encodeURIComponent(first.nextCursor as string)}&filter=${other}`,
      /^cursor: belongs to a scroll with another filter/,
    );
    const search = (await post('/v1/collections/c/search', { query: 'otter', k: 1 })).json();
    await bad(`cursor=${encodeURIComponent(search.nextCursor)}`, /^cursor: not a documents cursor/);
    const r = await post('/v1/collections/c/search', { query: 'otter', searchAfter: first.nextCursor });
    expect(errorOf(r).message).toMatch(/^searchAfter: not a search cursor/);
  });

  it('an expired cursor → 400 saying so', async () => {
    const t = await startTestServer({ limits: { maxCursors: 1 } });
    try {
      await t.call('PUT', '/v1/collections/e', {});
      await t.call('POST', '/v1/collections/e/documents', { documents: docs.slice(0, 10) });
      const a = (await t.call('GET', '/v1/collections/e/documents?limit=2')).json();
      await t.call('GET', '/v1/collections/e/documents?limit=2'); // evicts a's point in time
      const r = await t.call('GET', `/v1/collections/e/documents?limit=2&cursor=${encodeURIComponent(a.nextCursor)}`);
      expect(r.statusCode).toBe(400);
      expect(errorOf(r).message).toMatch(/^cursor: the cursor expired \(its point in time is kept 300000 ms after its last use/);
    } finally {
      await t.close();
    }
  });
});

describe('highlight', () => {
  it('marks the words whose analyzed terms are query terms, escapes the rest, cuts fragments', async () => {
    const r = await post('/v1/collections/c/search', {
      query: 'otters rivers',
      k: 2,
      include: ['title'],
      highlight: { fields: ['text', 'title'], fragmentSize: 30 },
    });
    const hits = r.json().hits;
    expect(hits[0].text).toBeUndefined();
    expect(hits[0].highlight.title).toBeUndefined(); // no matched word in "Doc 0"
    const frags: string[] = hits[0].highlight.text;
    expect(frags.length).toBeGreaterThan(1);
    expect(frags.join(' ')).toContain('<em>Otters</em> &amp; &lt;<em>rivers</em>&gt;');
    expect(frags.join(' ')).toContain('<em>otter’s</em>');
    expect(frags.join(' ')).toContain('<em>river</em>');
    for (const f of frags) expect(f.replace(/<\/?em>/g, '').length).toBeLessThanOrEqual(40);
    const tags = await post('/v1/collections/c/search', {
      query: 'otter',
      k: 1,
      highlight: { preTag: '[', postTag: ']', numberOfFragments: 1, fragmentSize: 200 },
    });
    expect(tags.json().hits[0].highlight.text).toEqual(['[Otters] &amp; &lt;rivers&gt; swim; the [otter’s] den is by the river']);
    const page2 = await post('/v1/collections/c/search', { query: 'otter', k: 1, highlight: {}, searchAfter: tags.json().nextCursor });
    expect(page2.json().hits[0].highlight.text[0]).toContain('<em>Otters</em>');
    expect((await post('/v1/collections/c/search', { query: 'otter', highlight: { fields: ['metadata'] } })).statusCode).toBe(400);
    expect((await post('/v1/collections/c/search', { query: 'otter', highlight: { fragmentSize: 5 } })).statusCode).toBe(400);
  });

  it('vectors-only collections mark the words that are query tokens', async () => {
    await s.call('PUT', '/v1/collections/hv', { encoder: 'none', dim: 32 });
    await post('/v1/collections/hv/documents', { documents: [{ id: 'a', text: 'The Cat sat on the mat', vector: { cat: 1, mat: 1 } }] });
    const r = await post('/v1/collections/hv/search', { vector: { cat: 1 }, highlight: {} });
    expect(r.json().hits[0].highlight).toEqual({ text: ['The <em>Cat</em> sat on the mat'] });
  });
});

describe('405', () => {
  it('a known path with another method → 405 with Allow; unknown paths stay 404', async () => {
    const r = await s.call('PUT', '/v1/collections/c/search');
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect(errorOf(r)).toEqual({
      statusCode: 405,
      code: 'METHOD_NOT_ALLOWED',
      error: 'Method Not Allowed',
      message: 'method: PUT is not allowed on /v1/collections/c/search; allowed: POST',
    });
    const d = await s.call('POST', '/v1/collections/c/documents/d001');
    expect(d.statusCode).toBe(405);
    expect(d.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    expect((await s.call('DELETE', '/health')).headers.allow).toBe('GET, HEAD');
    expect((await s.call('GET', '/v1/nothing')).statusCode).toBe(404);
  });
});
