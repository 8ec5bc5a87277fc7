/**
 * The error table and envelope (src/server/error-handler.ts), the body parsers and zod validation messages,
 * checked on a bare Fastify instance whose routes throw each error code — the unit under test is the mapping,
 * so no service is involved. Route-level behaviour with the real service is in test/api-*.test.ts.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SpladexError, corruptIndex, type ErrorCode } from '../src/core/errors.js';
import { DEFAULT_LIMITS, searchRequestSchema } from '../src/config/request-schemas.js';
import { registerBodyParsers, parseNdjsonDocuments } from '../src/server/body-parsers.js';
import { registerErrorHandling, relativizeMessage, STATUS_BY_CODE } from '../src/server/error-handler.js';
import { registerBackPressure } from '../src/server/back-pressure.js';
import { parseOrThrow, formatPath } from '../src/server/validation.js';
import { withDeadline } from '../src/server/routes-search.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ bodyLimit: 1024 });
  registerBodyParsers(app, DEFAULT_LIMITS);
  registerErrorHandling(app, { maxBodyBytes: 1024, dataDir: '/srv/data' });
  app.get<{ Params: { code: string } }>('/throw/:code', async (request) => {
    const code = request.params.code as ErrorCode;
    if (code === 'BUSY') throw new SpladexError('BUSY', 'encoder queue full', { retryAfterSeconds: 7 });
    if (code === 'CORRUPT_INDEX') throw corruptIndex('/srv/data/orders/store/seg-000003.sfx', 'checksum mismatch');
    if (code === 'INTERNAL') throw new SpladexError('INTERNAL', 'assertion failed at /home/x/src/index/wal.ts:12');
    throw new SpladexError(code, `a ${code} message`);
  });
  app.get('/bug', async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'x') at /srv/spladex/src/index/segment.ts:9");
  });
  app.post('/echo', async (request) => ({ body: request.body ?? null }));
  app.post('/ndjson', { config: { ndjson: true } }, async (request) => request.body);
  await app.ready();
});
afterAll(() => app.close());

describe('error table', () => {
  const cases: [ErrorCode, number, string][] = [
    ['INVALID_ARGUMENT', 400, 'Bad Request'],
    ['UNAUTHENTICATED', 401, 'Unauthorized'],
    ['NOT_FOUND', 404, 'Not Found'],
    ['CONFLICT', 409, 'Conflict'],
    ['PAYLOAD_TOO_LARGE', 413, 'Payload Too Large'],
    ['UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported Media Type'],
    ['REQUEST_TIMEOUT', 408, 'Request Timeout'],
    ['URI_TOO_LONG', 414, 'URI Too Long'],
    ['MISDIRECTED_REQUEST', 421, 'Misdirected Request'],
  ];
  it.each(cases)('%s → %i with the envelope', async (code, status, error) => {
    const res = await app.inject({ method: 'GET', url: `/throw/${code}` });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ statusCode: status, code, error, message: `a ${code} message` });
  });

  it('BUSY → 503 with Retry-After from the error', async () => {
    const res = await app.inject({ method: 'GET', url: '/throw/BUSY' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json()).toEqual({ statusCode: 503, code: 'BUSY', error: 'Service Unavailable', message: 'encoder queue full' });
  });

  it('CORRUPT_INDEX → 500 that keeps its code and names the file relative to the data dir', async () => {
    const res = await app.inject({ method: 'GET', url: '/throw/CORRUPT_INDEX' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({
      code: 'CORRUPT_INDEX',
      message: 'corrupt index file orders/store/seg-000003.sfx: checksum mismatch',
    });
  });

  it('INTERNAL and unknown errors → 500 without internals', async () => {
    for (const url of ['/throw/INTERNAL', '/bug']) {
      const res = await app.inject({ method: 'GET', url, headers: { 'x-request-id': 'abc' } });
      expect(res.statusCode).toBe(500);
      const body = res.json();
      expect(body.code).toBe('INTERNAL');
      expect(body.error).toBe('Internal Server Error');
      expect(body.message).toMatch(/^internal error \(request id [^)]+\)$/);
      expect(res.body).not.toMatch(/\/src\/|\.ts|assertion|reading/);
    }
  });

  it('relativizeMessage leaves other text alone', () => {
    expect(relativizeMessage('corrupt index file /srv/data/a/b.bin: x', '/srv/data')).toBe('corrupt index file a/b.bin: x');
    expect(relativizeMessage('corrupt index file /elsewhere/b.bin: x', '/srv/data')).toBe('corrupt index file /elsewhere/b.bin: x');
    expect(relativizeMessage('m /srv/data/x', undefined)).toBe('m /srv/data/x');
  });

  it('every code has a status', () => {
    expect(STATUS_BY_CODE.CORRUPT_INDEX).toBe(500);
    expect(STATUS_BY_CODE.STORAGE_FULL).toBe(507);
    expect(STATUS_BY_CODE.FORBIDDEN).toBe(403);
    expect(STATUS_BY_CODE.METHOD_NOT_ALLOWED).toBe(405);
    expect(Object.keys(STATUS_BY_CODE)).toHaveLength(16);
  });

  it('unknown route → 404 envelope', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'route GET /nope not found' });
  });
});

describe('body parsers', () => {
  it('malformed JSON → 400 INVALID_ARGUMENT naming the body', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a": 1,' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_ARGUMENT');
    expect(res.json().message).toMatch(/^body: not valid JSON \(/);
  });

  it('1e999 parses to Infinity (rejected later by schemas)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"w": 1e999}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ body: { w: null } }); // JSON.stringify(Infinity) is null
  });

  it('__proto__ keys are refused, also \\u-escaped', async () => {
    for (const payload of ['{"__proto__": {"x": 1}}', '{"a": {"\\u005f_proto__": {}}}']) {
      const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toBe('body: must not contain a "__proto__" key');
    }
  });

  it('empty JSON body reads as absent', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.json()).toEqual({ body: null });
  });

  it('unsupported content type → 415, text/plain included', async () => {
    for (const ct of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': ct }, payload: 'x' });
      expect(res.statusCode).toBe(415);
      expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('NDJSON only where the route allows it', async () => {
    const ok = await app.inject({
      method: 'POST',
      url: '/ndjson',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: '{"id":"a"}\n\n{"id":"b"}\n',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ documents: [{ id: 'a' }, { id: 'b' }] });
    const refused = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: '{"id":"a"}',
    });
    expect(refused.statusCode).toBe(415);
  });

  it('a bad NDJSON line → 400 naming the line', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/ndjson',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: '{"id":"a"}\r\n{"id":\n',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^body line 2: not valid JSON/);
    await expect(parseNdjsonDocuments('{}\n\n[1,\n')).rejects.toThrow(/^body line 3: not valid JSON/);
  });

  it('body over the limit → 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ s: 'x'.repeat(2000) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      error: 'Payload Too Large',
      message: 'body: larger than the limit of 1024 bytes',
    });
  });
});

describe('validation messages name the field', () => {
  const schema = searchRequestSchema(DEFAULT_LIMITS);
  const msg = (body: unknown) => {
    try {
      parseOrThrow(schema, body);
    } catch (e) {
      expect((e as SpladexError).code).toBe('INVALID_ARGUMENT');
      return (e as Error).message;
    }
    throw new Error('expected a validation error');
  };

  it('ranges, types, missing and unknown fields', () => {
    expect(msg({ query: 'a', k: 100000 })).toBe('k: must be <= 1000');
    expect(msg({ query: 'a', k: 0 })).toBe('k: must be >= 1');
    expect(msg({ query: 'a', k: '10' })).toBe('k: expected number, got string');
    expect(msg({ query: 'a', k: 2.5 })).toBe('k: must be an integer');
    expect(msg({ query: '' })).toBe('query: must not be empty');
    expect(msg({})).toBe('query: one of query, vector or dense is required');
    expect(msg({ query: 'a', kk: 1 })).toBe('body: unknown field(s) "kk"');
    expect(msg(undefined)).toBe('body: is required (object)');
    expect(msg([])).toBe('body: expected object, got array');
  });

  it('vectors: the branch the caller meant is reported', () => {
    expect(msg({ vector: { indices: [1, 2], values: [0.5, Infinity] } })).toBe('vector.values[1]: must be a finite number');
    expect(msg({ vector: { indices: [1], values: [-1] } })).toBe('vector.values[0]: must be >= 0');
    expect(msg({ vector: { indices: [1.5], values: [1] } })).toBe('vector.indices[0]: must be an integer');
    expect(msg({ vector: { tok: -2 } })).toBe('vector.tok: must be >= 0');
    expect(msg({ vector: { indices: [1, 2], values: [1] } })).toBe('vector: indices and values must have equal lengths');
  });

  it('formatPath', () => {
    expect(formatPath(['documents', 3, 'vector', 'values', 2])).toBe('documents[3].vector.values[2]');
    expect(formatPath([])).toBe('body');
    expect(formatPath([0], 'searches')).toBe('searches[0]');
  });

  it('deep paths in nested arrays', () => {
    const batch = z.object({ searches: z.array(schema) });
    expect(() => parseOrThrow(batch, { searches: [{ query: 'a' }, { query: 'b', k: 5000 }] })).toThrow('searches[1].k: must be <= 1000');
  });
});

describe('withDeadline', () => {
  it('passes results through and turns a miss into BUSY', async () => {
    await expect(withDeadline(Promise.resolve(3), 1000, 'search')).resolves.toBe(3);
    const never = new Promise<number>(() => undefined);
    const err = await withDeadline(never, 5, 'search').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpladexError);
    expect((err as SpladexError).code).toBe('BUSY');
    expect((err as SpladexError).retryAfterSeconds).toBe(1);
    expect((err as Error).message).toBe('search: did not finish within 5 ms');
  });
});

describe('back-pressure', () => {
  it('sheds /v1 requests with 503 BUSY while the event loop is stalled; probes stay open', async () => {
    const shed = Fastify();
    registerErrorHandling(shed, { maxBodyBytes: 1024 });
    registerBackPressure(shed, 300);
    shed.get('/v1/thing', async () => ({ ok: true }));
    shed.get('/health', async () => ({ status: 'ok' }));
    await shed.ready();
    try {
      expect((await shed.inject({ method: 'GET', url: '/v1/thing' })).statusCode).toBe(200);
      const until = performance.now() + 700;
      while (performance.now() < until) {
        // Block the loop, as a long synchronous job would.
      }
      const busy = await shed.inject({ method: 'GET', url: '/v1/thing' });
      expect(busy.statusCode).toBe(503);
      expect(busy.headers['retry-after']).toBe('1');
      expect(busy.json()).toMatchObject({ code: 'BUSY', error: 'Service Unavailable' });
      expect(busy.json().message).toMatch(/^server busy \(event loop lag \d+ ms\); retry later$/);
      expect((await shed.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await shed.close();
    }
  });
});
