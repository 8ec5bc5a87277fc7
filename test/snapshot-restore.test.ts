/**
 * Snapshots under a concurrent write load (issue 16, acceptance 3), through app.inject on a real service with
 * small memtables (seals and segment files during the run). Four writers each run a fixed sequence of upserts
 * and deletes, one request at a time, while a snapshot is taken. The snapshot point is the WAL rotation inside
 * the snapshot: every write acknowledged before the snapshot request was sent must be in it, every write sent
 * after its answer must not, and since each writer's writes are applied in order, the restored collection must
 * hold, per writer, exactly the effect of a prefix of its sequence whose length lies between those two counts;
 * its document count equals the snapshot's `documents`, and `spladex inspect` (after the server closed) verifies
 * every file of the restored collection. Damaged and incomplete snapshots are refused naming the file, and
 * nothing is created.
 */
import { appendFile, readdir, rm, unlink } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { runCliCaptured, type CliResult } from './support/cli.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const WRITERS = 4;
const OPS = 40;
/** Op k of writer w deletes a pre-loaded document every fifth op, else upserts a new one. */
const isDelete = (k: number) => k % 5 === 4;
const upsertId = (w: number, k: number) => `w${w}-${k}`;
const preId = (w: number, k: number) => `pre-${w}-${k}`;

/** Ids a writer's first `p` ops leave: its upserts so far, and its pre-loaded documents not yet deleted. */
function expectedFor(w: number, p: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < OPS; k++) {
    if (isDelete(k)) {
      if (k >= p) out.push(preId(w, k));
    } else if (k < p) out.push(upsertId(w, k));
  }
  return out;
}

async function allIds(t: TestServer, name: string): Promise<string[]> {
  const res = await t.call('POST', `/v1/collections/${name}/search`, { query: 'common', k: 1000, params: { exact: true } });
  expect(res.statusCode, res.body).toBe(200);
  return res
    .json()
    .hits.map((h: { id: string }) => h.id)
    .sort();
}

function cli(args: string[], dataDir: string): Promise<CliResult> {
  return runCliCaptured(args, { SPLADEX_DATA_DIR: dataDir });
}

