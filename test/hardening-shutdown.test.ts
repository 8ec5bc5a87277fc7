/**
 * Graceful shutdown with searches in flight (issue 6; test/server-shutdown.test.ts covers an in-flight upsert):
 * several searches whose bodies are half sent when `close()` starts all complete with 200 and full hits, every
 * write acknowledged before the close is found by a fresh service, and new connections are refused afterwards.
 * Also SIGTERM to the real process (`node --import tsx src/main.ts`, and `spladex serve`) while collections are
 * still loading: exit code 0, and every collection is intact afterwards. Ordering is driven by the server's own 'request' events,
 * its log lines and a named pipe that holds the load, never by sleeps.
 */
import { execFileSync, spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../src/server/start-server.js';
import { openSpladexService } from '../src/search/spladex-service.js';
import { reapLater } from './support/child-reaper.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-shutdown-search-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function readBody(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return text;
}

it('finishes in-flight searches on close and keeps every acknowledged write', async () => {
  const logger = pino({ level: 'silent' });
  const server = await startServer(
    { SPLADEX_DATA_DIR: dataDir, SPLADEX_PORT: '0', SPLADEX_HOST: '127.0.0.1', SPLADEX_MEMTABLE_MAX_DOCS: '40' },
    { handleSignals: false, logger },
  );
  const json = { 'content-type': 'application/json' };
  expect((await fetch(`${server.url}/v1/collections/s`, { method: 'PUT', headers: json, body: '{}' })).status).toBe(201);
  let acked = 0;
  for (let b = 0; b < 5; b++) {
    const documents = Array.from({ length: 25 }, (_, i) => ({
      id: `d${b * 25 + i}`,
      text: `shutdown search document ${b * 25 + i} granite`,
    }));
    const res = await fetch(`${server.url}/v1/collections/s/documents`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ documents }),
    });
    expect(await res.json()).toEqual({ indexed: 25, errors: [] });
    acked += 25;
  }

  const url = new URL(`${server.url}/v1/collections/s/search`);
  const body = JSON.stringify({ query: 'granite', k: 200 });
  const half = Math.floor(body.length / 2);
  const n = 6;
  let arrivedCount = 0;
  const allArrived = new Promise<void>((resolve) => {
    server.app.server.on('request', () => {
      if (++arrivedCount === n) resolve();
    });
  });
  const requests = Array.from({ length: n }, () => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { ...json, 'content-length': Buffer.byteLength(body) },
    });
    const response = once(req, 'response') as Promise<[IncomingMessage]>;
    req.write(body.slice(0, half));
    return { req, response };
  });
  await allArrived;

  const closed = server.close();
  for (const { req } of requests) req.end(body.slice(half));
  for (const { response } of requests) {
    const [res] = await response;
    expect(res.statusCode).toBe(200);
    expect((JSON.parse(await readBody(res)) as { hits: unknown[] }).hits).toHaveLength(acked);
  }
  await closed;
  await expect(fetch(`${server.url}/health`)).rejects.toThrow();

  const reopened = await openSpladexService({ dataDir, encodersDir: dataDir, logger });
  try {
    expect(reopened.getCollection('s').stats.documents).toBe(acked);
  } finally {
    await reopened.close();
  }
});

/** Starts `node --import tsx <entry>` on a data dir whose load is held by a named pipe, SIGTERMs it while loading. */
async function sigtermWhileLoading(entry: string[]): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'spladex-shutdown-loading-'));
  try {
    const logger = pino({ level: 'silent' });
    const seed = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    await seed.createCollection('kept', {});
    const documents = Array.from({ length: 30 }, (_, i) => ({ id: `k${i}`, text: `kept document ${i} basalt` }));
    expect((await seed.upsertDocuments('kept', documents)).indexed).toBe(30);
    await seed.close();
    // A named pipe in place of a collection.json holds the start-up load until the test writes the config.
    await mkdir(path.join(dir, 'slow'));
    const fifo = path.join(dir, 'slow', 'collection.json');
    execFileSync('mkfifo', [fifo]);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SPLADEX_DATA_DIR: dir,
      SPLADEX_PORT: '0',
      SPLADEX_HOST: '127.0.0.1',
      SPLADEX_LOG_LEVEL: 'info',
    };
    delete env.SPLADEX_API_KEY;
    const child = reapLater(
      spawn(process.execPath, ['--import', 'tsx', ...entry], {
        cwd: path.resolve(import.meta.dirname, '..'),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let out = '';
    const loading = new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (out.includes('"spladex loading"')) resolve();
      });
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    await Promise.race([loading, exited.then(() => Promise.reject(new Error(`exited early:\n${out}`)))]);
    const stopping = new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('"shutting down"') && resolve()));
    child.kill('SIGTERM');
    await stopping;
    // The shutdown waits for the load to finish (so nothing is left half-open); let it finish.
    await writeFile(fifo, JSON.stringify({ encoder: 'lexical' }));
    const [code, signal] = await exited;
    expect({ code, signal }, out).toEqual({ code: 0, signal: null });
    expect(out).toContain('"spladex stopped"');
    expect(out).not.toContain('failed to start');

    await rm(fifo);
    await writeFile(fifo, JSON.stringify({ encoder: 'lexical' }));
    const reopened = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    try {
      expect(reopened.getCollection('kept').stats.documents).toBe(30);
      expect(reopened.getCollection('slow').stats.documents).toBe(0);
    } finally {
      await reopened.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

it('SIGTERM while collections load at start-up (src/main.ts, as npm start): exit code 0, nothing lost', () =>
  sigtermWhileLoading(['src/main.ts']));

it('SIGTERM while collections load at start-up (spladex serve): exit code 0, nothing lost', () =>
  sigtermWhileLoading(['src/cli/main.ts', 'serve']));
