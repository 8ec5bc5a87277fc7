import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { WalWriter, replayWal, walPath } from './wal.js';
import { decodeRecord, encodeDeleteRecord, encodeUpsertRecord, type WalRecord } from './wal-codec.js';
import type { StoreDocument } from './store-types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'spladex-wal-'));
  dirs.push(d);
  return d;
}

/** A logger that records warn messages. */
function recordingLogger(): { logger: pino.Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg as string) });
  return { logger, warnings };
}

const doc = (id: string, n: number): StoreDocument => ({
  id,
  title: `T ${id} ✓`,
  metadata: { n, tags: ['a', 'b'] },
  vector: { indices: Uint32Array.from({ length: n }, (_, i) => i * 3), values: Float32Array.from({ length: n }, (_, i) => i + 0.5) },
  dense: Float32Array.of(0.25, -1),
});

async function readAll(path: string, logger = pino({ level: 'silent' })): Promise<WalRecord[]> {
  const out: WalRecord[] = [];
  await replayWal(path, logger, (r) => out.push(r));
  return out;
}

describe('wal codec', () => {
  it('round-trips upserts with dictionary terms and deletes', () => {
    const docs = [doc('x', 3), { id: 'y', vector: { indices: new Uint32Array(0), values: new Float32Array(0) } }];
    const rec = decodeRecord(encodeUpsertRecord(docs, 7, ['über', 'b']));
    expect(rec).toEqual({ kind: 'upsert', dictFirstId: 7, terms: ['über', 'b'], docs });
    expect(decodeRecord(encodeDeleteRecord(['a', 'ü', '']))).toEqual({ kind: 'delete', ids: ['a', 'ü', ''] });
  });
});

describe('wal files', () => {
  it('group-commits concurrent appends and replays them in order', async () => {
    const dir = tmp();
    const w = await WalWriter.open(dir, 1);
    const applied: number[] = [];
    const all = Array.from({ length: 50 }, (_, i) =>
      w.append(encodeUpsertRecord([doc(`d${i}`, 1 + (i % 5))], 0, []), () => applied.push(i)),
    );
    await Promise.all(all);
    await w.append(encodeDeleteRecord(['d3']), () => applied.push(-1));
    await w.close();
    expect(applied).toEqual([...Array.from({ length: 50 }, (_, i) => i), -1]);
    const recs = await readAll(walPath(dir, 1));
    expect(recs.length).toBe(51);
    expect(recs.map((r) => (r.kind === 'upsert' ? r.docs[0].id : `-${r.ids[0]}`))).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `d${i}`),
      '-d3',
    ]);
  });

  it('truncates a torn tail with a warning and keeps appending after it', async () => {
    const dir = tmp();
    const w = await WalWriter.open(dir, 1);
    for (let i = 0; i < 3; i++) await w.append(encodeUpsertRecord([doc(`d${i}`, 4)], 0, []), () => 0);
    await w.close();
    const path = walPath(dir, 1);
    const goodSize = statSync(path).size;
    const extra = Buffer.concat([Buffer.from([200, 0, 0, 0, 1, 2, 3, 4]), Buffer.alloc(50, 7)]); // length 200 > remaining
    appendFileSync(path, extra);
    const { logger, warnings } = recordingLogger();
    const r = await replayWal(path, logger, () => {});
    expect(r).toMatchObject({ records: 3, sizeBytes: goodSize, truncatedBytes: extra.length });
    expect(statSync(path).size).toBe(goodSize);
    expect(warnings).toEqual(['discarding torn tail of write-ahead log']);
    const w2 = await WalWriter.open(dir, 1, r.sizeBytes);
    await w2.append(encodeDeleteRecord(['d0']), () => 0);
    await w2.close();
    expect((await readAll(path)).length).toBe(4);
  });

  it('treats a checksum failure in the last record as a torn tail, and earlier as CORRUPT_INDEX', async () => {
    const dir = tmp();
    const w = await WalWriter.open(dir, 1);
    for (let i = 0; i < 3; i++) await w.append(encodeUpsertRecord([doc(`d${i}`, 4)], 0, []), () => 0);
    await w.close();
    const path = walPath(dir, 1);
    const bytes = readFileSync(path);
    const lastFlip = Buffer.from(bytes);
    lastFlip[bytes.length - 3] ^= 0xff;
    writeFileSync(path, lastFlip);
    expect((await readAll(path)).length).toBe(2);
    const firstFlip = Buffer.from(bytes);
    firstFlip[16 + 8 + 5] ^= 0xff;
    writeFileSync(path, firstFlip);
    await expect(readAll(path)).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining(path) });
  });

  it('treats a zero-filled tail (file extended but data not written) as torn', async () => {
    const dir = tmp();
    const w = await WalWriter.open(dir, 1);
    await w.append(encodeDeleteRecord(['a']), () => 0);
    await w.close();
    const path = walPath(dir, 1);
    appendFileSync(path, Buffer.alloc(4096));
    expect((await readAll(path)).length).toBe(1);
  });
});

