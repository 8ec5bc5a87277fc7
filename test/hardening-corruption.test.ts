/**
 * Corruption over HTTP (issue 6): for EVERY file of a collection directory (segment files, Seismic index, delete
 * bitmap, dictionary, manifest, WAL, collection.json), flipping one byte in the middle makes that collection
 * answer 500 CORRUPT_INDEX naming the file (relative to the data dir) after a restart, while another collection
 * keeps serving searches and /health and /ready stay 200. A torn WAL tail is not corruption: it is cut off and the
 * documents before it are served. The pristine data dir is built once (real service, small memtable so two seals
 * happen, deletes in a sealed segment, three WAL records after the last seal), then copied per case.
 */
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';

const logger = pino({ level: 'silent' });
/** Size of the WAL file header (wal.ts HEADER_BYTES). */
const WAL_HEADER_BYTES = 16;
let root: string;
let pristine: string;
let pristineDocs: number;

async function openAt(dataDir: string) {
  const service = await openSpladexService({ dataDir, encodersDir: path.join(root, 'encoders'), logger, memtableMaxDocs: 30 });
  const app = await buildApp({ service, logger, dataDir });
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await app.inject({
      method: method as 'GET',
      url,
      payload: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
    return { status: res.statusCode, body: res.body === '' ? null : (res.json() as Record<string, unknown>) };
  };
  return {
    service,
    call,
    close: async () => {
      await app.close();
      await service.close();
    },
  };
}

/** Bounded poll on the service (seals run in a worker thread). */
async function until(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function docs(from: number, n: number) {
  return {
    documents: Array.from({ length: n }, (_, i) => ({
      id: `b${from + i}`,
      text: `broken collection document ${from + i} about quartz and granite`,
    })),
  };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'spladex-corrupt-'));
  pristine = path.join(root, 'pristine');
  const s = await openAt(pristine);
  try {
    expect((await s.call('PUT', '/v1/collections/good', {})).status).toBe(201);
    expect((await s.call('PUT', '/v1/collections/bad', { index: { approximateThreshold: 10 } })).status).toBe(201);
    await s.call('POST', '/v1/collections/good/documents', { documents: [{ id: 'g1', text: 'healthy collection about granite' }] });
    const stats = () => s.service.getCollection('bad').stats;
    await s.call('POST', '/v1/collections/bad/documents', docs(0, 30));
    await until(() => stats().segments === 1 && stats().memtableDocuments === 0, 'first seal');
    for (const id of ['b1', 'b2', 'b3']) expect((await s.call('DELETE', `/v1/collections/bad/documents/${id}`)).status).toBe(204);
    await s.call('POST', '/v1/collections/bad/documents', docs(30, 30));
    await until(() => stats().segments === 2 && stats().memtableDocuments === 0, 'second seal');
    // Three equal WAL records after the last seal, so the middle of the log is inside the middle record.
    for (const from of [60, 63, 66]) await s.call('POST', '/v1/collections/bad/documents', docs(from, 3));
    pristineDocs = stats().documents;
    expect(pristineDocs).toBe(66);
  } finally {
    await s.close();
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Copies the pristine data dir, applies `damage` to the copy and opens a server over it. */
async function damaged(name: string, damage: (dataDir: string) => Promise<void>) {
  const dataDir = path.join(root, name.replace(/[^a-z0-9]+/gi, '_'));
  await cp(pristine, dataDir, { recursive: true });
  await damage(dataDir);
  return { dataDir, server: await openAt(dataDir) };
}

async function flipMiddleByte(file: string): Promise<void> {
  const buf = await readFile(file);
  buf[buf.length >> 1] ^= 0xff;
  await writeFile(file, buf);
}

it('the pristine collection dir has every kind of file', async () => {
  const files = await listFiles(path.join(pristine, 'bad'));
  const kinds = new Set(files.map((f) => path.basename(f).replace(/[-.]?\d+/g, '')));
  expect(files).toContain('collection.json');
  expect(files).toContain(path.join('store', 'MANIFEST.json'));
  expect(files.some((f) => /^store\/wal-\d+\.log$/.test(f))).toBe(true);
  expect(files.some((f) => /^store\/del-seg-\d+-\d+\.bin$/.test(f))).toBe(true);
  expect(files.some((f) => /^store\/dict-\d+\.bin$/.test(f))).toBe(true);
  expect(files.some((f) => /^store\/seg-\d+\/seismic\.bin$/.test(f))).toBe(true);
  expect(kinds.size).toBeGreaterThanOrEqual(7);
});

it('a flipped byte in any file → CORRUPT_INDEX naming it; the other collection keeps serving', async () => {
  const files = (await listFiles(path.join(pristine, 'bad'))).filter((f) => path.basename(f) !== 'LOCK');
  const outcomes: string[] = [];
  for (const rel of files) {
    const { dataDir, server } = await damaged(rel, (d) => flipMiddleByte(path.join(d, 'bad', rel)));
    try {
      const info = await server.call('GET', '/v1/collections/bad');
      const search = await server.call('POST', '/v1/collections/bad/search', { query: 'quartz' });
      const named = path.join('bad', rel);
      outcomes.push(`${rel}: ${info.status} ${String(info.body?.code)} ${String(info.body?.message)}`);
      for (const res of [info, search]) {
        expect.soft(res.status, rel).toBe(500);
        expect.soft(res.body?.code, rel).toBe('CORRUPT_INDEX');
        expect.soft(String(res.body?.message), rel).toContain(named);
        expect.soft(String(res.body?.message), rel).not.toContain(dataDir);
      }
      const good = await server.call('POST', '/v1/collections/good/search', { query: 'granite' });
      expect(good.status, rel).toBe(200);
      expect((good.body?.hits as { id: string }[]).map((h) => h.id)).toEqual(['g1']);
      expect((await server.call('GET', '/health')).status).toBe(200);
      expect((await server.call('GET', '/ready')).status).toBe(200);
      // A broken collection can still be deleted, and the name reused.
      expect((await server.call('DELETE', '/v1/collections/bad')).status).toBe(204);
      expect((await server.call('PUT', '/v1/collections/bad', {})).status).toBe(201);
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  expect(files.length).toBeGreaterThanOrEqual(8);
});

it('collection.json: one changed digit that still parses as a valid config → CORRUPT_INDEX (its checksum)', async () => {
  const { dataDir, server } = await damaged('config value', async (d) => {
    const file = path.join(d, 'bad', 'collection.json');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('"approximateThreshold": 10,');
    await writeFile(file, text.replace('"approximateThreshold": 10,', '"approximateThreshold": 11,'));
  });
  try {
    const info = await server.call('GET', '/v1/collections/bad');
    expect(info.status).toBe(500);
    expect(info.body?.code).toBe('CORRUPT_INDEX');
    expect(String(info.body?.message)).toContain(`${path.join('bad', 'collection.json')}: checksum mismatch`);
    const good = await server.call('POST', '/v1/collections/good/search', { query: 'granite' });
    expect(good.status).toBe(200);
    expect((await server.call('GET', '/ready')).status).toBe(200);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

async function walFile(dataDir: string): Promise<string> {
  const store = path.join(dataDir, 'bad', 'store');
  const wals = (await readdir(store)).filter((f) => /^wal-\d+\.log$/.test(f)).sort();
  return path.join(store, wals[wals.length - 1]);
}

it('a torn WAL tail (cut anywhere inside the last record) is cut off: the documents before it are served', async () => {
  const wal = await walFile(pristine);
  const bytes = await readFile(wal);
  let last = WAL_HEADER_BYTES;
  while (last + 8 + bytes.readUInt32LE(last) < bytes.length) last += 8 + bytes.readUInt32LE(last);
  const len = bytes.readUInt32LE(last);
  for (const keep of [last + 3, last + 8, last + 8 + (len >> 1), bytes.length - 1]) {
    const { dataDir, server } = await damaged(`torn${keep}`, async (d) => truncate(await walFile(d), keep));
    try {
      const info = await server.call('GET', '/v1/collections/bad');
      expect(info.status, `cut at ${keep - last} of the last record`).toBe(200);
      expect((info.body?.stats as { documents: number }).documents).toBe(pristineDocs - 3);
      expect((await server.call('GET', '/v1/collections/bad/documents/b65')).status).toBe(200);
      expect((await server.call('GET', '/v1/collections/bad/documents/b66')).status).toBe(404);
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
});

it('any flipped byte of the middle WAL record (header included) → CORRUPT_INDEX, never a silent cut', async () => {
  const wal = await walFile(pristine);
  const bytes = await readFile(wal);
  // Walk the records (wal.ts: file header, then per record u32 length, u32 CRC32, payload) to find the middle one.
  const starts: number[] = [];
  for (let pos = WAL_HEADER_BYTES; pos < bytes.length; pos += 8 + bytes.readUInt32LE(pos)) starts.push(pos);
  expect(starts).toHaveLength(3);
  const start = starts[1];
  const len = bytes.readUInt32LE(start);
  const positions = [0, 1, 2, 3, 4, 7, 8, 8 + (len >> 1), 8 + len - 1].map((o) => start + o);
  for (const at of positions) {
    const { dataDir, server } = await damaged(`wal${at}`, async (d) => {
      const file = await walFile(d);
      const buf = await readFile(file);
      buf[at] ^= 0xff;
      await writeFile(file, buf);
    });
    try {
      const info = await server.call('GET', '/v1/collections/bad');
      const where = `byte ${at - start} of the middle record: ${JSON.stringify(info.body).slice(0, 200)}`;
      expect.soft(info.status, where).toBe(500);
      expect.soft(info.body?.code, where).toBe('CORRUPT_INDEX');
      expect.soft(String(info.body?.message), where).toContain(path.join('bad', 'store', path.basename(wal)));
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
});
