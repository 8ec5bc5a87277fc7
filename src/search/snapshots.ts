/**
 * Collection snapshots (API.md "Snapshots"): `<snapshotDir>/<collection>/<id>/` holds `collection.json`, the
 * dense model `lsa.bin` when the collection has one, `store/` (a store snapshot: storage/store-snapshot.ts) and
 * `SNAPSHOT.json`, written last:
 *
 *   { "format": 1, "id", "collection", "createdAt", "walGeneration", "documents",
 *     "files": [{ "path": "store/seg-00000001/forward.bin", "sizeBytes": n, "sha256": "<hex>" }, ...] }
 *
 * A snapshot is built in `<collection>/.tmp-<id>` and renamed to `<id>` once SNAPSHOT.json is durable, so a listed
 * snapshot is always complete (a crash leaves only a `.tmp-*` directory, never listed, removed by the next
 * snapshot of that collection). Restore reads SNAPSHOT.json and checks every file's size and sha256 before using
 * any (a missing or damaged one is CORRUPT_INDEX naming it, relative to the snapshot dir), then links (copies
 * across devices) the immutable files and copies the WAL and collection.json into the target directory.
 * Ids: `<UTC YYYYMMDDTHHMMSSmmmZ>-<2 hex>`, sortable by time. Caller: spladex-service.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { corruptIndex, notFound } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { fsyncDir } from '../core/section-file.js';
import { copyDurably, linkOrCopy } from '../storage/store-snapshot.js';
import type { CollectionStore } from '../storage/store-types.js';
import { COLLECTION_FILE } from './collection-file.js';

export const SNAPSHOT_FILE = 'SNAPSHOT.json';
export const SNAPSHOT_ID_RE = /^\d{8}T\d{9}Z-[0-9a-f]{2}$/;
const LSA_FILE = 'lsa.bin';

export interface SnapshotFile {
  path: string;
  sizeBytes: number;
  sha256: string;
}

/** SNAPSHOT.json. */
export interface SnapshotManifest {
  format: 1;
  id: string;
  collection: string;
  createdAt: string;
  walGeneration: number;
  documents: number;
  files: SnapshotFile[];
}

/** What the API answers for a snapshot. */
export interface SnapshotInfo {
  id: string;
  collection: string;
  createdAt: string;
  documents: number;
  walGeneration: number;
  files: number;
  bytes: number;
}

/** sha256 (hex) of a file, streamed. */
async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function newSnapshotId(): string {
  const t = new Date().toISOString().replace(/[-:.]/g, '');
  return `${t}-${randomBytes(1).toString('hex')}`;
}

function infoOf(m: SnapshotManifest): SnapshotInfo {
  const { id, collection, createdAt, documents, walGeneration } = m;
  return {
    id,
    collection,
    createdAt,
    documents,
    walGeneration,
    files: m.files.length,
    bytes: m.files.reduce((n, f) => n + f.sizeBytes, 0),
  };
}

/** Options of `createSnapshot`. */
export interface CreateSnapshotOptions {
  /** Root of all snapshots (SPLADEX_SNAPSHOT_DIR). */
  snapshotDir: string;
  collection: string;
  /** The collection's directory (`<dataDir>/<name>`: collection.json, lsa.bin). */
  collectionDir: string;
  store: CollectionStore;
}