describe('wal damage in the middle (issue 11.9)', () => {
  async function threeRecords(): Promise<{ path: string; starts: number[] }> {
    const dir = tmp();
    const w = await WalWriter.open(dir, 1);
    for (let i = 0; i < 3; i++) await w.append(encodeUpsertRecord([doc(`d${i}`, 4)], 0, []), () => 0);
    await w.close();
    const path = walPath(dir, 1);
    const bytes = readFileSync(path);
    const starts: number[] = [];
    for (let pos = 16; pos < bytes.length; pos += 8 + bytes.readUInt32LE(pos)) starts.push(pos);
    return { path, starts };
  }

  it('a middle record whose length field is overwritten is CORRUPT_INDEX, not a torn tail dropping later records', async () => {
    for (const len of [0xfffffff0, 0x00ffff00, 0, 3]) {
      const { path, starts } = await threeRecords();
      const bytes = readFileSync(path);
      bytes.writeUInt32LE(len, starts[0]);
      writeFileSync(path, bytes);
      const { logger, warnings } = recordingLogger();
      await expect(readAll(path, logger), `length ${len}`).rejects.toMatchObject({
        code: 'CORRUPT_INDEX',
        message: expect.stringMatching(new RegExp(`${path}.*valid record follows at offset ${starts[1]}`)),
      });
      expect(warnings).toEqual([]);
      expect(statSync(path).size).toBe(bytes.length); // nothing cut
    }
  });

  it('garbage over the middle of the log, with valid records after it, is CORRUPT_INDEX', async () => {
    const { path, starts } = await threeRecords();
    const bytes = readFileSync(path);
    bytes.fill(0x5a, starts[0] + 4, starts[1] + 10); // the first record and the head of the second
    writeFileSync(path, bytes);
    await expect(readAll(path)).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining(`offset ${starts[2]}`) });
  });

  it('a torn tail is only the last, incomplete record: every cut inside it is repaired', async () => {
    const { path, starts } = await threeRecords();
    const bytes = readFileSync(path);
    for (let keep = starts[2] + 1; keep < bytes.length; keep += 7) {
      writeFileSync(path, bytes.subarray(0, keep));
      expect((await readAll(path)).length, `cut at ${keep}`).toBe(2);
      expect(statSync(path).size).toBe(starts[2]);
    }
  });
});

/** Mounts a tmpfs of `sizeBytes` (we run as root, as CI does); null with the reason when mount is refused. */
function mountTmpfs(sizeBytes: number): { dir: string; unmount: () => void } | { skip: string } {
  const dir = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return { skip: `mount -t tmpfs refused: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
  return { dir, unmount: () => execFileSync('umount', [dir]) };
}

describe('wal on a full volume (issue 11.3)', () => {
  it('disk full loses acknowledged writes: a short write at ENOSPC is never acknowledged, and the log works again once space is free', async (ctx) => {
    const fs = mountTmpfs(1 << 20);
    if ('skip' in fs) return ctx.skip(fs.skip);
    try {
      const dir = join(fs.dir, 'wal');
      mkdirSync(dir);
      const w = await WalWriter.open(dir, 1);
      await w.append(encodeUpsertRecord([doc('first', 4)], 0, []), () => 0);
      const good = statSync(walPath(dir, 1)).size;
      // Ballast leaves less room than the next record needs: the vectored write comes back short.
      const free = statfsSync(fs.dir).bavail * statfsSync(fs.dir).bsize;
      writeFileSync(join(fs.dir, 'ballast'), Buffer.alloc(free - 8192));
      const big = encodeUpsertRecord([doc('big', 4000)], 0, []);
      expect(big.length).toBeGreaterThan(8192 + 4096);
      let applied = 0;
      await expect(w.append(big, () => applied++)).rejects.toMatchObject({ code: 'STORAGE_FULL' });
      expect(applied).toBe(0);
      expect(statSync(walPath(dir, 1)).size).toBe(good); // cut back: no half record visible
      rmSync(join(fs.dir, 'ballast'));
      await w.append(big, () => applied++);
      await w.append(encodeDeleteRecord(['first']), () => applied++);
      await w.close();
      expect(applied).toBe(2);
      const recs = await readAll(walPath(dir, 1));
      expect(recs.map((r) => (r.kind === 'upsert' ? r.docs[0].id : `-${r.ids[0]}`))).toEqual(['first', 'big', '-first']);
    } finally {
      fs.unmount();
    }
  });
});
