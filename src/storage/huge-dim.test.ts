/**
 * Issue 12.3: segment arrays are sized by the terms a segment uses, never by the collection's `dim`; a failed
 * seal leaves no `seg-*.tmp` and the store keeps sealing; forward.bin layout 1 (global term ids, written before
 * the remap) is still read, and gives the same answers as layout 2.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore, type SealableCollectionStore } from './collection-store.js';
import type { CollectionStore, StoreConfig, StoreDocument, StoreSearchOptions } from './store-types.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';
import { readSectionFile } from '../core/section-file.js';
import { storeScratch } from '../../test/support/store-scratch.js';

const logger = pino({ level: 'silent' });
const { stores, tmp } = storeScratch<SealableCollectionStore>('spladex-dim-');

async function open(dir: string, over: Partial<StoreConfig>): Promise<SealableCollectionStore> {
  const config: StoreConfig = {
    dim: 1000,
    weighting: { kind: 'none' },
    growableDictionary: false,
    build: IndexBuildConfigSchema.parse({}),
    metadataTypes: {},
    memtableMaxDocs: 1_000_000,
    ...over,
  };
  const s = await openCollectionStore({ dir, config, logger, sealMode: 'inline' });
  stores.push(s);
  return s;
}

function vec(ids: number[], values: number[], dim: number): SparseVector {
  return fromIndicesValues(ids, values, dim);
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

const exact: StoreSearchOptions = { k: 10, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 };

describe('huge dim (issue 12.3)', () => {
  it('dim 300000000 with one document: optimize no longer writes a 1.2 GB postings.bin', async () => {
    const dim = 300_000_000;
    const dir = tmp();
    const s = await open(dir, { dim });
    await s.upsert([{ id: 'a', vector: vec([7, dim - 1], [0.5, 2], dim), text: 'x' }]);
    await s.optimize();
    const seg = readdirSync(dir).filter((f) => f.startsWith('seg-'));
    expect(seg).toHaveLength(1);
    expect(statSync(join(dir, seg[0], 'postings.bin')).size).toBeLessThan(4096);
    expect(dirBytes(join(dir, seg[0]))).toBeLessThan(16_384);
    const r = s.search(vec([dim - 1], [3], dim), { ...exact, withVectors: true });
    expect(r.hits.map((h) => [h.id, h.score])).toEqual([['a', 6]]);
    expect(Array.from(r.hits[0].vector?.indices ?? [])).toEqual([7, dim - 1]);
    expect(Array.from(s.get('a')?.vector.indices ?? [])).toEqual([7, dim - 1]);
    expect(s.search(vec([8], [1], dim), exact).hits).toEqual([]);
  });

  it('dim 2^30 (the schema maximum): optimize succeeds, leaves no seg-*.tmp, and the collection seals again', async () => {
    const dim = 2 ** 30;
    const dir = tmp();
    const s = await open(dir, { dim });
    await s.upsert([{ id: 'a', vector: vec([dim - 1], [1], dim) }]);
    await s.optimize();
    await s.upsert([{ id: 'b', vector: vec([0, dim - 2], [1, 1], dim) }]);
    await s.optimize();
    const names = readdirSync(dir);
    expect(names.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(s.stats().segments).toBe(1);
    expect(s.search(vec([0, dim - 1], [1, 1], dim), exact).hits.map((h) => h.id)).toEqual(['a', 'b']);
  });

  it('a seal that fails leaves no seg-*.tmp and the next seal succeeds', async () => {
    const dir = tmp();
    const s = await open(dir, {});
    await s.upsert([{ id: 'a', vector: vec([1], [1], 1000) }]);
    // The next segment's directory exists and is not empty, so the final rename of the build fails.
    const blocker = join(dir, 'seg-00000001');
    mkdirSync(blocker);
    writeFileSync(join(blocker, 'x'), 'x');
    await expect(s.optimize()).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    rmSync(blocker, { recursive: true });
    await s.optimize();
    expect(s.stats().segments).toBe(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(s.search(vec([1], [1], 1000), exact).hits.map((h) => h.id)).toEqual(['a']);
  });

  it('segments use compact term ids: a 16-bit termIds column even when term ids exceed 65535', async () => {
    const dim = 1 << 24;
    const dir = tmp();
    const s = await open(dir, { dim });
    await s.upsert([{ id: 'a', vector: vec([70_000, 9_000_000], [1, 2], dim) }]);
    await s.optimize();
    const seg = readdirSync(dir).find((f) => f.startsWith('seg-')) as string;
    const fwd = await readSectionFile(join(dir, seg, 'forward.bin'), 'forward');
    expect(fwd.sections.get('termIds')).toBeInstanceOf(Uint16Array);
    expect(Array.from(fwd.sections.get('terms') as Uint32Array)).toEqual([70_000, 9_000_000]);
  });
});

describe('forward.bin layout 1 (fixture written by the code before per-segment term ids)', () => {
  const fixture = join(import.meta.dirname, '../../test/fixtures/store-layout1');
  const config: Partial<StoreConfig> = {
    weighting: { kind: 'bm25', k1: 1.2, b: 0.75 },
    build: IndexBuildConfigSchema.parse({ approximateThreshold: 8 }),
  };
  // The fixture's documents (test/fixtures/store-layout1 was generated from exactly these, then d05 deleted).
  const docs: StoreDocument[] = [];
  for (let i = 0; i < 12; i++) {
    const ids = [3 + i, 100 + (i % 4), 500 + 7 * i, 999 - i];
    docs.push({
      id: `d${String(i).padStart(2, '0')}`,
      vector: vec(
        ids,
        ids.map((t, j) => 1 + ((t * 7 + j) % 5)),
        1000,
      ),
      text: `doc ${i}`,
    });
  }
  const queries = [vec([3, 100, 999], [1, 2, 0.5], 1000), vec([101, 514, 990, 5], [0.3, 1, 1, 2], 1000), vec([998], [1], 1000)];

  it('is read as is and answers like the same documents written now, before and after a merge with a new segment', async () => {
    const oldDir = tmp();
    cpSync(fixture, oldDir, { recursive: true });
    const old = await open(oldDir, config);
    const fresh = await open(tmp(), config);
    await fresh.upsert(docs);
    await fresh.optimize();
    await fresh.delete(['d05']);
    const answers = (s: CollectionStore) =>
      queries.flatMap((q) => [false, true].map((e) => s.search(q, { ...exact, exact: e }).hits.map((h) => [h.id, h.score])));
    expect(answers(old)).toEqual(answers(fresh));
    expect(answers(old).flat().length).toBeGreaterThan(6);
    expect(old.get('d03')).toEqual(fresh.get('d03'));
    expect(old.get('d05')).toBeUndefined();
    const extra: StoreDocument = { id: 'z', vector: vec([3, 640], [1, 1], 1000) };
    await old.upsert([extra]);
    await fresh.upsert([extra]);
    await old.seal();
    await fresh.seal();
    expect(answers(old)).toEqual(answers(fresh));
    await old.optimize();
    await fresh.optimize();
    expect(answers(old)).toEqual(answers(fresh));
    await old.delete(['d03']);
    await fresh.delete(['d03']);
    expect(answers(old)).toEqual(answers(fresh));
  });
});