/** Makes a snapshot of a serving collection; see the file comment. STORAGE_FULL when the volume fills. */
export async function createSnapshot(opts: CreateSnapshotOptions): Promise<SnapshotInfo> {
  const root = path.join(opts.snapshotDir, opts.collection);
  await fs.mkdir(root, { recursive: true });
  for (const e of await fs.readdir(root)) if (e.startsWith('.tmp-')) await fs.rm(path.join(root, e), { recursive: true, force: true });
  let id = newSnapshotId();
  while ((await fs.readdir(root)).includes(id)) id = newSnapshotId();
  const tmp = path.join(root, `.tmp-${id}`);
  await fs.mkdir(tmp);
  try {
    const store = await opts.store.writeSnapshot(path.join(tmp, 'store'));
    const files = store.files.map((f) => `store/${f}`);
    await copyDurably(path.join(opts.collectionDir, COLLECTION_FILE), path.join(tmp, COLLECTION_FILE));
    files.push(COLLECTION_FILE);
    try {
      await copyDurably(path.join(opts.collectionDir, LSA_FILE), path.join(tmp, LSA_FILE));
      files.push(LSA_FILE);
    } catch (err) {
      // Not fitted yet (or no dense part): a restored collection fits its model again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const listed: SnapshotFile[] = [];
    for (const f of files) {
      const abs = path.join(tmp, f);
      listed.push({ path: f, sizeBytes: (await fs.stat(abs)).size, sha256: await sha256Of(abs) });
    }
    const manifest: SnapshotManifest = {
      format: 1,
      id,
      collection: opts.collection,
      createdAt: store.at,
      walGeneration: store.walGeneration,
      documents: store.documents,
      files: listed,
    };
    await writeFileAtomic(path.join(tmp, SNAPSHOT_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
    await fs.rename(tmp, path.join(root, id));
    await fsyncDir(root);
    return infoOf(manifest);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Complete snapshots of `collection`, oldest first (an unreadable SNAPSHOT.json is skipped: restore reports it). */
export async function listSnapshots(snapshotDir: string, collection: string): Promise<SnapshotInfo[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(path.join(snapshotDir, collection));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: SnapshotInfo[] = [];
  for (const id of entries.filter((e) => SNAPSHOT_ID_RE.test(e)).sort()) {
    try {
      out.push(infoOf(await loadSnapshotManifest(snapshotDir, collection, id)));
    } catch {
      // Listed by restore's error instead.
    }
  }
  return out;
}

/** Reads and shape-checks SNAPSHOT.json; NOT_FOUND when there is no such snapshot, CORRUPT_INDEX when damaged. */
async function loadSnapshotManifest(snapshotDir: string, collection: string, id: string): Promise<SnapshotManifest> {
  const rel = `${collection}/${id}/${SNAPSHOT_FILE}`;
  let text: string;
  try {
    text = await fs.readFile(path.join(snapshotDir, rel), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`snapshot "${id}" of collection "${collection}" not found`);
    throw err;
  }
  let m: SnapshotManifest;
  try {
    m = JSON.parse(text) as SnapshotManifest;
  } catch {
    throw corruptIndex(`snapshot ${rel}`, 'not valid JSON');
  }
  const okFile = (f: SnapshotFile) =>
    typeof f?.path === 'string' &&
    !f.path.split('/').includes('..') &&
    !path.isAbsolute(f.path) &&
    Number.isInteger(f.sizeBytes) &&
    /^[0-9a-f]{64}$/.test(f.sha256);
  if (m?.format !== 1 || m.id !== id || m.collection !== collection || !Array.isArray(m.files) || !m.files.every(okFile)) {
    throw corruptIndex(`snapshot ${rel}`, 'unexpected shape or format version');
  }
  return m;
}

/** Options of `restoreSnapshot`. */
export interface RestoreSnapshotOptions {
  snapshotDir: string;
  collection: string;
  id: string;
  /** Directory to restore into (must not exist); the caller renames it into the data dir. */
  targetDir: string;
}

/**
 * Verifies every file of snapshot `id` (size and sha256, before any is used), then writes the collection
 * directory `targetDir`. Returns the manifest. NOT_FOUND for an unknown snapshot; CORRUPT_INDEX naming the first
 * missing or damaged file (`corrupt index file snapshot <collection>/<id>/<path>: sha256 mismatch ...`).
 */
export async function restoreSnapshot(opts: RestoreSnapshotOptions): Promise<SnapshotManifest> {
  const m = await loadSnapshotManifest(opts.snapshotDir, opts.collection, opts.id);
  const base = path.join(opts.snapshotDir, opts.collection, opts.id);
  for (const f of m.files) {
    const rel = `snapshot ${opts.collection}/${opts.id}/${f.path}`;
    let size: number;
    try {
      size = (await fs.stat(path.join(base, f.path))).size;
    } catch {
      throw corruptIndex(rel, 'missing');
    }
    if (size !== f.sizeBytes) throw corruptIndex(rel, `${size} bytes, SNAPSHOT.json says ${f.sizeBytes}`);
    const sum = await sha256Of(path.join(base, f.path));
    if (sum !== f.sha256) throw corruptIndex(rel, `sha256 mismatch (${sum.slice(0, 12)}…, SNAPSHOT.json says ${f.sha256.slice(0, 12)}…)`);
  }
  await fs.mkdir(opts.targetDir);
  const dirs = new Set<string>();
  for (const f of m.files) {
    const to = path.join(opts.targetDir, f.path);
    const dir = path.dirname(to);
    if (!dirs.has(dir)) {
      await fs.mkdir(dir, { recursive: true });
      dirs.add(dir);
    }
    // Files a store appends to or rewrites in place are copied; immutable ones linked.
    const mutable = /(^|\/)wal-\d+\.log$/.test(f.path) || f.path === COLLECTION_FILE || f.path === LSA_FILE;
    if (mutable) await copyDurably(path.join(base, f.path), to);
    else await linkOrCopy(path.join(base, f.path), to);
  }
  for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await fsyncDir(dir);
  await fsyncDir(opts.targetDir);
  return m;
}
