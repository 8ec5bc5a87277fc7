/**
 * Who owns a data dir (issue 11.4, 11.5, 11.6), with real server processes (`node --import tsx src/main.ts`), the
 * real CLI and real HTTP:
 * - 11.4: the CLI writing into a data dir a server holds fails fast suggesting `--url`; `PUT` on a collection
 *   directory that is on disk but not loaded opens it (200 with its documents) or answers 409, never deletes;
 * - 11.5: a second server on the same data dir refuses to start, and the first keeps serving what it holds;
 * - 11.6: a server that is pid 1 of a fresh pid namespace, killed with SIGKILL, restarts in a new namespace (pid 1
 *   again) and opens every collection, while a live one still refuses a second server;
 * - a collection whose store another process holds is listed with its error (no absolute path) and can be neither
 *   deleted nor created over;
 * - a delete renames the collection out of the namespace first (a crash leaves only a `.trash-` dir, removed at the
 *   next open), and a directory the service never loaded is neither deleted nor replaced;
 * - a second service on the same data dir in one process is refused too (the lock is per open file, not per pid).
 * Every wait is driven by the processes' output, exit or a bounded poll; nothing sleeps.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, spawnServer, type ServerProcess } from './support/server-process.js';
import { runCliCaptured, type CliResult } from './support/cli.js';
import { openSpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { readLockHolder } from '../src/storage/lock.js';
import { reapLater } from './support/child-reaper.js';

const root = mkdtempSync(path.join(tmpdir(), 'spladex-owner-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const json = { 'content-type': 'application/json' };

const docs = [
  { _id: 'd1', title: 'Vitamin D', text: 'Vitamin D deficiency is common in winter.' },
  { _id: 'd2', title: 'Cats', text: 'Cats sleep most of the day.' },
  { _id: 'd3', title: 'Dogs', text: 'Dogs bark at cats and at the mailman.' },
  { _id: 'd4', title: 'Bones', text: 'Calcium and vitamin D keep bones strong.' },
];
const corpus = path.join(root, 'corpus.jsonl');
writeFileSync(corpus, `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);

interface Exit {
  code: number | null;
  output: string;
  /** True when the process got as far as listening (it is killed then). */
  listened: boolean;
}

/** Runs the server until it exits, or until it listens (then kills it): a refused start must exit by itself. */
async function runServerToExit(dataDir: string, launcher: string[] = []): Promise<Exit> {
  const argv = [...launcher, process.execPath, '--import', 'tsx', 'src/main.ts'];
  const env = { ...process.env, SPLADEX_DATA_DIR: dataDir, SPLADEX_PORT: '0', SPLADEX_HOST: '127.0.0.1', SPLADEX_LOG_LEVEL: 'info' };
  const child = reapLater(spawn(argv[0], argv.slice(1), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  let listened = false;
  const onData = (c: Buffer) => {
    output += String(c);
    if (!listened && output.includes('"spladex loading"')) {
      listened = true;
      child.kill('SIGKILL');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output, listened };
}

function cliProcess(args: string[], dataDir: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: REPO_ROOT, env: { ...process.env, SPLADEX_DATA_DIR: dataDir }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function cliInProcess(args: string[], dataDir: string): Promise<CliResult> {
  return runCliCaptured(args, { SPLADEX_DATA_DIR: dataDir });
}

/** sha256 of every file under `dir` except LOCK (its holder information changes with every open). */
function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== 'LOCK') out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

async function indexDocs(base: string, name: string, ids: string[]): Promise<void> {
  expect((await fetch(`${base}/v1/collections/${name}`, { method: 'PUT', headers: json, body: '{}' })).status).toBe(201);
  const documents = ids.map((id) => ({ id, text: `granite document ${id}` }));
  const res = await fetch(`${base}/v1/collections/${name}/documents`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ documents }),
  });
  expect(await res.json()).toEqual({ indexed: ids.length, errors: [] });
}

