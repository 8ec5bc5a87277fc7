/**
 * Durability and lifecycle of the real process: `node --import tsx src/main.ts` on a temp data dir and an
 * ephemeral port. An acknowledged upsert survives SIGKILL (found again by search and by id after a restart),
 * SIGTERM shuts down cleanly with exit code 0, and a failed start exits 1 with one line naming the problem. The port is read from the "spladex listening" log line;
 * waits are bounded and driven by the child's output and exit events, never by sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reapLater } from './support/child-reaper.js';

const ROOT = path.resolve(import.meta.dirname, '..');
let dataDir: string;
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  base: string;
  output: () => string;
}

function spawnMain(overrides: Record<string, string> = {}): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SPLADEX_DATA_DIR: dataDir,
    SPLADEX_PORT: '0',
    SPLADEX_HOST: '127.0.0.1',
    SPLADEX_LOG_LEVEL: 'info',
    ...overrides,
  };
  delete env.SPLADEX_API_KEY;
  const child = reapLater(
    spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  children.push(child);
  return child;
}

/** Runs main.ts expecting it to fail at start; resolves with its exit code and all output. */
async function failedStart(overrides: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnMain(overrides);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const { code } = await exited(child);
  return { code, output };
}

/** Starts the server and resolves once it logs its port (rejects on exit or after `timeoutMs`). */
function startMain(timeoutMs = 60_000): Promise<Started> {
  const child = spawnMain();
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      for (const line of out.split('\n')) {
        if (!line.includes('"spladex listening"')) continue;
        const port = (JSON.parse(line) as { port: number }).port;
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${port}`, output: () => out });
        return;
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code ?? signal}):\n${out}`));
    });
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-durable-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

it('an acknowledged upsert survives SIGKILL; SIGTERM exits cleanly', async () => {
  const json = { 'content-type': 'application/json' };
  const first = await startMain();
  expect((await fetch(`${first.base}/v1/collections/durable`, { method: 'PUT', headers: json, body: '{}' })).status).toBe(201);
  const up = await fetch(`${first.base}/v1/collections/durable/documents`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ documents: [{ id: 'keep-me', title: 'Survivor', text: 'persistent zebra crossing' }] }),
  });
  expect(await up.json()).toEqual({ indexed: 1, errors: [] });
  expect((await fetch(`${first.base}/v1/collections/durable/documents/keep-me`)).status).toBe(200);

  first.child.kill('SIGKILL');
  expect((await exited(first.child)).signal).toBe('SIGKILL');

  const second = await startMain();
  const ready = await fetch(`${second.base}/ready`);
  expect(ready.status).toBe(200);
  const doc = await fetch(`${second.base}/v1/collections/durable/documents/keep-me`);
  expect(doc.status).toBe(200);
  expect(await doc.json()).toEqual({ id: 'keep-me', title: 'Survivor', text: 'persistent zebra crossing' });
  const search = await fetch(`${second.base}/v1/collections/durable/search`, { method: 'POST', headers: json, body: '{"query": "zebra"}' });
  const hits = ((await search.json()) as { hits: { id: string }[] }).hits;
  expect(hits.map((h) => h.id)).toEqual(['keep-me']);

  second.child.kill('SIGTERM');
  const end = await exited(second.child);
  expect(end).toEqual({ code: 0, signal: null });
  expect(second.output()).toContain('"spladex stopped"');
}, 120_000);

it('fails to start with exit code 1 and one clear line on a bad environment', async () => {
  const badEnv = await failedStart({ SPLADEX_PORT: 'eighty' });
  expect(badEnv.code).toBe(1);
  expect(badEnv.output).toContain('"code":"INVALID_ARGUMENT"');
  expect(badEnv.output).toContain('SPLADEX_PORT');
}, 120_000);
