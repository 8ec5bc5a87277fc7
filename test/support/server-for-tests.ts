/**
 * A real server process for the tests of one file or `describe`, on a fresh temp data dir: started in `beforeAll`,
 * stopped in `afterAll` (SIGTERM, its exit awaited) and its data dir removed. Kept apart from server-process.ts,
 * which the bench scripts import outside vitest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { spawnServer, type ServerProcess, type SpawnServerOptions } from './server-process.js';

/** Registers the hooks; the returned function gives the running server inside the tests. */
export function serverForTests(dirPrefix: string, opts: Omit<SpawnServerOptions, 'dataDir'>): () => ServerProcess {
  let dataDir = '';
  let server: ServerProcess | null = null;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), dirPrefix));
    server = await spawnServer({ ...opts, dataDir });
  });
  afterAll(async () => {
    if (server !== null) {
      server.kill('SIGTERM');
      await server.exited;
    }
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (server === null) throw new Error('the server is started in beforeAll');
    return server;
  };
}
