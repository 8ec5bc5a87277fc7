/**
 * `index.partitions` (store-seal-merge.ts mergeSegments): optimize splits a store's documents by
 * fnv1a32(id) mod P into P segments, each the very segment (files byte for byte, Seismic included) that a store
 * holding only that partition — a shard of a P-shard cluster — writes at its optimize, whatever the seal history
 * before. So approximate searches with the same parameters equal the shards' merged answers exactly.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore } from './collection-store.js';
import type { CollectionStore, StoreConfig, StoreDocument, StoreHit, StoreSearchOptions } from './store-types.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { partitionOf } from '../core/id-hash.js';
import { Rng } from '../core/rng.js';
import { SegmentReader } from '../segment/segment-reader.js';
import type { SparseVector } from '../core/sparse-vector.js';
import { storeScratch } from '../../test/support/store-scratch.js';

const logger = pino({ level: 'silent' });
const { stores, tmp } = storeScratch<CollectionStore>('spladex-partitions-');
const DIM = 400;

async function open(dir: string, partitions: number, memtableMaxDocs: number): Promise<CollectionStore> {
  const config: StoreConfig = {
    dim: DIM,
    weighting: { kind: 'none' },
    growableDictionary: false,
    build: IndexBuildConfigSchema.parse({ approximateThreshold: 100, partitions }),
    metadataTypes: {},
    memtableMaxDocs,
  };
  const s = await openCollectionStore({ dir, config, logger, sealMode: 'inline' });
  stores.push(s);
  return s;
}

function vector(rng: Rng, terms: number): SparseVector {
  const ids = new Set<number>();
  while (ids.size < terms) ids.add(Math.floor(DIM * rng.next() ** 2));
  const indices = Uint32Array.from([...ids].sort((a, b) => a - b));
  return { indices, values: Float32Array.from(indices, () => 0.05 + rng.next() * 2) };
}

/** The segment directories of a store, oldest first. */
function segmentDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith('seg-'))
    .sort()
    .map((n) => join(dir, n));
}

/** The merge of per-shard answers, as the cluster coordinator does it: score descending, id ascending, top k. */
function mergeShards(parts: StoreHit[][], k: number): [string, number][] {
  return parts
    .flat()
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, k)
    .map((h) => [h.id, h.score]);
}

describe('index.partitions: optimize writes the segments of a P-shard cluster', () => {
  it('P = 2: same segment files as two one-partition stores, and equal approximate and exact answers', async () => {
    const rng = new Rng(5);
    const docs: StoreDocument[] = Array.from({ length: 1500 }, (_v, i) => ({ id: `doc-${i}`, vector: vector(rng, 20) }));
    const queries = Array.from({ length: 30 }, () => vector(rng, 10));
    const deleted = ['doc-3', 'doc-700', 'doc-1499'];
    // One store with partitions 2, sealing every 250 docs (segments mixing both partitions), some deletes.
    const dir = tmp();
    const one = await open(dir, 2, 250);
    for (let i = 0; i < docs.length; i += 100) await one.upsert(docs.slice(i, i + 100));
    await one.delete(deleted);
    // The two "shards": each holds one partition, loaded in other batches, without seals before optimize.
    const shardDirs = [tmp(), tmp()];
    const shards: CollectionStore[] = [];
    for (const [p, d] of shardDirs.entries()) {
      const shard = await open(d, 1, 1_000_000);
      const mine = docs.filter((doc) => partitionOf(doc.id, 2) === p && !deleted.includes(doc.id));
      for (let i = 0; i < mine.length; i += 333) await shard.upsert(mine.slice(i, i + 333));
      expect((await shard.optimize()).segments).toBe(1);
      shards.push(shard);
    }
    expect((await one.optimize()).segments).toBe(2);
    const segs = segmentDirs(dir);
    expect(segs).toHaveLength(2);
    // Partition p's segment is shard p's, file for file (Seismic's seismic.bin included: a deterministic build),
    // except forward.bin's meta, which records the avgdl of the store at the build (unused without bm25).
    for (const [p, d] of shardDirs.entries()) {
      const [shardSeg] = segmentDirs(d);
      for (const f of ['postings.bin', 'ids.bin', 'seismic.bin']) {
        expect(readFileSync(join(segs[p], f)).equals(readFileSync(join(shardSeg, f))), `partition ${p} ${f}`).toBe(true);
      }
      const [a, b] = [await SegmentReader.open(segs[p]), await SegmentReader.open(shardSeg)];
      expect([a.forward.offsets, a.forward.termIds, a.forward.values, a.terms, a.dl]).toEqual([
        b.forward.offsets,
        b.forward.termIds,
        b.forward.values,
        b.terms,
        b.dl,
      ]);
    }
    const params: StoreSearchOptions[] = [
      { k: 10, exact: false, queryCut: 5, heapFactor: 0.7, nKnn: 0 },
      { k: 10, exact: false, queryCut: 10, heapFactor: 0.9, nKnn: 0 },
      { k: 10, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 },
    ];
    for (const o of params) {
      for (const q of queries) {
        const got = one.search(q, o);
        expect(got.exact).toBe(o.exact);
        expect(got.hits.map((h) => [h.id, h.score])).toEqual(
          mergeShards(
            shards.map((s) => s.search(q, o).hits),
            10,
          ),
        );
      }
    }
    // Already partitioned: a second optimize rewrites nothing.
    await one.optimize();
    expect(segmentDirs(dir)).toEqual(segs);
  });

  it('a write after optimize is split again by the next one (a background merge may have mixed partitions)', async () => {
    const rng = new Rng(9);
    const dir = tmp();
    const s = await open(dir, 3, 1_000_000);
    const docs: StoreDocument[] = Array.from({ length: 300 }, (_v, i) => ({ id: `x${i}`, vector: vector(rng, 8) }));
    await s.upsert(docs.slice(0, 200));
    expect((await s.optimize()).segments).toBe(3);
    await s.upsert(docs.slice(200));
    expect((await s.optimize()).segments).toBe(3);
    expect(s.stats().documents).toBe(300);
    const seen = new Set<number>();
    for (const seg of segmentDirs(dir)) {
      const ids = readFileSync(join(seg, 'ids.bin'), 'latin1').match(/x\d+/g) ?? [];
      const parts = new Set(ids.map((id) => partitionOf(id, 3)));
      expect(parts.size).toBe(1);
      seen.add([...parts][0]);
    }
    expect(seen.size).toBe(3);
  });
});
