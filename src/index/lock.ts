/**
 * Data-directory lock: a `LOCK` file created with O_EXCL holding the owner's pid, so the CLI and the server never
 * write one collection at once. A lock whose pid is no longer alive (a crashed writer) is taken over. A lock held
 * by a live process (including this one: a collection is opened once per process) is `BUSY`.
 * Callers: collection-store.ts (acquire on open, release on close).
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SpladexError } from '../core/errors.js';

export const LOCK_FILE = 'LOCK';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock; `release` removes the file. */
export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Takes the lock of `dir`; throws BUSY naming the holder's pid when another live process holds it. */
export async function acquireDirLock(dir: string): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.sync();
      await fh.close();
      return { path, release: () => unlink(path).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let pid = NaN;
    try {
      pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    } catch {
      continue; // removed meanwhile: retry
    }
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new SpladexError('BUSY', `data directory ${dir} is locked by process ${pid}`, { retryAfterSeconds: 5 });
    }
    // Stale (dead pid or unreadable content from a crash mid-write): take it over.
    await unlink(path).catch(() => undefined);
  }
  throw new SpladexError('BUSY', `could not take the lock ${path}`, { retryAfterSeconds: 5 });
}
