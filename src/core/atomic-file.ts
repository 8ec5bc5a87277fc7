/**
 * Complete writes and crash-safe small-file replacement. `writeAll` loops until every byte is written (a
 * `write`/`writev` may write fewer bytes than asked, e.g. at ENOSPC, and Node does not retry) or throws; every
 * write of index files goes through it. `writeFileAtomic` writes a temp name, fsyncs it, renames over the
 * target and fsyncs the directory: after a crash the target holds either the old or the new bytes, never a mix;
 * on failure the temp file is removed, so a full volume is not filled further by leftovers.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { asStorageError } from './errors.js';

/** Most buffers one `writev` takes (Linux IOV_MAX is 1024). */
const MAX_IOV = 512;

/**
 * Writes every byte of `parts`, in order, starting at byte `position` of `fh`; returns the bytes written.
 * Throws the first error (ENOSPC, EDQUOT, EIO, …); the file may then hold a prefix of the data, which the caller
 * truncates or discards. A write that makes no progress without an error throws EIO instead of looping.
 */
export async function writeAll(fh: FileHandle, parts: readonly Uint8Array[], position: number): Promise<number> {
  let at = position;
  let i = 0;
  let skip = 0; // bytes of parts[i] already written
  while (i < parts.length) {
    if (parts[i].length === skip) {
      i++;
      skip = 0;
      continue;
    }
    const group: Uint8Array[] = [];
    for (let j = i; j < parts.length && group.length < MAX_IOV; j++) {
      const p = j === i ? parts[j].subarray(skip) : parts[j];
      if (p.length > 0) group.push(p);
    }
    const { bytesWritten } = await fh.writev(group, at);
    if (bytesWritten <= 0) throw Object.assign(new Error(`write made no progress at byte ${at}`), { code: 'EIO' });
    at += bytesWritten;
    let left = bytesWritten;
    while (left > 0) {
      const rest = parts[i].length - skip;
      if (left >= rest) {
        left -= rest;
        i++;
        skip = 0;
      } else {
        skip += left;
        left = 0;
      }
    }
  }
  return at - position;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await writeAll(fh, [bytes], 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw asStorageError(err, path.basename(file));
  }
  await fsyncDir(path.dirname(file));
}

/** fsync a directory so a rename or create inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
