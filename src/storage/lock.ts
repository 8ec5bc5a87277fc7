/**
 * Directory lock, so that two processes (two servers, or the CLI and a server) never write one data dir or one
 * collection at once. The lock is an exclusive OS lock on the directory's `LOCK` file (os-file-lock.ts), held
 * through a descriptor kept open until `release()`: the kernel drops it when the holder exits or is killed, so a
 * crash never leaves a stale lock, and a pid written by an earlier holder can never block (in a container every
 * restart is pid 1 again: issue 11.6). Two acquisitions in one process conflict too.
 *
 * The file's content is information for the error message only, never the lock: one JSON line
 * `{"pid","host","startedAt","role","url"?}` rewritten by each holder (older spladex wrote a bare pid; it is read
 * as such). The file is never removed: unlinking it would let a newcomer lock a fresh inode while the old holder
 * still holds the old one.
 *
 * Callers: collection-store.ts (each collection's store dir, at open, released at close) and
 * src/search/spladex-service.ts (the whole data dir, for the service's lifetime).
 */
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SpladexError } from '../core/errors.js';
import { tryLockExclusive, unlockFile } from './os-file-lock.js';

export const LOCK_FILE = 'LOCK';

/** Who holds a lock, as its holder wrote it (the pid is the holder's own view: in a pid namespace it may be 1). */
export interface LockHolder {
  pid: number;
  host?: string;
  /** Start time of the holder process, ISO 8601. */
  startedAt?: string;
  /** What holds it: `server`, `cli`, … */
  role?: string;
  /** Where a server holding it listens, e.g. `http://127.0.0.1:8080`. */
  url?: string;
}

/** What a holder says about itself in the LOCK file. */
export interface DirLockInfo {
  role?: string;
  url?: string;
}

/** A held lock. */
export interface DirLock {
  readonly dir: string;
  readonly path: string;
  /** Rewrites the holder information (e.g. a server's url once it listens). */
  describe(info: DirLockInfo): Promise<void>;
  /** Drops the lock; idempotent. */
  release(): Promise<void>;
}

/** BUSY: `dir` is locked by another holder (another process, or another open in this one). */
export class DirLockedError extends SpladexError {
  readonly dir: string;
  readonly holder: LockHolder | null;

  /** `what` names the directory in the message (`data directory`, …). */
  constructor(dir: string, holder: LockHolder | null, what = 'directory') {
    super('BUSY', `${what} ${dir} is locked by ${describeHolder(holder)}`, { retryAfterSeconds: 5 });
    this.name = 'DirLockedError';
    this.dir = dir;
    this.holder = holder;
  }
}

function describeHolder(h: LockHolder | null): string {
  if (h === null) return 'another process';
  const where = [
    h.role,
    h.host !== undefined ? `on ${h.host}` : undefined,
    h.startedAt !== undefined ? `started ${h.startedAt}` : undefined,
  ];
  const extra = where.filter((s) => s !== undefined).join(', ');
  return `process ${h.pid}${extra === '' ? '' : ` (${extra})`}`;
}

/** Parses a LOCK file's content; null when it says nothing usable (empty, torn, foreign). */
export function readLockHolder(text: string): LockHolder | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t) };
  try {
    const v = JSON.parse(t) as Record<string, unknown>;
    if (!Number.isInteger(v.pid)) return null;
    const h: LockHolder = { pid: v.pid as number };
    for (const k of ['host', 'startedAt', 'role', 'url'] as const) if (typeof v[k] === 'string') h[k] = v[k];
    return h;
  } catch {
    return null;
  }
}

const processStartedAt = new Date(Date.now() - process.uptime() * 1000).toISOString();

/**
 * Takes the lock of `dir` (which must exist), creating its LOCK file when missing, and writes `info` with this
 * process's pid into it. Throws DirLockedError (BUSY) naming the holder when another holds it; never waits.
 */
export async function acquireDirLock(dir: string, info: DirLockInfo = {}): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  const fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  let locked: boolean;
  try {
    locked = tryLockExclusive(fh.fd);
  } catch (err) {
    await fh.close();
    throw err;
  }
  if (!locked) {
    await fh.close();
    throw new DirLockedError(dir, readLockHolder(await readFile(path, 'utf8').catch(() => '')));
  }
  let released = false;
  // Best effort: the content is only information for others' messages, and a full disk (ENOSPC) must not stop a
  // server from starting or a store from opening; an empty file reads as "another process".
  const write = async (i: DirLockInfo) => {
    const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: processStartedAt, ...i };
    try {
      await fh.truncate(0);
      await fh.write(`${JSON.stringify(holder)}\n`, 0, 'utf8');
    } catch {
      // see above
    }
  };
  await write(info);
  return {
    dir,
    path,
    describe: (i) => write({ ...info, ...i }),
    async release() {
      if (released) return;
      released = true;
      unlockFile(fh.fd);
      await fh.close();
    },
  };
}
