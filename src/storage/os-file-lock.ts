/**
 * The one importer of `fs-native-extensions` (a native addon without type declarations): a non-blocking exclusive
 * OS lock on an open file. On Linux it is an open-file-description lock (`fcntl(F_OFD_SETLK)`), on macOS `flock`:
 * either way the kernel drops it when the last descriptor of that open file is closed, so it dies with the process
 * (SIGKILL included), whatever its pid, pid namespace or pid reuse. Two opens of one file conflict even inside one
 * process. Caller: lock.ts.
 */
import { createRequire } from 'node:module';

interface NativeFsExtensions {
  tryLock(fd: number, opts: { shared?: boolean }): boolean;
  unlock(fd: number): void;
}

const native = createRequire(import.meta.url)('fs-native-extensions') as NativeFsExtensions;

/** Takes an exclusive lock on the whole file behind `fd`; false (at once, no waiting) when another holds one. */
export function tryLockExclusive(fd: number): boolean {
  return native.tryLock(fd, { shared: false });
}

/** Drops the lock taken through `fd` (closing the fd drops it too). */
export function unlockFile(fd: number): void {
  native.unlock(fd);
}
