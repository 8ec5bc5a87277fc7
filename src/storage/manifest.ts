/**
 * The collection manifest `MANIFEST.json`: the single source of truth for which files make up the collection's
 * durable state. Replaced atomically (write `MANIFEST.json.tmp`, fsync, rename, fsync the directory). Carries its
 * own checksum: `checksum` is the CRC32 (hex) of `JSON.stringify(body)` where body is the manifest without
 * `checksum`. On open: the listed segments, their delete files and the dictionary file are loaded, then WAL
 * generations >= `walGeneration` are replayed. Callers: collection-store.ts, store-seal-merge.ts, store-snapshot.ts.
 *
 * JSON shape: { format: 1, walGeneration, nextSegmentId, nextFileGeneration, dictionary: string|null,
 *               segments: [{ name, numDocs, deletes: string|null }], config: StoreConfig, checksum }
 */
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { writeAll } from '../core/atomic-file.js';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import type { StoreConfig } from './store-types.js';
import { asStorageError, corruptIndex, unreadableFile } from '../core/errors.js';
import { fsyncDir } from '../core/section-file.js';
import { parseWalName } from './wal.js';

export const MANIFEST_FILE = 'MANIFEST.json';

export interface ManifestSegment {
  /** Segment directory name (`seg-<8 digits>`). */
  name: string;
  numDocs: number;
  /** Delete bitmap file name, or null when nothing is deleted. */
  deletes: string | null;
}

export interface Manifest {
  format: 1;
  /** Replay WAL generations >= this on open. */
  walGeneration: number;
  nextSegmentId: number;
  /** Counter for generation-numbered files (deletes, dictionary). */
  nextFileGeneration: number;
  dictionary: string | null;
  segments: ManifestSegment[];
  config: StoreConfig;
}

function checksumOf(body: Manifest): string {
  return (crc32(JSON.stringify(body)) >>> 0).toString(16).padStart(8, '0');
}

/** Reads the manifest of `dir`; undefined when there is none; CORRUPT_INDEX naming the file when damaged. */
export async function loadManifest(dir: string): Promise<Manifest | undefined> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadableFile(path, err);
  }
  let parsed: Manifest & { checksum?: string };
  try {
    parsed = JSON.parse(text) as Manifest & { checksum?: string };
  } catch {
    throw corruptIndex(path, 'not valid JSON');
  }
  const { checksum, ...body } = parsed;
  if (typeof checksum !== 'string' || checksumOf(body as Manifest) !== checksum) throw corruptIndex(path, 'checksum mismatch');
  if (body.format !== 1 || !Array.isArray(body.segments) || !Number.isInteger(body.walGeneration)) {
    throw corruptIndex(path, 'unexpected shape or format version');
  }
  return body as Manifest;
}

/** Writes the manifest atomically and durably. */
export async function saveManifest(dir: string, m: Manifest): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  const tmp = `${path}.tmp`;
  const text = `${JSON.stringify({ ...m, checksum: checksumOf(m) }, null, 1)}\n`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await writeAll(fh, [Buffer.from(text, 'utf8')], 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw asStorageError(err, MANIFEST_FILE);
  }
  await fsyncDir(dir);
}

/**
 * Deletes what manifest `m` does not reference — crash leftovers (unlisted segment dirs, `*.tmp`), replaced
 * delete/dictionary files, WAL generations below `m.walGeneration` — and returns the bytes of the kept files
 * outside segment directories (manifest, dictionary, delete files).
 */
export async function removeUnreferencedFiles(dir: string, m: Manifest): Promise<number> {
  const keep = new Set<string>([MANIFEST_FILE, 'LOCK']);
  for (const s of m.segments) {
    keep.add(s.name);
    if (s.deletes !== null) keep.add(s.deletes);
  }
  if (m.dictionary !== null) keep.add(m.dictionary);
  let bytes = 0;
  for (const name of await readdir(dir)) {
    const gen = parseWalName(name);
    if (gen !== undefined) {
      if (gen < m.walGeneration) await rm(join(dir, name), { force: true });
      continue;
    }
    if (keep.has(name)) {
      if (!name.startsWith('seg-') && name !== 'LOCK') bytes += (await stat(join(dir, name))).size;
      continue;
    }
    if (/^(seg-|del-|dict-)/.test(name) || name.endsWith('.tmp')) await rm(join(dir, name), { recursive: true, force: true });
  }
  return bytes;
}