describe('snapshots', () => {
  it('holds exactly the writes acknowledged before the snapshot point, with writers running', async () => {
    s = await startTestServer({ memtableMaxDocs: 12 });
    const t = s;
    expect((await t.call('PUT', '/v1/collections/c', { metadata: { w: 'number' } })).statusCode).toBe(201);
    const pre = [];
    for (let w = 0; w < WRITERS; w++) for (let k = 0; k < OPS; k++) if (isDelete(k)) pre.push({ id: preId(w, k), text: `common pre ${w}` });
    for (let i = 0; i < 30; i++) pre.push({ id: `base-${i}`, text: `common base ${i}`, metadata: { w: -1 } });
    expect((await t.call('POST', '/v1/collections/c/documents', { documents: pre })).json().indexed).toBe(pre.length);
    await t.call('POST', '/v1/collections/c/optimize', {});

    const issued = new Array<number>(WRITERS).fill(0);
    const acked = new Array<number>(WRITERS).fill(0);
    const writer = async (w: number) => {
      for (let k = 0; k < OPS; k++) {
        issued[w]++;
        const res = isDelete(k)
          ? await t.call('DELETE', `/v1/collections/c/documents/${preId(w, k)}`)
          : await t.call('POST', '/v1/collections/c/documents', {
              documents: [{ id: upsertId(w, k), text: `common writer ${w} op ${k}`, metadata: { w } }],
            });
        expect(res.statusCode, res.body).toBeLessThan(300);
        acked[w]++;
      }
    };
    let ackedBefore: number[] = [];
    let issuedAfter: number[] = [];
    const snapshotter = async () => {
      // Poll (yielding to the writers) until a quarter of the work is acknowledged: the snapshot lands mid-run.
      const deadline = Date.now() + 60_000;
      while (acked.reduce((a, b) => a + b, 0) < (WRITERS * OPS) / 4) {
        if (Date.now() > deadline) throw new Error('writers made no progress');
        await new Promise<void>((r) => setImmediate(r));
      }
      ackedBefore = [...acked];
      const res = await t.call('POST', '/v1/collections/c/snapshots');
      issuedAfter = [...issued];
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; documents: number; walGeneration: number; files: number };
    };
    const [snap] = await Promise.all([snapshotter(), ...Array.from({ length: WRITERS }, (_, w) => writer(w))]);
    // The writers really ran across the snapshot: some were still writing when it answered.
    expect(issuedAfter.reduce((a, b) => a + b, 0)).toBeLessThan(WRITERS * OPS);
    expect(snap.files).toBeGreaterThan(3);

    const list = (await t.call('GET', '/v1/collections/c/snapshots')).json().snapshots;
    expect(list.map((x: { id: string }) => x.id)).toEqual([snap.id]);

    const restored = await t.call('POST', '/v1/collections/c/restore', { snapshot: snap.id, as: 'restored' });
    expect(restored.statusCode, restored.body).toBe(201);
    expect(restored.json()).toMatchObject({ name: 'restored', snapshot: snap.id, documents: snap.documents });
    expect(restored.json().verifiedFiles).toBe(snap.files);

    const ids = new Set(await allIds(t, 'restored'));
    expect(ids.size).toBe(snap.documents);
    const want = new Set<string>(Array.from({ length: 30 }, (_, i) => `base-${i}`));
    for (let w = 0; w < WRITERS; w++) {
      // The prefix of writer w that the snapshot holds: the one whose effect matches, within the bounds.
      const fits: number[] = [];
      for (let p = ackedBefore[w]; p <= issuedAfter[w]; p++) {
        const e = expectedFor(w, p);
        const mine = [...ids].filter((id) => id.startsWith(`w${w}-`) || id.startsWith(`pre-${w}-`));
        if (mine.length === e.length && e.every((id) => ids.has(id))) fits.push(p);
      }
      expect(fits.length, `writer ${w}: acked ${ackedBefore[w]}, issued ${issuedAfter[w]}`).toBeGreaterThan(0);
      for (const id of expectedFor(w, fits[0])) want.add(id);
    }
    expect([...ids].sort()).toEqual([...want].sort());
    // A document's fields came through the WAL or a segment intact.
    const some = [...ids].find((id) => id.startsWith('w0-'));
    if (some !== undefined)
      expect((await t.call('GET', `/v1/collections/restored/documents/${some}`)).json().text).toBe(
        `common writer 0 op ${some.split('-')[1]}`,
      );

    // The source kept every write, and the restored collection is independent of it.
    expect((await allIds(t, 'c')).length).toBe(30 + WRITERS * (OPS - OPS / 5));
    await t.call('POST', '/v1/collections/restored/documents', { documents: [{ id: 'only-restored', text: 'common new' }] });
    expect((await t.call('GET', '/v1/collections/c/documents/only-restored')).statusCode).toBe(404);

    // spladex inspect verifies every file of the restored collection (the service must let go of the dir first).
    const dataDir = path.join(t.dataDir, 'index');
    await t.app.close();
    await t.service.close();
    const ins = await cli(['inspect', 'restored'], dataDir);
    expect(ins.stderr).toBe('');
    expect(ins.code).toBe(0);
    expect(JSON.parse(ins.stdout).stats.documents).toBe(snap.documents + 1);
    await rm(t.dataDir, { recursive: true, force: true });
    s = undefined;
  }, 120_000);

  it('refuses a damaged or incomplete snapshot naming the file, and creates nothing', async () => {
    s = await startTestServer();
    await s.call('PUT', '/v1/collections/c', {});
    await s.call('POST', '/v1/collections/c/documents', { documents: [{ id: 'a', text: 'common a' }] });
    await s.call('POST', '/v1/collections/c/optimize', {});
    await s.call('POST', '/v1/collections/c/documents', { documents: [{ id: 'b', text: 'common b' }] });
    const snap = (await s.call('POST', '/v1/collections/c/snapshots')).json();
    const snapDir = path.join(s.dataDir, 'index', '.snapshots', 'c', snap.id);
    const storeFiles = await readdir(path.join(snapDir, 'store'));
    const wal = storeFiles.find((f) => f.startsWith('wal-'));
    expect(wal).toBeDefined();

    const restore = (as: string, id = snap.id) =>
      s!.app.inject({ method: 'POST', url: '/v1/collections/c/restore', payload: { snapshot: id, as } });
    expect((await restore('good')).statusCode).toBe(201);
    expect(await allIds(s, 'good')).toEqual(['a', 'b']);

    // Copied WAL changed: sha256 (size too) no longer matches.
    await appendFile(path.join(snapDir, 'store', wal as string), Buffer.from([1]));
    let res = await restore('bad');
    expect(res.statusCode).toBe(500);
    expect(errorOf(res).code).toBe('CORRUPT_INDEX');
    expect(errorOf(res).message).toMatch(
      new RegExp(`^corrupt index file snapshot c/${snap.id}/store/${wal}: \\d+ bytes, SNAPSHOT.json says \\d+$`),
    );
    expect((await s.call('GET', '/v1/collections/bad')).statusCode).toBe(404);
    expect((await readdir(path.join(s.dataDir, 'index'))).filter((e) => e.includes('bad'))).toEqual([]);

    // A file missing.
    const snap2 = (await s.call('POST', '/v1/collections/c/snapshots')).json();
    const seg = (await readdir(path.join(s.dataDir, 'index', '.snapshots', 'c', snap2.id, 'store'))).find((f) => f.startsWith('seg-'));
    const segDir = path.join(s.dataDir, 'index', '.snapshots', 'c', snap2.id, 'store', seg as string);
    const victim = (await readdir(segDir))[0];
    await unlink(path.join(segDir, victim));
    res = await restore('bad2', snap2.id);
    expect(errorOf(res).message).toBe(`corrupt index file snapshot c/${snap2.id}/store/${seg}/${victim}: missing`);
    // The live collection did not lose the file (the snapshot held a link of its own).
    expect(await allIds(s, 'c')).toEqual(['a', 'b']);

    expect(errorOf(await restore('good')).code).toBe('CONFLICT');
    expect(errorOf(await restore('other', '20000101T000000000Z-00')).code).toBe('NOT_FOUND');
    expect((await restore('other', 'not-an-id')).statusCode).toBe(400);
    expect((await s.call('GET', '/v1/collections/nothing/snapshots')).json()).toEqual({ snapshots: [] });
    expect(errorOf(await s.call('POST', '/v1/collections/nothing/snapshots')).code).toBe('NOT_FOUND');
  });

  it('two snapshots of one collection at once both complete', async () => {
    s = await startTestServer();
    await s.call('PUT', '/v1/collections/c', {});
    await s.call('POST', '/v1/collections/c/documents', { documents: [{ id: 'a', text: 'common a' }] });
    const [a, b] = await Promise.all([s.call('POST', '/v1/collections/c/snapshots'), s.call('POST', '/v1/collections/c/snapshots')]);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    const ids = (await s.call('GET', '/v1/collections/c/snapshots')).json().snapshots.map((x: { id: string }) => x.id);
    expect(ids.sort()).toEqual([a.json().id, b.json().id].sort());
    for (const [i, id] of ids.entries())
      expect((await s.call('POST', '/v1/collections/c/restore', { snapshot: id, as: `r${i}` })).statusCode).toBe(201);
    // The snapshots outlive their collection.
    expect((await s.call('DELETE', '/v1/collections/c')).statusCode).toBe(204);
    expect((await s.call('GET', '/v1/collections/c/snapshots')).json().snapshots).toHaveLength(2);
    expect((await s.call('POST', '/v1/collections/c/restore', { snapshot: ids[0], as: 'c' })).json()).toMatchObject({
      name: 'c',
      documents: 1,
    });
  });

  it('works through an alias and the CLI (local and --url), into SPLADEX_SNAPSHOT_DIR', async () => {
    s = await startTestServer();
    await s.call('PUT', '/v1/collections/c', {});
    await s.call('POST', '/v1/collections/c/documents', { documents: [{ id: 'a', text: 'common a' }] });
    await s.call('PUT', '/v1/aliases/live', { collection: 'c' });
    const viaAlias = await s.call('POST', '/v1/collections/live/snapshots');
    expect(viaAlias.json().collection).toBe('c');
    expect((await s.call('GET', '/v1/collections/live/snapshots')).json().snapshots).toHaveLength(1);
    // The CLI over HTTP: snapshot, list, restore through a listening server.
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    const dataDir = path.join(s.dataDir, 'index');
    const remote = await cli(['snapshot', 'live', '--url', url], dataDir);
    expect(remote.code, remote.stderr).toBe(0);
    const remoteId = JSON.parse(remote.stdout).id as string;
    expect(JSON.parse((await cli(['snapshot', 'c', '--list', '--url', url], dataDir)).stdout).snapshots).toHaveLength(2);
    const remoteRestore = await cli(['restore', 'c', remoteId, '--as', 'over-http', '--url', url], dataDir);
    expect(remoteRestore.code, remoteRestore.stderr).toBe(0);
    expect(JSON.parse(remoteRestore.stdout)).toMatchObject({ name: 'over-http', documents: 1 });
    const bad = await cli(['restore', 'c', remoteId, '--as', 'over-http', '--url', url], dataDir);
    expect([bad.code, bad.stderr]).toEqual([1, 'spladex: error: CONFLICT: as: collection "over-http" exists; restore into a new name\n']);
    await s.app.close();
    await s.service.close();

    const snapshotDir = path.join(s.dataDir, 'elsewhere');
    const env = { SPLADEX_DATA_DIR: dataDir, SPLADEX_SNAPSHOT_DIR: snapshotDir };
    const run = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(args, { stdout: (x) => (stdout += x), stderr: (x) => (stderr += x), stderrIsTty: false }, env);
      return { code: code ?? -1, stdout, stderr };
    };
    const made = await run(['snapshot', 'c']);
    expect(made.code, made.stderr).toBe(0);
    const id = JSON.parse(made.stdout).id as string;
    expect(await readdir(path.join(snapshotDir, 'c'))).toEqual([id]);
    const listed = await run(['snapshot', 'c', '--list']);
    expect(JSON.parse(listed.stdout).snapshots.map((x: { id: string }) => x.id)).toEqual([id]);
    const back = await run(['restore', 'c', id, '--as', 'copy']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ name: 'copy', documents: 1 });
    expect((await run(['restore', 'c', id])).code).toBe(2);
    const ins = await run(['inspect', 'copy']);
    expect(ins.code).toBe(0);
    await rm(s.dataDir, { recursive: true, force: true });
    s = undefined;
  });
});