async function searchIds(base: string, name: string, query: string): Promise<string[]> {
  const res = await fetch(`${base}/v1/collections/${name}/search`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ query, k: 100 }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { hits: { id: string }[] }).hits.map((h) => h.id).sort();
}

describe('a data dir held by a running server', () => {
  let dataDir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dataDir = path.join(root, 'held');
    server = await spawnServer({ dataDir });
    await indexDocs(server.base, 'c1', ['a', 'b', 'c']);
  }, 120_000);
  afterAll(async () => {
    server.kill('SIGKILL');
    await server.exited;
  });

  it('11.4: spladex index into the data dir a server holds fails fast (exit 1) suggesting --url, and writes nothing', async () => {
    const before = readdirSync(dataDir).sort();
    const r = await cliProcess(['index', 'scifact', '--input', corpus], dataDir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--url ${server.base}`);
    expect(r.stderr).toContain(`process ${server.pid}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).not.toContain('indexed');
    expect(readdirSync(dataDir).sort()).toEqual(before);
    // The other local commands that open the store refuse the same way (inspect too: opening replays the WAL).
    for (const args of [
      ['optimize', 'c1'],
      ['inspect', 'c1'],
      ['search', 'c1', 'granite'],
    ]) {
      const local = await cliInProcess(args, dataDir);
      expect(local.code, args.join(' ')).toBe(1);
      expect(local.stderr, args.join(' ')).toContain(`--url ${server.base}`);
    }
    // The suggested door works.
    const viaUrl = await cliInProcess(['index', 'scifact', '--input', corpus, '--url', server.base, '--quiet'], dataDir);
    expect(viaUrl.stderr).toBe('');
    expect(viaUrl.code).toBe(0);
    expect(await searchIds(server.base, 'scifact', 'vitamin')).toEqual(['d1', 'd4']);
  }, 120_000);

  it('11.4: PUT on a collection directory that is on disk but not loaded opens it (200 with its documents) or answers 409; it never deletes', async () => {
    // A collection built elsewhere with the CLI, then copied into the live data dir (a restore from backup).
    const elsewhere = path.join(root, 'elsewhere');
    expect((await cliInProcess(['index', 'sci', '--input', corpus, '--quiet', '--data', elsewhere], dataDir)).code).toBe(0);
    for (const name of ['restored', 'other-config']) cpSync(path.join(elsewhere, 'sci'), path.join(dataDir, name), { recursive: true });
    const digest = treeDigest(path.join(elsewhere, 'sci'));

    const put = await fetch(`${server.base}/v1/collections/restored`, { method: 'PUT', headers: json, body: '{}' });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { stats: { documents: number } }).stats.documents).toBe(4);
    expect(await searchIds(server.base, 'restored', 'vitamin')).toEqual(['d1', 'd4']);

    const conflict = await fetch(`${server.base}/v1/collections/other-config`, {
      method: 'PUT',
      headers: json,
      body: '{"encoder":"none","dim":10}',
    });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { code: string }).code).toBe('CONFLICT');
    expect(treeDigest(path.join(dataDir, 'other-config'))).toEqual(digest);

    // A directory with data but no collection.json is not ours to replace.
    cpSync(path.join(elsewhere, 'sci'), path.join(dataDir, 'no-config'), { recursive: true });
    rmSync(path.join(dataDir, 'no-config', 'collection.json'));
    const stray = await fetch(`${server.base}/v1/collections/no-config`, { method: 'PUT', headers: json, body: '{}' });
    expect(stray.status).toBe(409);
    expect(treeDigest(path.join(dataDir, 'no-config'))).toEqual(
      Object.fromEntries(Object.entries(digest).filter(([k]) => k !== 'collection.json')),
    );

    // An empty directory (an interrupted creation) is taken.
    mkdirSync(path.join(dataDir, 'empty-dir'));
    expect((await fetch(`${server.base}/v1/collections/empty-dir`, { method: 'PUT', headers: json, body: '{}' })).status).toBe(201);
  }, 120_000);

  it('11.5: a second server on the same data dir refuses to start, naming the dir and the holder; the first keeps its collection', async () => {
    const second = await runServerToExit(dataDir);
    expect(second.listened).toBe(false);
    expect(second.code).toBe(1);
    const lines = second.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(dataDir);
    expect(lines[0]).toContain(`process ${server.pid}`);
    // The first still serves c1 and acknowledges writes that stay visible.
    const res = await fetch(`${server.base}/v1/collections/c1/documents`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ documents: [{ id: 'd', text: 'granite four' }] }),
    });
    expect(await res.json()).toEqual({ indexed: 1, errors: [] });
    expect(await searchIds(server.base, 'c1', 'granite')).toEqual(['a', 'b', 'c', 'd']);
    expect(statSync(path.join(dataDir, 'c1', 'store')).isDirectory()).toBe(true);
  }, 120_000);
});

