/**
 * Issue 11.9: WAL damage that would silently drop acknowledged writes is CORRUPT_INDEX naming the file — a
 * deleted current generation, a gap between generations — at the store and through `spladex inspect` (exit 1,
 * one line). Record-level damage (a bad length in a middle record, garbage before valid records) is covered by
 * src/storage/wal.test.ts. Real files, real store, the CLI in-process.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore } from '../src/storage/collection-store.js';
import type { StoreConfig } from '../src/storage/store-types.js';
import { IndexBuildConfigSchema } from '../src/config/index-config.js';
import { parseWalName, walPath } from '../src/storage/wal.js';
import { runCliCaptured } from './support/cli.js';
import { storeScratch } from './support/store-scratch.js';

const logger = pino({ level: 'silent' });
const { tmp } = storeScratch('spladex-waldmg-');

const config: StoreConfig = {
  dim: 1000,
  weighting: { kind: 'none' },
  growableDictionary: false,
  build: IndexBuildConfigSchema.parse({}),
  metadataTypes: {},
  memtableMaxDocs: 1000,
};
const open = (dir: string) => openCollectionStore({ dir, config, logger, sealMode: 'inline' });
const vdoc = (i: number) => ({ id: `d${i}`, vector: { indices: Uint32Array.of(i % 1000), values: Float32Array.of(1) } });

/** A store with 10 docs in a segment (manifest at generation 2) and 10 more only in the current WAL. */
async function sealedPlusWal(dir: string): Promise<number[]> {
  const s = await open(dir);
  await s.upsert(Array.from({ length: 10 }, (_, i) => vdoc(i)));
  await s.seal();
  await s.upsert(Array.from({ length: 10 }, (_, i) => vdoc(10 + i)));
  expect(s.stats().documents).toBe(20);
  await s.close();
  return readdirSync(dir)
    .map(parseWalName)
    .filter((g): g is number => g !== undefined);
}

describe('missing WAL generations (issue 11.9)', () => {
  it('deleting the current WAL generation: CORRUPT_INDEX naming it, not a collection with fewer documents', async () => {
    const dir = tmp();
    const gens = await sealedPlusWal(dir);
    expect(gens).toEqual([2]);
    rmSync(walPath(dir, 2));
    await expect(open(dir)).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining(walPath(dir, 2)) });
  });

  it('a gap between WAL generations: CORRUPT_INDEX naming the missing one', async () => {
    const dir = tmp();
    await sealedPlusWal(dir);
    copyFileSync(walPath(dir, 2), walPath(dir, 4));
    await expect(open(dir)).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining(walPath(dir, 3)) });
  });

  it('an intact store with its WAL reopens whole (the check does not fire on healthy data)', async () => {
    const dir = tmp();
    await sealedPlusWal(dir);
    const s = await open(dir);
    expect(s.stats().documents).toBe(20);
    await s.close();
  });
});

describe('spladex inspect on a damaged WAL (issue 11.9)', () => {
  it('deleting the current WAL generation: inspect exits 1 and names the file (it exited 0)', async () => {
    const data = tmp();
    const corpus = join(data, 'docs.jsonl');
    writeFileSync(corpus, ['a', 'b', 'c'].map((id) => JSON.stringify({ _id: id, text: `otters ${id} swim` })).join('\n'));
    const run = (args: string[]) => runCliCaptured(args, { SPLADEX_DATA_DIR: data });
    expect((await run(['index', 'c', '--input', corpus, '--quiet'])).code).toBe(0);
    expect((await run(['inspect', 'c'])).code).toBe(0);
    const store = join(data, 'c', 'store');
    const wals = readdirSync(store)
      .filter((n) => parseWalName(n) !== undefined)
      .sort();
    rmSync(join(store, wals[wals.length - 1]));
    const ins = await run(['inspect', 'c']);
    expect(ins.code).toBe(1);
    expect(ins.stdout).toBe('');
    expect(ins.stderr).toMatch(
      new RegExp(`^spladex: error: CORRUPT_INDEX: corrupt index file .*c/store/${wals[wals.length - 1]}: missing.*\\n$`),
    );
    expect(ins.stderr.split('\n')).toHaveLength(2);
  }, 120_000);
});
