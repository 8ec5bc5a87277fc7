import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore } from './collection-store.js';
import type { CollectionStore, StoreConfig, StoreDocument, StoreSearchOptions } from './store-types.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
const stores: CollectionStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'spladex-store-'));
  dirs.push(d);
  return d;
}

function config(over: Partial<StoreConfig> = {}): StoreConfig {
  return {
    dim: 1000,
    weighting: { kind: 'none' },
    growableDictionary: false,
    build: IndexBuildConfigSchema.parse({}),
    metadataTypes: {},
    memtableMaxDocs: 1_000_000,
    ...over,
  };
}

async function open(dir: string, over: Partial<StoreConfig> = {}): Promise<CollectionStore> {
  const s = await openCollectionStore({ dir, config: config(over), logger, sealMode: 'inline' });
  stores.push(s);
  return s;
}

async function closeStore(s: CollectionStore): Promise<void> {
  stores.splice(stores.indexOf(s), 1);
  await s.close();
}

function vec(pairs: Record<number, number>): SparseVector {
  const ids = Object.keys(pairs).map(Number);
  return fromIndicesValues(ids, ids.map((i) => pairs[i]), 1 << 30);
}

const opts: StoreSearchOptions = { k: 10, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 };

describe('collection store basics', () => {
  it('upserts, searches, replaces and deletes', async () => {
    const s = await open(tmp());
    const docs: StoreDocument[] = [
      { id: 'a', text: 'alpha', vector: vec({ 1: 1, 2: 2 }), metadata: { lang: 'en' } },
      { id: 'b', title: 'B', vector: vec({ 2: 1, 3: 5 }) },
      { id: 'c', vector: vec({ 4: 1 }) },
    ];
    await s.upsert(docs);
    let r = s.search(vec({ 2: 1 }), opts);
    expect(r.hits.map((h) => [h.id, h.score])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(s.get('a')).toMatchObject({ id: 'a', text: 'alpha', metadata: { lang: 'en' } });
    await s.upsert([{ id: 'a', vector: vec({ 9: 1 }) }]);
    r = s.search(vec({ 2: 1 }), opts);
    expect(r.hits.map((h) => h.id)).toEqual(['b']);
    expect(s.get('a')?.text).toBeUndefined();
    expect(await s.delete(['b', 'zzz'])).toBe(1);
    expect(s.search(vec({ 2: 1 }), opts).hits).toEqual([]);
    expect(s.stats()).toMatchObject({ documents: 2, memtableDocuments: 2, segments: 0 });
    expect(s.termStats().df(9)).toBe(1);
    expect(s.termStats().df(2)).toBe(0);
  });
});
