/**
 * The file side of a store snapshot (collection-store.ts `writeSnapshot()` decides *which* files, inside its seal/merge
 * chain, right after a WAL rotation that is the snapshot point): every file the manifest references and every WAL
 * generation from the manifest's up to the point is put into the target directory. Immutable files — segment
 * files, delete bitmaps, the dictionary and MANIFEST.json, which are only ever replaced by rename, never written
 * in place — are hard-linked (copied when the target is on another device: EXDEV, or where links are refused);
 * WAL generations are copied, since the live store keeps appending to the newest one and a restored store
 * appends to its own. Each file is fsynced with its directory. Callers: collection-store.ts, and the restore
 * path (search/snapshots.ts) through `linkOrCopy`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { asStorageError } from '../core/errors.js';
import { fsyncDir } from '../core/section-file.js';

/** What a store snapshot holds, for the caller's SNAPSHOT.json. */
export interface StoreSnapshotFiles {
  /** WAL generation the store switched to at the snapshot point (every earlier record is in the snapshot). */
  walGeneration: number;
  /** Live documents at the snapshot point. */
  documents: number;
  /** ISO-8601 time of the snapshot point. */
  at: string;
  /** Files written, relative to the target directory (`/` separated). */
  files: string[];
}

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
