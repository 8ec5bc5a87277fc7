/**
 * The directory lock (lock.ts) is an OS lock on the LOCK file, not the pid written in it (issue 11.6: a LOCK file
 * naming a live pid, the restarted server's own pid 1 in a container, locked the data dir forever). Real files and
 * real processes: a second lock in this process is refused, a lock held by a child process is refused naming the
 * child, and the lock is free the moment the holder is killed with SIGKILL (the kernel drops it with the process).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDirLock, DirLockedError, LOCK_FILE, readLockHolder } from './lock.js';

const root = mkdtempSync(join(tmpdir(), 'spladex-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => mkdtempSync(join(root, 'd'));

describe('acquireDirLock', () => {
  it('a LOCK file naming a live pid (this process, as a restarted pid 1 would see) does not block: the pid is not the lock', async () => {
    const dir = freshDir();
    for (const pid of [process.pid, process.ppid, 1]) {
      writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
      const lock = await acquireDirLock(dir);
      await lock.release();
    }
  });

  it('refuses a second lock in the same process, naming this pid; free again after release', async () => {
    const dir = freshDir();
    const lock = await acquireDirLock(dir, { role: 'test' });
    const err = await acquireDirLock(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DirLockedError);
    expect(err).toMatchObject({ code: 'BUSY', dir, holder: { pid: process.pid, role: 'test' } });
    expect((err as Error).message).toContain(`${dir} is locked by process ${process.pid}`);
    expect(readLockHolder(readFileSync(join(dir, LOCK_FILE), 'utf8'))?.pid).toBe(process.pid);
    await lock.release();
    const again = await acquireDirLock(dir);
    await again.release();
    // Release keeps the file: removing it would let two processes lock two different inodes.
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).not.toBe('');
  });

  it('refuses a lock held by a child process, and takes it once the child is killed with SIGKILL', async () => {
    const dir = freshDir();
    const lockModule = resolve(import.meta.dirname, 'lock.ts');
    const script = `import { acquireDirLock } from ${JSON.stringify(lockModule)};
      await acquireDirLock(${JSON.stringify(dir)}, { role: 'child' });
      process.stdout.write('held\\n');
      setInterval(() => {}, 1 << 30);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    try {
      let out = '';
      for await (const chunk of child.stdout) {
        out += String(chunk);
        if (out.includes('held\n')) break;
      }
      expect(out).toContain('held');
      const err = await acquireDirLock(dir).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DirLockedError);
      expect(err).toMatchObject({ code: 'BUSY', holder: { pid: child.pid, role: 'child' } });
      expect((err as Error).message).toContain(`locked by process ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
    }
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    const lock = await acquireDirLock(dir);
    expect(readLockHolder(readFileSync(join(dir, LOCK_FILE), 'utf8'))?.pid).toBe(process.pid);
    await lock.release();
  }, 60_000);
});
