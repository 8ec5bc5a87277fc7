/**
 * API.md "Paging" through `app.inject` on the real service: `offset` pages and `searchAfter` cursor pages each
 * concatenate to one search with the larger k (exact searches, over sealed segments plus a memtable, with many
 * score ties); a cursor pins a point in time, so under real concurrent upserts, replaces and deletes its pages
 * still concatenate to the search the first page was cut from — no duplicates, no gaps, nothing written later;
 * `trackTotal`; the result window and every cursor error (malformed, altered, another search, evicted); the
 * batch route and the library give the same pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
const N = 360;

/** Vectors over 6 terms with small integer weights: many exact score ties, so the id tie rule is exercised. */
function doc(i: number, tag = 'v1') {
  const indices = [i % 6, (i * 7 + 1) % 6];
  const uniq = [...new Set(indices)];
  return {
    id: `d${String(i).padStart(4, '0')}`,
    text: `${tag} ${i}`,
    vector: { indices: uniq, values: uniq.map((t) => 1 + ((i + t) % 3)) },
    metadata: { g: i % 4 === 0 ? 'a' : 'b' },
  };
}

beforeAll(async () => {
  s = await startTestServer({ memtableMaxDocs: 100, limits: { maxCursors: 3 } });
  expect((await s.call('PUT', '/v1/collections/p', { encoder: 'none', dim: 16, metadata: { g: 'keyword' } })).statusCode).toBe(201);
  for (let from = 0; from < N; from += 120) {
    const documents = Array.from({ length: 120 }, (_, j) => doc(from + j));
    expect((await s.call('POST', '/v1/collections/p/documents', { documents })).json().indexed).toBe(120);
  }
  // Sealed segments (memtable limit 100) plus a memtable tail.
  const stats = s.service.getCollection('p').stats;
  expect(stats.segments).toBeGreaterThan(0);
  expect(stats.memtableDocuments).toBeGreaterThan(0);
});
afterAll(() => s.close());

