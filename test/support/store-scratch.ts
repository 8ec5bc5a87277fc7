/**
 * Scratch space for store tests: temp directories and open stores made by one test are closed and removed after
 * it (vitest `afterEach`). Used by the storage unit tests and the store-level integration tests, which each had a
 * copy of these lines. Test-only: imports vitest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

export interface StoreScratch<S extends { close(): Promise<void> }> {
  /** Directories removed after each test (push your own mkdtemp results here too). */
  readonly dirs: string[];
  /** Stores closed after each test, before their directories are removed. */
  readonly stores: S[];
  /** A new temp directory named `<prefix>XXXXXX`, removed after the test. */
  tmp(): string;
}

/** Registers the cleanup for the calling test file; `prefix` names its temp directories. */
export function storeScratch<S extends { close(): Promise<void> }>(prefix: string): StoreScratch<S> {
  const dirs: string[] = [];
  const stores: S[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    dirs,
    stores,
    tmp() {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
