/**
 * API.md "Search" and "Encode" through `app.inject` on the real service: ranking and tie order, k bounds,
 * empty/missing/double queries, vector validation (Infinity via `1e999`, negatives, duplicates, out of range,
 * unsorted), unknown collection, batch search order and limits, and /v1/encode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ limits: { maxBatchSearches: 3 } });
  await s.call('PUT', '/v1/collections/kb', {});
  const documents = [
    { id: 'a', title: 'Cats', text: 'cats purr and cats sleep' },
    { id: 'b', title: 'Dogs', text: 'dogs bark at cats' },
    { id: 'c', title: 'Fish', text: 'fish swim' },
    { id: 'd', title: 'Birds', text: 'birds sing' },
  ];
  expect((await s.call('POST', '/v1/collections/kb/documents', { documents })).json().indexed).toBe(4);
  await s.call('PUT', '/v1/collections/vec', { encoder: 'none', dim: 50 });
  const vdocs = [
    { id: 'x', vector: { indices: [1, 2], values: [1, 1] } },
    { id: 'w', vector: { indices: [1, 2], values: [1, 1] } },
    { id: 'y', vector: { indices: [2], values: [3] } },
  ];
  expect((await s.call('POST', '/v1/collections/vec/documents', { documents: vdocs })).json().indexed).toBe(3);
});
afterAll(() => s.close());

const search = (name: string, body: unknown) => s.call('POST', `/v1/collections/${name}/search`, body);

describe('POST /v1/collections/:name/search', () => {
  it('ranks by score with the documented response shape', async () => {
    const res = await search('kb', { query: 'cats', k: 10 });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.hits.map((h: { id: string }) => h.id)).toEqual(['a', 'b']);
    expect(body.hits[0].score).toBeGreaterThan(body.hits[1].score);
    expect(body.hits[0].title).toBe('Cats');
    expect(Object.keys(body).sort()).toEqual(['hits', 'nextCursor', 'stats', 'took', 'warnings']);
    expect(body.nextCursor).toBeNull(); // 2 hits < k: the last page
    expect(Object.keys(body.took).sort()).toEqual(['encodeMs', 'searchMs', 'totalMs']);
    expect(Object.keys(body.stats).sort()).toEqual(['blocksScored', 'blocksSkipped', 'docsScored', 'exact']);
    expect(body.warnings).toEqual([]);
  });

  it('ties break by id ascending; k bigger than the collection returns all', async () => {
    const body = (await search('vec', { vector: { indices: [2, 1], values: [1, 1] }, k: 1000 })).json();
    expect(body.hits.map((h: { id: string; score: number }) => [h.id, h.score])).toEqual([
      ['y', 3],
      ['w', 2],
      ['x', 2],
    ]);
  });

  it('k = 1 returns one hit', async () => {
    expect((await search('kb', { query: 'cats', k: 1 })).json().hits).toHaveLength(1);
  });

  it('include and explain', async () => {
    const body = (await search('kb', { query: 'dogs', include: ['text'], explain: true })).json();
    expect(body.hits).toHaveLength(1);
    expect(body.hits[0].text).toBe('dogs bark at cats');
    expect(body.hits[0].title).toBeUndefined();
    expect(body.hits[0].explain.terms[0].token).toBe('dog');
  });

  const invalid: [string, unknown, string][] = [
    ['k = 0', { query: 'cats', k: 0 }, 'k: must be >= 1'],
    ['k = 100000', { query: 'cats', k: 100000 }, 'k: must be <= 1000'],
    ['k not an integer', { query: 'cats', k: 1.5 }, 'k: must be an integer'],
    ['k as a string', { query: 'cats', k: '10' }, 'k: expected number, got string'],
    ['empty query', { query: '' }, 'query: must not be empty'],
    ['no query at all', {}, 'query: one of query, vector or dense is required'],
    ['query and vector', { query: 'cats', vector: { cat: 1 } }, 'query: give exactly one of query or vector'],
    ['query of the wrong type', { query: 42 }, 'query: expected string, got number'],
    ['negative weight', { vector: { indices: [1], values: [-1] } }, 'vector.values[0]: must be >= 0'],
    ['negative token weight', { vector: { cat: -0.1 } }, 'vector.cat: must be >= 0'],
    ['unequal lengths', { vector: { indices: [1, 2], values: [1] } }, 'vector: indices and values must have equal lengths'],
    ['negative term id', { vector: { indices: [-3], values: [1] } }, 'vector.indices[0]: must be >= 0'],
    ['unknown field', { query: 'cats', limit: 3 }, 'body: unknown field(s) "limit"'],
    ['bad params', { query: 'cats', params: { heapFactor: 0 } }, 'params.heapFactor: '],
    ['bad include', { query: 'cats', include: ['vectors'] }, 'include[0]: '],
  ];
  it.each(invalid)('%s → 400 naming the field', async (_name, body, message) => {
    const res = await search('kb', body);
    expect(res.statusCode).toBe(400);
    const err = errorOf(res);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message.startsWith(message)).toBe(true);
  });

  it('1e999 (Infinity) in a query vector → 400', async () => {
    const res = await search('vec', '{"vector": {"indices": [1], "values": [1e999]}}');
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe('vector.values[0]: must be a finite number');
    const tok = await search('kb', '{"vector": {"cat": -1e999}}');
    expect(tok.statusCode).toBe(400);
    expect(errorOf(tok).message).toBe('vector.cat: must be a finite number');
  });

  it('more query terms than the limit → 400', async () => {
    const indices = Array.from({ length: 1025 }, (_, i) => i);
    const res = await search('vec', { vector: { indices, values: indices.map(() => 1) } });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe('vector.indices: at most 1024 terms');
  });

  it('unsorted ids are sorted; duplicates and out-of-range ids → 400 from the service', async () => {
    const unsorted = await search('vec', { vector: { indices: [2, 1], values: [1, 0] } });
    expect(unsorted.statusCode).toBe(200);
    expect(unsorted.json().hits.map((h: { id: string }) => h.id)).toEqual(['y', 'w', 'x']);
    const dup = await search('vec', { vector: { indices: [1, 1], values: [1, 1] } });
    expect(dup.statusCode).toBe(400);
    expect(errorOf(dup).message).toBe('vector.indices: duplicate term id 1');
    const range = await search('vec', { vector: { indices: [50], values: [1] } });
    expect(range.statusCode).toBe(400);
    expect(errorOf(range).message).toMatch(/^vector\.indices\[0\]: term id 50 /);
  });

  it('unknown tokens are reported in warnings, never used', async () => {
    const body = (await search('kb', { vector: { zzzunknown: 1 } })).json();
    expect(body.hits).toEqual([]);
    expect(body.warnings.join(' ')).toContain('zzzunknown');
  });

  it('a 2 MB query text → 400 naming query', async () => {
    const res = await search('kb', { query: 'a'.repeat(2 * 1024 * 1024) });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toMatch(/^query: /);
  });

  it('unknown collection → 404', async () => {
    const res = await search('ghost', { query: 'cats' });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).message).toContain('ghost');
  });
});

describe('POST /v1/collections/:name/search/batch', () => {
  it('answers in the order asked', async () => {
    const res = await s.call('POST', '/v1/collections/kb/search/batch', {
      searches: [{ query: 'fish' }, { query: 'birds' }, { query: 'dogs' }],
    });
    expect(res.statusCode).toBe(200);
    const results = res.json().results;
    expect(results.map((r: { hits: { id: string }[] }) => r.hits[0].id)).toEqual(['c', 'd', 'b']);
  });

  it('answers JSON serialised result by result equal to the single searches (but the timings)', async () => {
    const searches = [{ query: 'fish', include: ['title', 'text'] }, { query: 'birds', trackTotal: true }, { query: 'zzz-none' }];
    const res = await s.call('POST', '/v1/collections/kb/search/batch', { searches });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json() as { results: { took: unknown }[] };
    expect(JSON.stringify(body)).toBe(res.body);
    const noTook = (r: { took: unknown }) => ({ ...r, took: null });
    const singles = [];
    for (const q of searches) singles.push(noTook((await s.call('POST', '/v1/collections/kb/search', q)).json()));
    expect(body.results.map(noTook)).toEqual(singles);
  });

  it('validates each search, naming its index; limits the count', async () => {
    const bad = await s.call('POST', '/v1/collections/kb/search/batch', { searches: [{ query: 'fish' }, { query: 'x', k: 5000 }] });
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).message).toBe('searches[1].k: must be <= 1000');
    const empty = await s.call('POST', '/v1/collections/kb/search/batch', { searches: [] });
    expect(empty.statusCode).toBe(400);
    expect(errorOf(empty).message).toMatch(/^searches: /);
    const many = await s.call('POST', '/v1/collections/kb/search/batch', {
      searches: Array.from({ length: 4 }, () => ({ query: 'fish' })),
    });
    expect(many.statusCode).toBe(400);
    expect(errorOf(many).message).toMatch(/^searches: /);
    const missing = await s.call('POST', '/v1/collections/ghost/search/batch', { searches: [{ query: 'fish' }] });
    expect(missing.statusCode).toBe(404);
  });
});

describe('POST /v1/encode', () => {
  it('encodes texts with the lexical encoder', async () => {
    const res = await s.call('POST', '/v1/encode', {
      encoder: 'lexical',
      collection: 'kb',
      kind: 'query',
      texts: ['cats', 'dogs and cats'],
    });
    expect(res.statusCode).toBe(200);
    const vectors = res.json().vectors;
    expect(vectors).toHaveLength(2);
    expect(Object.keys(vectors[0].tokens)).toEqual(['cat']);
    expect(vectors[0].indices).toHaveLength(1);
    expect(vectors[0].values).toHaveLength(1);
    expect(Object.keys(vectors[1].tokens).sort()).toEqual(['cat', 'dog']);
  });

  it('rejects bad requests', async () => {
    const unknown = await s.call('POST', '/v1/encode', { encoder: 'nope', texts: ['x'] });
    expect(unknown.statusCode).toBe(400);
    expect(errorOf(unknown).message).toMatch(/^encoder: /);
    const noTexts = await s.call('POST', '/v1/encode', { texts: [] });
    expect(noTexts.statusCode).toBe(400);
    expect(errorOf(noTexts).message).toMatch(/^texts: /);
    const kind = await s.call('POST', '/v1/encode', { texts: ['x'], kind: 'passage' });
    expect(kind.statusCode).toBe(400);
    expect(errorOf(kind).message).toMatch(/^kind: /);
    const ghost = await s.call('POST', '/v1/encode', { texts: ['x'], collection: 'ghost' });
    expect(ghost.statusCode).toBe(404);
  });
});