const Q = { vector: { indices: [0, 1, 2, 3], values: [1, 2, 1, 3] }, params: { exact: true } };
type Hit = { id: string; score: number; text?: string };
type Page = { hits: Hit[]; nextCursor: string | null; total?: { value: number; relation: string } };
const search = async (body: unknown): Promise<Page> => {
  const res = await s.call('POST', '/v1/collections/p/search', body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
};
const key = (h: Hit) => `${h.id}:${h.score}`;

/** Follows nextCursor from a first page until the last; the hits of every page in order. */
async function allPages(first: Page, body: Record<string, unknown>, between?: () => Promise<void>): Promise<Hit[]> {
  const out = [...first.hits];
  let cursor = first.nextCursor;
  while (cursor !== null) {
    if (between) await between();
    const page = await search({ ...body, searchAfter: cursor });
    out.push(...page.hits);
    cursor = page.nextCursor;
  }
  return out;
}

describe('offset and cursor pages', () => {
  it('offset pages concatenate to one search with the larger k', async () => {
    const all = (await search({ ...Q, k: 1000 })).hits;
    expect(all.length).toBe(N - N / 6); // every doc shares a term with Q except those on terms 4 and 5 only
    const pages: Hit[] = [];
    for (let offset = 0; offset < all.length; offset += 25) pages.push(...(await search({ ...Q, k: 25, offset })).hits);
    expect(pages.map(key)).toEqual(all.map(key));
    expect((await search({ ...Q, k: 25, offset: all.length })).hits).toEqual([]);
  });

  it('cursor pages concatenate to one search with the larger k, with a filter and include', async () => {
    const body = { ...Q, k: 17, filter: { must: [{ field: 'g', eq: 'b' }] }, include: ['text'] };
    const all = (await search({ ...body, k: 1000 })).hits;
    const first = await search(body);
    expect(first.nextCursor).toEqual(expect.any(String));
    const pages = await allPages(first, body);
    expect(pages.map(key)).toEqual(all.map(key));
    expect(pages.map((h) => h.text)).toEqual(all.map((h) => h.text));
  });

  it('under concurrent upserts, replaces and deletes a cursor pages the point in time of its first page', async () => {
    const body = { ...Q, k: 20, include: ['text'] };
    const before = (await search({ ...body, k: 1000 })).hits;
    const first = await search(body);
    // Writers run while the pages are fetched: new top-scoring docs, replaced docs (new text and vector) and
    // deletes, spread over memtable and segments; one batch lands between every two pages, others overlap.
    let round = 0;
    const inflight: Promise<unknown>[] = [];
    const write = async () => {
      const r = round++;
      const documents = [
        ...Array.from({ length: 8 }, (_, j) => ({ id: `new-${r}-${j}`, text: 'late', vector: { indices: [3], values: [9] } })),
        ...Array.from({ length: 8 }, (_, j) => doc((r * 37 + j * 11) % N, 'replaced')),
      ];
      inflight.push(s.call('POST', '/v1/collections/p/documents', { documents }));
      inflight.push(s.call('POST', '/v1/collections/p/documents/delete', { ids: [doc((r * 53 + 5) % N).id] }));
      await inflight[inflight.length - 2];
    };
    const pages = await allPages(first, body, write);
    await Promise.all(inflight);
    expect(round).toBeGreaterThan(10);
    expect(new Set(pages.map((h) => h.id)).size).toBe(pages.length);
    expect(pages.map(key)).toEqual(before.map(key));
    expect(pages.every((h) => h.text?.startsWith('v1'))).toBe(true);
    // The writes did land: a fresh search sees them.
    const now = (await search({ ...body, k: 1000 })).hits;
    expect(now[0].id).toMatch(/^new-/);
    expect(now.map(key)).not.toEqual(before.map(key));
  });

  it('trackTotal: exact counts the matches; the last page has no cursor', async () => {
    const all = (await search({ ...Q, k: 1000 })).hits;
    const page = await search({ ...Q, k: 5, trackTotal: true });
    expect(page.total).toEqual({ value: all.length, relation: 'eq' });
    expect((await search({ ...Q, k: 5 })).total).toBeUndefined();
    const filtered = await search({ ...Q, k: 5, trackTotal: true, filter: { must: [{ field: 'g', eq: 'a' }] } });
    const filteredAll = (await search({ ...Q, k: 1000, filter: { must: [{ field: 'g', eq: 'a' }] } })).hits;
    expect(filtered.total).toEqual({ value: filteredAll.length, relation: 'eq' });
    expect((await search({ ...Q, k: 1000 })).nextCursor).toBeNull();
  });

  it('the batch route and the library give the same pages as the single route', async () => {
    const body = { ...Q, k: 9, offset: 18, trackTotal: true };
    const single = await search(body);
    const batch = (await s.call('POST', '/v1/collections/p/search/batch', { searches: [body] })).json().results[0] as Page;
    const lib = (await s.service.search('p', body)) as unknown as Page;
    expect(batch.hits.map(key)).toEqual(single.hits.map(key));
    expect(lib.hits.map(key)).toEqual(single.hits.map(key));
    expect(batch.total).toEqual(single.total);
    const next = (
      await s.call('POST', '/v1/collections/p/search/batch', { searches: [{ ...Q, k: 9, searchAfter: single.nextCursor }] })
    ).json().results[0] as Page;
    expect(next.hits.map(key)).toEqual((await search({ ...Q, k: 9, offset: 27 })).hits.map(key));
  });
});

describe('paging across merges and hybrid searches', () => {
  it('a cursor keeps paging its point in time after optimize merged (and removed) the segments it read', async () => {
    const body = { ...Q, k: 40 };
    const all = (await search({ ...body, k: 1000 })).hits;
    const first = await search(body);
    await s.call('POST', '/v1/collections/p/documents/delete', { ids: all.slice(0, 30).map((h) => h.id) });
    expect((await s.call('POST', '/v1/collections/p/optimize')).statusCode).toBe(200);
    const pages = await allPages(first, body);
    expect(pages.map(key)).toEqual(all.map(key));
  });

  it('hybrid searches page by offset (no cursor)', async () => {
    await s.call('PUT', '/v1/collections/hy', { encoder: 'none', dim: 16, dense: { dim: 2, metric: 'dot' } });
    const documents = Array.from({ length: 60 }, (_, i) => ({ ...doc(i), metadata: undefined, dense: [i % 7, (i * 3) % 5] }));
    await s.call('POST', '/v1/collections/hy/documents', { documents });
    const body = { vector: Q.vector, dense: [1, 0.5], hybrid: { method: 'rrf' }, params: { exact: true } };
    const all = (await s.call('POST', '/v1/collections/hy/search', { ...body, k: 40 })).json() as Page;
    const pages: Hit[] = [];
    for (let offset = 0; offset < 40; offset += 10) {
      const p = (await s.call('POST', '/v1/collections/hy/search', { ...body, k: 10, offset, trackTotal: true })).json() as Page;
      expect(p.nextCursor).toBeNull();
      expect(p.total?.relation).toBe('gte');
      pages.push(...p.hits);
    }
    expect(pages.map(key)).toEqual(all.hits.map(key));
  });
});

describe('paging errors', () => {
  it('offset + k beyond the result window → 400 naming the fields and the limit', async () => {
    const res = await s.call('POST', '/v1/collections/p/search', { ...Q, k: 10, offset: 9995 });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe(
      'offset: offset + k = 10005 is more than the result window of 10000 (SPLADEX_MAX_RESULT_WINDOW); page deeper with searchAfter (nextCursor)',
    );
    await expect(s.service.search('p', { ...Q, k: 10, offset: 9995 })).rejects.toThrow(/result window of 10000/);
    expect((await s.call('POST', '/v1/collections/p/search', { ...Q, k: 10, offset: -1 })).statusCode).toBe(400);
  });

  it('malformed, altered, foreign-search and evicted cursors → 400 naming searchAfter', async () => {
    const first = await search({ ...Q, k: 3 });
    const cursor = first.nextCursor as string;
    const bad = async (body: unknown, re: RegExp) => {
      const res = await s.call('POST', '/v1/collections/p/search', body);
      expect(res.statusCode, res.body).toBe(400);
      expect(errorOf(res).message).toMatch(re);
    };
    await bad({ ...Q, searchAfter: 'garbage' }, /^searchAfter: not a cursor of this collection/);
    const [body, mac] = cursor.split('.');
    const altered = Buffer.from(JSON.stringify(['s', 1, 99, 'zzz'])).toString('base64url');
    await bad({ ...Q, searchAfter: `${altered}.${mac}` }, /^searchAfter: not a cursor of this collection/);
    const flipped = Buffer.from(mac, 'base64url');
    flipped[0] ^= 1;
    await bad({ ...Q, searchAfter: `${body}.${flipped.toString('base64url')}` }, /^searchAfter: not a cursor of this collection/);
    await bad({ vector: { indices: [1], values: [1] }, searchAfter: cursor }, /^searchAfter: belongs to another search/);
    await bad({ ...Q, searchAfter: cursor, offset: 3 }, /^offset: cannot be combined with searchAfter/);
    // maxCursors 3: three more first pages evict this one.
    for (let i = 0; i < 3; i++) await search({ ...Q, k: 3 });
    await bad({ ...Q, searchAfter: cursor }, /^searchAfter: the cursor expired .*SPLADEX_MAX_CURSORS/);
  });
});

describe('approximate totals', () => {
  it('an approximate search reports a lower bound ("gte")', async () => {
    await s.call('PUT', '/v1/collections/ap', { encoder: 'none', dim: 16, index: { approximateThreshold: 50 } });
    const documents = Array.from({ length: 300 }, (_, i) => doc(i));
    await s.call('POST', '/v1/collections/ap/documents', { documents });
    await s.call('POST', '/v1/collections/ap/optimize');
    const r = (await s.call('POST', '/v1/collections/ap/search', { vector: Q.vector, k: 5, trackTotal: true })).json() as Page & {
      stats: { exact: boolean };
    };
    expect(r.stats.exact).toBe(false);
    expect(r.total?.relation).toBe('gte');
    expect(r.total?.value).toBeGreaterThanOrEqual(5);
    const exact = (await s.call('POST', '/v1/collections/ap/search', { ...Q, k: 5, trackTotal: true })).json() as Page;
    expect(exact.total).toEqual({ value: 250, relation: 'eq' });
    expect(r.total?.value ?? 0).toBeLessThanOrEqual(250);
  });
});
