/**
 * Store snapshots (collection-store.ts `writeSnapshot()` runs `writeStoreSnapshot` inside its seal/merge chain):
 * a WAL rotation is the snapshot point; every file the manifest references and every WAL generation from the
 * manifest's up to the point is put into the target directory. Immutable files — segment
 * files, delete bitmaps, the dictionary and MANIFEST.json, which are only ever replaced by rename, never written
 * in place — are hard-linked (copied when the target is on another device: EXDEV, or where links are refused);
 * WAL generations are copied, since the live store keeps appending to the newest one and a restored store
 * appends to its own. Each file is fsynced with its directory. Callers: collection-store.ts, and the restore
 * path (search/snapshots.ts) through `linkOrCopy`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { asStorageError } from '../core/errors.js';
import type { Logger } from 'pino';
import { fsyncDir } from '../core/section-file.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';
import type { StoreSnapshotFiles } from './store-types.js';
import { walPath, type WalWriter } from './wal.js';

export type { StoreSnapshotFiles } from './store-types.js';

/** Hard-links `from` to `to`, or copies it when linking is impossible (another device, no link support). */
export async function linkOrCopy(from: string, to: string): Promise<'linked' | 'copied'> {
  try {
    await fs.link(from, to);
    return 'linked';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw asStorageError(err, path.basename(to));
  }
  await copyDurably(from, to);
  return 'copied';
}

/** Copies `from` to `to` and fsyncs the copy. */
export async function copyDurably(from: string, to: string): Promise<void> {
  try {
    await fs.copyFile(from, to, fs.constants.COPYFILE_EXCL);
    const fh = await fs.open(to, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw asStorageError(err, path.basename(to));
  }
}

/**
 * Puts `linked` (names in `fromDir`: files, or segment directories whose files are linked one by one) and
 * `copied` (files) into `toDir`, which must not exist yet; fsyncs every directory written. Returns the files,
 * relative to `toDir`.
 */
export async function writeStoreFiles(
  fromDir: string,
  toDir: string,
  linked: readonly string[],
  copied: readonly string[],
): Promise<string[]> {
  await fs.mkdir(toDir, { recursive: false });
  const out: string[] = [];
  for (const name of linked) {
    const src = path.join(fromDir, name);
    if ((await fs.stat(src)).isDirectory()) {
      await fs.mkdir(path.join(toDir, name));
      for (const f of (await fs.readdir(src)).sort()) {
        await linkOrCopy(path.join(src, f), path.join(toDir, name, f));
        out.push(`${name}/${f}`);
      }
      await fsyncDir(path.join(toDir, name));
    } else {
      await linkOrCopy(src, path.join(toDir, name));
      out.push(name);
    }
  }
  for (const name of copied) {
    await copyDurably(path.join(fromDir, name), path.join(toDir, name));
    out.push(name);
  }
  await fsyncDir(toDir);
  return out;
}

/** The live store a snapshot is taken of (collection-store.ts). */
export interface SnapshotSource {
  dir: string;
  wal: WalWriter;
  /** The store's current manifest (read after the rotation). */
  manifest(): Manifest;
  liveDocs(): number;
  logger: Logger;
}

/**
 * Rotates the WAL (the snapshot point) and writes the snapshot's files into `targetDir` (which must not exist).
 * Runs inside the store's chain: no seal or merge replaces the manifest or removes files while they are linked.
 */
export async function writeStoreSnapshot(src: SnapshotSource, targetDir: string): Promise<StoreSnapshotFiles> {
  const point = src.wal.generation + 1;
  let documents = 0;
  let at = '';
  // The rotation runs after every earlier append is durable and applied, and before any later one is:
  // generations below `point` hold exactly the writes acknowledged before it.
  await src.wal.rotate(point, () => {
    documents = src.liveDocs();
    at = new Date().toISOString();
  });
  const m = src.manifest();
  const linked = [MANIFEST_FILE, ...m.segments.map((s) => s.name)];
  for (const s of m.segments) if (s.deletes !== null) linked.push(s.deletes);
  if (m.dictionary !== null) linked.push(m.dictionary);
  const wal: string[] = [];
  for (let g = m.walGeneration; g < point; g++) wal.push(path.basename(walPath(src.dir, g)));
  const files = await writeStoreFiles(src.dir, targetDir, linked, wal);
  src.logger.info({ dir: src.dir, walGeneration: point, documents, files: files.length }, 'store snapshot written');
  return { walGeneration: point, documents, at, files };
}
