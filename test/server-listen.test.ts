/**
 * The real server over a socket: `buildApp` + `listen` on an ephemeral port, spoken to with `fetch` (HTTP/1.1
 * keep-alive, real content-type handling and chunked NDJSON), then closed. Complements the `inject` tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';

let app: FastifyInstance;
let service: SpladexService;
let dir: string;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spladex-listen-'));
  const logger = pino({ level: 'silent' });
  service = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
  app = await buildApp({ service, logger, apiKey: 'k' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${addr.port}`;
});
afterAll(async () => {
  await app.close();
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

it('serves the API over HTTP', async () => {
  const auth = { authorization: 'Bearer k' };
  const json = { ...auth, 'content-type': 'application/json' };
  expect((await fetch(`${base}/health`)).status).toBe(200);

  const unauth = await fetch(`${base}/v1/collections`);
  expect(unauth.status).toBe(401);
  expect(await unauth.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });

  const put = await fetch(`${base}/v1/collections/web`, { method: 'PUT', headers: json, body: '{}' });
  expect(put.status).toBe(201);

  // NDJSON streamed as a request body in chunks.
  const lines = ['{"id":"1","text":"red apples"}\n', '{"id":"2","text":"green pears"}\n'];
  const stream = new ReadableStream({
    start(controller) {
      for (const l of lines) controller.enqueue(new TextEncoder().encode(l));
      controller.close();
    },
  });
  const up = await fetch(`${base}/v1/collections/web/documents`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/x-ndjson' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  expect(up.status).toBe(200);
  expect(await up.json()).toEqual({ indexed: 2, errors: [] });

  const res = await fetch(`${base}/v1/collections/web/search`, {
    method: 'POST',
    headers: { ...json, 'x-request-id': 'req-123' },
    body: JSON.stringify({ query: 'apples' }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-request-id')).toBe('req-123');
  const body = (await res.json()) as { hits: { id: string }[] };
  expect(body.hits.map((h) => h.id)).toEqual(['1']);

  const bad = await fetch(`${base}/v1/collections/web/search`, { method: 'POST', headers: json, body: '{"query": "x", "k": 0}' });
  expect(bad.status).toBe(400);
  expect(await bad.json()).toEqual({ statusCode: 400, code: 'INVALID_ARGUMENT', error: 'Bad Request', message: 'k: must be >= 1' });

  const missing = await fetch(`${base}/nowhere`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });

  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).toContain('spladex_collection_documents{collection="web"} 2');
});
