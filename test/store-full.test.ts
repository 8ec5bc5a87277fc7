/**
 * The store on a full volume (issue 11 "Storage errors"), on a real small tmpfs: an upsert that cannot be
 * logged is STORAGE_FULL and its new dictionary terms are carried by the next record (a reopen finds no gap);
 * a seal that fails at ENOSPC removes its `seg-*.tmp` directory, the store keeps serving from the memtable, and
 * the seal succeeds once space is free. Worker seals, as the server runs them. Needs root for `mount`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openCollectionStore } from '../src/storage/collection-store.js';
import type { StoreConfig, StoreDocument, StoreSearchOptions } from '../src/storage/store-types.js';
import { IndexBuildConfigSchema } from '../src/config/index-config.js';
import type { TermDictionary } from '../src/storage/dictionary.js';

let mnt = '';
let mounted = false;
let skipReason = '';
beforeAll(() => {
  mnt = mkdtempSync(join(tmpdir(), 'spladex-storefull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    skipReason = `mount -t tmpfs refused (needs root): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
});
afterAll(() => {
  if (mounted) execFileSync('umount', [mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

const config: StoreConfig = {
  dim: 1 << 30,
  weighting: { kind: 'none' },
  growableDictionary: true,
  build: IndexBuildConfigSchema.parse({}),
  metadataTypes: {},
  memtableMaxDocs: 100_000,
};
const opts: StoreSearchOptions = { k: 5, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 };
const logger = pino({ level: 'silent' });

/** Doc `id` with its own dictionary term `u-<id>` plus `n` shared filler terms. */
function docOf(d: TermDictionary, id: string, n: number): StoreDocument {
  const ids = [d.getOrAdd(`u-${id}`), ...Array.from({ length: n }, (_, i) => d.getOrAdd(`f${i}`))];
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return { id, text: 'x'.repeat(200), vector: { indices: Uint32Array.from(sorted), values: Float32Array.from(sorted, () => 1) } };
}
const tmpEntries = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

it('full volume: a failed upsert is STORAGE_FULL and its terms are logged later; a failed seal leaves no temp dir and is retried', async (ctx) => {
  if (!mounted) return ctx.skip(skipReason);
  const dir = join(mnt, 'store');
  const store = await openCollectionStore({ dir, config, logger, sealMode: 'worker' });
  const dict = store.dictionary as TermDictionary;
  await store.upsert(Array.from({ length: 300 }, (_, i) => docOf(dict, `a${i}`, 300)));
  const free = statfsSync(mnt).bavail * statfsSync(mnt).bsize;
  writeFileSync(join(mnt, 'ballast'), Buffer.alloc(free - 64 * 1024));

  // Too big for what is left: rejected, nothing applied; its new terms stay pending for the next record.
  const big = Array.from({ length: 100 }, (_, i) => docOf(dict, `x${i}`, 300));
  await expect(store.upsert(big)).rejects.toMatchObject({ code: 'STORAGE_FULL' });
  expect(store.get('x0')).toBeUndefined();
  // The segment (~1 MB) does not fit: the seal fails, cleans up, and the store keeps serving.
  await expect(store.seal()).rejects.toMatchObject({ code: 'STORAGE_FULL' });
  expect(tmpEntries(dir)).toEqual([]);
  expect(store.stats().documents).toBe(300);
  expect(store.search({ indices: Uint32Array.of(dict.get('u-a7')!), values: Float32Array.of(1) }, opts).hits[0].id).toBe('a7');

  rmSync(join(mnt, 'ballast'));
  // A new term after the rejected batch's terms: this record must carry those too, or the replay below finds a
  // gap in the dictionary (CORRUPT_INDEX) — nothing has written the dictionary file since.
  await store.upsert([docOf(dict, 'y', 3)]);
  await store.close();

  const again = await openCollectionStore({ dir, config, logger, sealMode: 'worker' });
  try {
    expect(again.stats().documents).toBe(301);
    const d2 = again.dictionary as TermDictionary;
    const top = (id: string) => again.search({ indices: Uint32Array.of(d2.get(`u-${id}`)!), values: Float32Array.of(1) }, opts).hits[0]?.id;
    for (const id of ['a0', 'a299', 'y']) expect(top(id), id).toBe(id);
    expect(d2.get('u-x99')).toBeDefined(); // the rejected batch's term, logged with y's record
    expect(again.get('x0')).toBeUndefined();
    // Space is free now: the seal succeeds and leaves no temp dir.
    await again.seal();
    expect(tmpEntries(dir)).toEqual([]);
    expect(again.stats()).toMatchObject({ documents: 301, memtableDocuments: 0 });
    expect(top('y')).toBe('y');
  } finally {
    await again.close();
  }
}, 60_000);
