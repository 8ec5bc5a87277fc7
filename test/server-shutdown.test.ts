/**
 * Graceful shutdown through `startServer` (src/main.ts) in-process: a request that is in flight when `close()`
 * is called still completes (and its documents are durable: a fresh service finds them), new connections are
 * refused afterwards, and the service is closed. The request body is sent in two halves around `close()`, and
 * the test waits on the server's own 'request' event, so the ordering is deterministic.
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../src/server/start-server.js';
import { openSpladexService } from '../src/search/spladex-service.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-shutdown-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

it('finishes in-flight requests, then refuses connections and closes the service', async () => {
  const logger = pino({ level: 'silent' });
  const server = await startServer(
    { SPLADEX_DATA_DIR: dataDir, SPLADEX_PORT: '0', SPLADEX_HOST: '127.0.0.1' },
    { handleSignals: false, logger },
  );
  const put = await fetch(`${server.url}/v1/collections/drain`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(put.status).toBe(201);

  const body = JSON.stringify({
    documents: Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, text: `draining document number ${i}` })),
  });
  const half = Math.floor(body.length / 2);
  const url = new URL(`${server.url}/v1/collections/drain/documents`);
  const req = httpRequest({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const response = once(req, 'response');
  const arrived = once(server.app.server, 'request');
  req.write(body.slice(0, half));
  await arrived;

  const closed = server.close();
  req.end(body.slice(half));
  const [res] = (await response) as [import('node:http').IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(text)).toEqual({ indexed: 50, errors: [] });
  await closed;
  await expect(server.close()).resolves.toBeUndefined();

  await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  const reopened = await openSpladexService({ dataDir, encodersDir: dataDir, logger });
  try {
    expect(reopened.getCollection('drain').stats.documents).toBe(50);
  } finally {
    await reopened.close();
  }
});