/** Whether this sandbox lets us make pid namespaces; the reason when not. */
function unshareProblem(): string | null {
  try {
    const pid = execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', 'echo $$'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    return pid === '1' ? null : `unshare ran, but the child is pid ${pid}, not 1`;
  } catch (e) {
    return `unshare --pid --fork --mount-proc is refused here: ${(e as Error).message.split('\n')[0]}`;
  }
}
const noUnshare = unshareProblem();
const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

describe.skipIf(noUnshare !== null)(`11.6: container restarts (pid namespaces)${noUnshare ? ` — skipped: ${noUnshare}` : ''}`, () => {
  it('a server that is pid 1 of its namespace, killed with SIGKILL, restarts as pid 1 of a new one and opens every collection; a live one refuses a second', async () => {
    const dataDir = path.join(root, 'container');
    const first = await spawnServer({ dataDir, launcher: UNSHARE });
    let second: ServerProcess | undefined;
    try {
      await indexDocs(first.base, 'c1', ['a', 'b', 'c']);
      await indexDocs(first.base, 'c2', ['x', 'y']);
      // The server is pid 1 inside its namespace: that is what it wrote as information into the LOCK files.
      for (const lock of ['LOCK', 'c1/store/LOCK', 'c2/store/LOCK'])
        expect(readLockHolder(readFileSync(path.join(dataDir, lock), 'utf8'))?.pid, lock).toBe(1);

      const refused = await runServerToExit(dataDir, UNSHARE);
      expect(refused.listened).toBe(false);
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('locked by process 1');

      // SIGKILL the namespace's pid 1 (the node process, a child of unshare) as a crashing container would.
      const nodePid = Number(readFileSync(`/proc/${first.pid}/task/${first.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      expect(nodePid).toBeGreaterThan(1);
      process.kill(nodePid, 'SIGKILL');
      await first.exited;

      second = await spawnServer({ dataDir, launcher: UNSHARE });
      const list = (await (await fetch(`${second.base}/v1/collections`)).json()) as {
        collections: { name: string; documents: number; error?: string }[];
      };
      expect(list.collections.map((c) => [c.name, c.documents, c.error])).toEqual([
        ['c1', 3, undefined],
        ['c2', 2, undefined],
      ]);
      expect(await searchIds(second.base, 'c1', 'granite')).toEqual(['a', 'b', 'c']);
      expect(await searchIds(second.base, 'c2', 'granite')).toEqual(['x', 'y']);
      expect(readLockHolder(readFileSync(path.join(dataDir, 'LOCK'), 'utf8'))?.pid).toBe(1);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
      await first.exited;
      await second?.exited;
    }
  }, 180_000);
});

describe('a collection whose store another process holds', () => {
  it('is listed with its error (relative to the data dir) and can be neither deleted nor created over', async () => {
    const dataDir = path.join(root, 'foreign');
    const logger = pino({ level: 'silent' });
    const seed = await openSpladexService({ dataDir, encodersDir: dataDir, logger });
    await seed.createCollection('c1', {});
    await seed.upsertDocuments('c1', [{ id: 'a', text: 'granite' }]);
    await seed.close();

    const storeDir = path.join(dataDir, 'c1', 'store');
    const lockModule = path.join(REPO_ROOT, 'src', 'storage', 'lock.ts');
    const script = `import { acquireDirLock } from ${JSON.stringify(lockModule)};
      await acquireDirLock(${JSON.stringify(storeDir)}, { role: 'foreign' });
      process.stdout.write('held\\n');
      setInterval(() => {}, 1 << 30);`;
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const holderExited = once(holder, 'exit');
    try {
      let out = '';
      for await (const chunk of holder.stdout) if ((out += String(chunk)).includes('held\n')) break;
      const digest = treeDigest(path.join(dataDir, 'c1'));

      const service = await openSpladexService({ dataDir, encodersDir: dataDir, logger });
      const app = await buildApp({ service, logger, dataDir });
      try {
        const list = (await app.inject({ method: 'GET', url: '/v1/collections' })).json() as {
          collections: { name: string; error?: string }[];
        };
        expect(list.collections).toHaveLength(1);
        const error = String(list.collections[0].error);
        expect(error).toMatch(/^BUSY: /);
        expect(error).toContain(`${path.join('c1', 'store')} is locked by process ${holder.pid}`);
        expect(error).not.toContain(path.resolve(dataDir));

        const del = await app.inject({ method: 'DELETE', url: '/v1/collections/c1' });
        expect(del.statusCode).toBe(409);
        expect(del.json()).toMatchObject({ code: 'CONFLICT' });
        const put = await app.inject({ method: 'PUT', url: '/v1/collections/c1', payload: {} });
        expect(put.statusCode).toBe(409);
        expect(treeDigest(path.join(dataDir, 'c1'))).toEqual(digest);
      } finally {
        await app.close();
        await service.close();
      }
    } finally {
      holder.kill('SIGKILL');
      await holderExited;
    }
  }, 120_000);
});

describe('deleting', () => {
  it('renames the collection out of the namespace before removing it; a leftover .trash- dir is removed at the next open; an unknown directory is never deleted', async () => {
    const dataDir = path.join(root, 'deleting');
    const logger = pino({ level: 'silent' });
    const service = await openSpladexService({ dataDir, encodersDir: dataDir, logger });
    try {
      await service.createCollection('gone', {});
      await service.upsertDocuments('gone', [{ id: 'a', text: 'granite' }]);
      await service.deleteCollection('gone');
      expect(readdirSync(dataDir).filter((e) => e !== 'LOCK')).toEqual([]);
      // A directory the service has not loaded (no collection.json) is not its to delete.
      mkdirSync(path.join(dataDir, 'unknown', 'store'), { recursive: true });
      writeFileSync(path.join(dataDir, 'unknown', 'notes.txt'), 'mine');
      await expect(service.deleteCollection('unknown')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(service.createCollection('unknown', {})).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('notes.txt'),
      });
      expect(readFileSync(path.join(dataDir, 'unknown', 'notes.txt'), 'utf8')).toBe('mine');
    } finally {
      await service.close();
    }
    // What a crash between the rename and the removal leaves behind.
    mkdirSync(path.join(dataDir, '.trash-old-1-2', 'store'), { recursive: true });
    const reopened = await openSpladexService({ dataDir, encodersDir: dataDir, logger });
    try {
      expect(readdirSync(dataDir).sort()).toEqual(['LOCK', 'unknown']);
      expect(reopened.listCollections().collections).toEqual([]);
    } finally {
      await reopened.close();
    }
  });

  it('a second service on a data dir this process already holds is refused, naming this pid', async () => {
    const dataDir = path.join(root, 'twice');
    const logger = pino({ level: 'silent' });
    const first = await openSpladexService({ dataDir, encodersDir: dataDir, logger, role: 'server' });
    try {
      await expect(openSpladexService({ dataDir, encodersDir: dataDir, logger })).rejects.toMatchObject({
        code: 'BUSY',
        message: expect.stringContaining(`data directory ${dataDir} is locked by process ${process.pid} (server`),
      });
    } finally {
      await first.close();
    }
    const again = await openSpladexService({ dataDir, encodersDir: dataDir, logger });
    await again.close();
  });
});
