/**
 * API.md "Documents" through `app.inject` on the real service: JSON and NDJSON upserts, per-document errors in a
 * batch (valid documents still indexed), bodies that are not JSON/NDJSON (400, nothing indexed), 415, 413, the
 * per-request document limit, get (with `?vector=true`) and delete, and vector validation for `encoder: "none"`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
const docCount = async (name: string) => (await s.call('GET', `/v1/collections/${name}`)).json().stats.documents as number;

beforeAll(async () => {
  s = await startTestServer({ limits: { maxDocsPerRequest: 5, maxDocTerms: 3 }, maxBodyBytes: 4 * 1024 * 1024 });
  expect((await s.call('PUT', '/v1/collections/docs', {})).statusCode).toBe(201);
  expect((await s.call('PUT', '/v1/collections/vecs', { encoder: 'none', dim: 100 })).statusCode).toBe(201);
});
afterAll(() => s.close());

describe('POST /v1/collections/:name/documents', () => {
  it('indexes a JSON batch; documents are then gettable and searchable', async () => {
    const res = await s.call('POST', '/v1/collections/docs/documents', {
      documents: [
        { id: 'd1', title: 'Quakes', text: 'earthquakes shake the ground', metadata: { lang: 'en', year: 2021 } },
        { id: 'd2', text: 'volcanoes erupt lava' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ indexed: 2, errors: [] });
    const got = await s.call('GET', '/v1/collections/docs/documents/d1');
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({ id: 'd1', title: 'Quakes', text: 'earthquakes shake the ground', metadata: { lang: 'en', year: 2021 } });
    const hits = (await s.call('POST', '/v1/collections/docs/search', { query: 'earthquake' })).json().hits;
    expect(hits.map((h: { id: string }) => h.id)).toEqual(['d1']);
  });

  it('indexes NDJSON (blank lines skipped, CRLF accepted)', async () => {
    const body = '{"id":"n1","text":"northern lights aurora"}\r\n\n{"id":"n2","text":"southern cross stars"}\n';
    const res = await s.call('POST', '/v1/collections/docs/documents', body, { 'content-type': 'application/x-ndjson' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ indexed: 2, errors: [] });
    expect((await s.call('GET', '/v1/collections/docs/documents/n2')).json().text).toBe('southern cross stars');
  });

  it('reports bad documents by index and still indexes the good ones', async () => {
    const before = await docCount('docs');
    const res = await s.call('POST', '/v1/collections/docs/documents', {
      documents: [
        { id: 'ok1', text: 'fine document' },
        { id: 'no-content' },
        { text: 'no id here' },
        { id: 'ok2', text: 'another fine one', extra: 1 },
        { id: 'ok3', text: 'last good one' },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.indexed).toBe(2);
    expect(body.errors.map((e: { index: number }) => e.index)).toEqual([1, 2, 3]);
    for (const e of body.errors) expect(e.code).toBe('INVALID_ARGUMENT');
    expect(body.errors[0]).toMatchObject({ id: 'no-content' });
    expect(body.errors[0].message).toMatch(/^documents\[1\]/);
    expect(body.errors[1].message).toMatch(/^documents\[2\]\.id: /);
    expect(body.errors[2].message).toMatch(/^documents\[3\]/);
    expect(await docCount('docs')).toBe(before + 2);
    expect((await s.call('GET', '/v1/collections/docs/documents/ok3')).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/docs/documents/ok2')).statusCode).toBe(404);
  });

  it('a body that is not valid JSON → 400, nothing indexed', async () => {
    const before = await docCount('docs');
    const res = await s.call('POST', '/v1/collections/docs/documents', '{"documents": [{"id": "x1", "text": "a"}, {"id": "x2"');
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toMatch(/^body: not valid JSON/);
    expect(await docCount('docs')).toBe(before);
  });

  it('an NDJSON body with one bad line → 400 naming the line, nothing indexed', async () => {
    const before = await docCount('docs');
    const body = '{"id":"y1","text":"good line"}\n{"id":"y2","text":"broken\n{"id":"y3","text":"good too"}\n';
    const res = await s.call('POST', '/v1/collections/docs/documents', body, { 'content-type': 'application/x-ndjson' });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toMatch(/^body line 2: not valid JSON/);
    expect(await docCount('docs')).toBe(before);
    expect((await s.call('GET', '/v1/collections/docs/documents/y1')).statusCode).toBe(404);
  });

  it('wrong envelope shapes → 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'documents: is required (array)'],
      [{ documents: {} }, 'documents: expected array, got object'],
      [[{ id: 'a', text: 'b' }], 'body: expected object, got array'],
      [{ documents: [], more: 1 }, 'body: unknown field(s) "more"'],
    ];
    for (const [body, message] of cases) {
      const res = await s.call('POST', '/v1/collections/docs/documents', body);
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).message).toBe(message);
    }
    const none = await s.app.inject({
      method: 'POST',
      url: '/v1/collections/docs/documents',
      headers: { 'content-type': 'application/json' },
    });
    expect(none.statusCode).toBe(400);
    expect(errorOf(none).message).toBe('body: is required (object)');
  });

  it('more documents than the per-request limit → 400, nothing indexed', async () => {
    const before = await docCount('docs');
    const documents = Array.from({ length: 6 }, (_, i) => ({ id: `many${i}`, text: 'word' }));
    const res = await s.call('POST', '/v1/collections/docs/documents', { documents });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe('documents: at most 5 documents per request');
    const nd = await s.call('POST', '/v1/collections/docs/documents', documents.map((d) => JSON.stringify(d)).join('\n'), {
      'content-type': 'application/x-ndjson',
    });
    expect(nd.statusCode).toBe(400);
    expect(await docCount('docs')).toBe(before);
  });

  it('unsupported content type → 415', async () => {
    const res = await s.call('POST', '/v1/collections/docs/documents', 'id,text\na,b', { 'content-type': 'text/csv' });
    expect(res.statusCode).toBe(415);
    expect(errorOf(res).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('a 2 MB document text → reported for that document, naming the field; nothing indexed', async () => {
    const before = await docCount('docs');
    const res = await s.call('POST', '/v1/collections/docs/documents', { documents: [{ id: 'big', text: 'a'.repeat(2 * 1024 * 1024) }] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.indexed).toBe(0);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({ index: 0, id: 'big', code: 'INVALID_ARGUMENT' });
    expect(body.errors[0].message).toBe('documents[0].text: must be at most 1048576 bytes');
    expect(await docCount('docs')).toBe(before);
  });

  it('unknown collection → 404', async () => {
    const res = await s.call('POST', '/v1/collections/ghost/documents', { documents: [{ id: 'a', text: 'b' }] });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('NOT_FOUND');
  });
});

describe('body size limit', () => {
  it('a body over maxBodyBytes → 413 and nothing indexed', async () => {
    const small = await startTestServer({ maxBodyBytes: 2048 });
    try {
      await small.call('PUT', '/v1/collections/c', {});
      const res = await small.call('POST', '/v1/collections/c/documents', { documents: [{ id: 'a', text: 'x'.repeat(4096) }] });
      expect(res.statusCode).toBe(413);
      expect(errorOf(res)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'body: larger than the limit of 2048 bytes' });
      expect((await small.call('GET', '/v1/collections/c')).json().stats.documents).toBe(0);
    } finally {
      await small.close();
    }
  });
});

describe('vectors (encoder "none")', () => {
  it('accepts unsorted indices and token maps; zeros dropped', async () => {
    const res = await s.call('POST', '/v1/collections/vecs/documents', {
      documents: [
        { id: 'v1', vector: { indices: [30, 5, 12], values: [0.5, 2, 0] } },
        { id: 'v2', vector: { apple: 1.5, pear: 0.25 } },
      ],
    });
    expect(res.json()).toEqual({ indexed: 2, errors: [] });
    const hits = (await s.call('POST', '/v1/collections/vecs/search', { vector: { indices: [30, 5], values: [1, 1] } })).json().hits;
    expect(hits).toHaveLength(1);
    expect(hits[0].id).toBe('v1');
    expect(hits[0].score).toBeCloseTo(2.5, 5);
  });

  it('bad weights and term ids are reported per document', async () => {
    const raw =
      '{"documents": [' +
      '{"id": "inf", "vector": {"indices": [1], "values": [1e999]}},' +
      '{"id": "neg", "vector": {"indices": [1, 2], "values": [1, -0.5]}},' +
      '{"id": "dup", "vector": {"indices": [3, 3], "values": [1, 1]}},' +
      '{"id": "range", "vector": {"indices": [100], "values": [1]}},' +
      '{"id": "good", "vector": {"indices": [99], "values": [1]}}]}';
    const res = await s.call('POST', '/v1/collections/vecs/documents', raw);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.indexed).toBe(1);
    const byId = Object.fromEntries(body.errors.map((e: { id: string; message: string }) => [e.id, e.message]));
    expect(Object.keys(byId).sort()).toEqual(['dup', 'inf', 'neg', 'range']);
    expect(byId.inf).toMatch(/^documents\[0\]\.vector/);
    expect(byId.neg).toMatch(/^documents\[1\]\.vector\.values\[1\]: /);
    expect(byId.dup).toMatch(/^documents\[2\]\.vector\.indices: duplicate term id 3/);
    expect(byId.range).toMatch(/^documents\[3\]\.vector\.indices\[0\]: term id 100 /);
    expect((await s.call('GET', '/v1/collections/vecs/documents/good')).statusCode).toBe(200);
  });

  it('more terms than maxDocTerms → reported for that document', async () => {
    const res = await s.call('POST', '/v1/collections/vecs/documents', {
      documents: [
        { id: 'wide', vector: { indices: [1, 2, 3, 4], values: [1, 1, 1, 1] } },
        { id: 'wide-map', vector: { a: 1, b: 1, c: 1, d: 1 } },
        { id: 'narrow', vector: { indices: [1, 2, 3], values: [1, 1, 1] } },
      ],
    });
    const body = res.json();
    expect(body.indexed).toBe(1);
    expect(body.errors.map((e: { id: string }) => e.id)).toEqual(['wide', 'wide-map']);
    // The service names the field; for union-typed vectors its reason is zod's generic "Invalid input"
    // (reported to the lead), so only the field is asserted here.
    expect(body.errors[0].message).toMatch(/^documents\[0\]\.vector/);
    expect(body.errors[1].message).toMatch(/^documents\[1\]\.vector/);
  });

  it('NaN is not JSON → 400 for the whole body', async () => {
    const res = await s.call(
      'POST',
      '/v1/collections/vecs/documents',
      '{"documents": [{"id": "nan", "vector": {"indices": [1], "values": [NaN]}}]}',
    );
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toMatch(/^body: not valid JSON/);
  });
});

describe('GET and DELETE /v1/collections/:name/documents/:id', () => {
  it('?vector=true adds the token map', async () => {
    const plain = (await s.call('GET', '/v1/collections/vecs/documents/v2')).json();
    expect(plain).toEqual({ id: 'v2' });
    const withVec = (await s.call('GET', '/v1/collections/vecs/documents/v2?vector=true')).json();
    expect(withVec.vector.tokens).toEqual({ apple: 1.5, pear: 0.25 });
    const bad = await s.call('GET', '/v1/collections/vecs/documents/v2?vector=yes');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).message).toMatch(/^querystring\.vector: /);
  });

  it('ids with reserved characters round-trip when percent-encoded', async () => {
    const id = 'a/b?c d#é';
    await s.call('POST', '/v1/collections/docs/documents', { documents: [{ id, text: 'odd id' }] });
    const res = await s.call('GET', `/v1/collections/docs/documents/${encodeURIComponent(id)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(id);
  });

  it('a 512-byte id is fine, 513 bytes → 400 naming id', async () => {
    const ok = 'é'.repeat(256); // 512 UTF-8 bytes
    const up = await s.call('POST', '/v1/collections/docs/documents', {
      documents: [
        { id: ok, text: 'long id' },
        { id: `${ok}x`, text: 'too long' },
      ],
    });
    expect(up.json().indexed).toBe(1);
    expect(up.json().errors[0].message).toBe('documents[1].id: must be at most 512 UTF-8 bytes');
    expect((await s.call('GET', `/v1/collections/docs/documents/${encodeURIComponent(ok)}`)).statusCode).toBe(200);
    const res = await s.call('GET', `/v1/collections/docs/documents/${encodeURIComponent(`${ok}x`)}`);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe('id: must be at most 512 UTF-8 bytes');
  });

  it('absent → 404; delete → 204 then 404; deleted docs leave search', async () => {
    const missing = await s.call('GET', '/v1/collections/docs/documents/nope');
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing).message).toContain('nope');
    const del = await s.call('DELETE', '/v1/collections/docs/documents/d1');
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await s.call('GET', '/v1/collections/docs/documents/d1')).statusCode).toBe(404);
    expect((await s.call('DELETE', '/v1/collections/docs/documents/d1')).statusCode).toBe(404);
    const hits = (await s.call('POST', '/v1/collections/docs/search', { query: 'earthquake' })).json().hits;
    expect(hits).toEqual([]);
    expect((await s.call('GET', '/v1/collections/ghost/documents/x')).statusCode).toBe(404);
  });
});
