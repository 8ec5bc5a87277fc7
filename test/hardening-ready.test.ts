/**
 * Readiness while collections load (issue 6): src/main.ts listens first and opens the collections in the
 * background. The load is held deterministically by a named pipe in place of a collection.json (reading it blocks,
 * off the event loop, until the test writes the config): meanwhile /health is 200, /ready 503 and /v1/* 503 BUSY
 * with Retry-After; once the config is written, startServer resolves, /ready is 200 and the collection is served.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../src/server/start-server.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-ready-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

it('answers /health 200, /ready 503 and /v1/* 503 BUSY while collections load, then serves', async () => {
  await mkdir(path.join(dataDir, 'slow'));
  const fifo = path.join(dataDir, 'slow', 'collection.json');
  execFileSync('mkfifo', [fifo]);

  let onLoading: (port: number) => void = () => undefined;
  const loadingPort = new Promise<number>((resolve) => (onLoading = resolve));
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.includes('"spladex loading"')) onLoading((JSON.parse(line) as { port: number }).port);
      done();
    },
  });
  const started = startServer(
    { SPLADEX_DATA_DIR: dataDir, SPLADEX_PORT: '0', SPLADEX_HOST: '127.0.0.1' },
    { handleSignals: false, logger: pino({ level: 'info' }, stream) },
  );
  const base = `http://127.0.0.1:${await loadingPort}`;

  expect((await fetch(`${base}/health`)).status).toBe(200);
  const ready = await fetch(`${base}/ready`);
  expect(ready.status).toBe(503);
  for (const [method, url] of [
    ['GET', '/v1/collections'],
    ['PUT', '/v1/collections/other'],
    ['POST', '/v1/collections/slow/search'],
    ['GET', '/v1/nope'],
  ]) {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : '{}',
    });
    expect(res.status, `${method} ${url}`).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { code: string }).code).toBe('BUSY');
  }

  await writeFile(fifo, JSON.stringify({ encoder: 'lexical' }));
  const server = await started;
  try {
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    const list = (await (await fetch(`${base}/v1/collections`)).json()) as { collections: { name: string }[] };
    expect(list.collections.map((c) => c.name)).toEqual(['slow']);
  } finally {
    await server.close();
  }
});
