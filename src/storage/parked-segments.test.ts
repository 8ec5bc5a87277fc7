/**
 * Bulk-load stores (deferApproximate) keep sealed segments parked — only their ids in memory — and open them on
 * first use. These tests hold a bulk store and a serving store to the same answers through seals, reads, replaces,
 * deletes, a restart and optimize, and show that ingest does not read a parked segment's postings.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore, type SealableCollectionStore } from './collection-store.js';
import type { StoreConfig, StoreDocument, StoreSearchOptions } from './store-types.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';
import { Rng } from '../core/rng.js';
import { SpladexError } from '../core/errors.js';
import { storeScratch } from '../../test/support/store-scratch.js';

const logger = pino({ level: 'silent' });
const { dirs, stores } = storeScratch<SealableCollectionStore>('spladex-parked-');

const config: StoreConfig = {
  dim: 200,
  weighting: { kind: 'none' },
  growableDictionary: false,
  build: IndexBuildConfigSchema.parse({}),
  metadataTypes: { lang: 'keyword' },
  memtableMaxDocs: 50,
};

async function open(dir: string, bulk: boolean): Promise<SealableCollectionStore> {
  const s = await openCollectionStore({ dir, config, logger, sealMode: 'inline', deferApproximate: bulk });
  stores.push(s);
  return s;
}

async function close(s: SealableCollectionStore): Promise<void> {
  stores.splice(stores.indexOf(s), 1);
  await s.close();
}

const rng = new Rng(7);

function randomVector(): SparseVector {
  const terms = rng.sample(
    Array.from({ length: 200 }, (_, t) => t),
    3 + rng.int(6),
  );
  return fromIndicesValues(
    terms,
    terms.map(() => 0.1 + rng.next()),
    config.dim,
  );
}

const docs: StoreDocument[] = Array.from({ length: 300 }, (_, i) => ({
  id: `d${String(i).padStart(4, '0')}`,
  title: `title ${i}`,
  metadata: { lang: i % 3 === 0 ? 'fr' : 'en' },
  vector: randomVector(),
}));
const queries = Array.from({ length: 8 }, randomVector);
const opts: StoreSearchOptions = { k: 10, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 };
const probeIds = ['d0000', 'd0007', 'd0049', 'd0120', 'd0251', 'd0299', 'nope'];

/** Everything a caller can observe, in comparable form. */
function observe(s: SealableCollectionStore) {
  const stats = s.stats();
  return {
    documents: stats.documents,
    nnz: stats.nnz,
    hits: queries.map((q) => s.search(q, opts).hits),
    filtered: queries.map((q) => s.search(q, { ...opts, filter: { must: [{ field: 'lang', eq: 'fr' }] } }).hits),
    withVectors: s.search(queries[0], { ...opts, withVectors: true }).hits,
    gets: probeIds.map((id) => s.get(id)),
    df: Array.from({ length: 20 }, (_, t) => s.termStats().df(t)),
    avgdl: s.termStats().avgdl,
    liveIds: s.liveIds().sort(),
  };
}

async function load(s: SealableCollectionStore): Promise<void> {
  for (let i = 0; i < docs.length; i += 25) await s.upsert(docs.slice(i, i + 25));
  await s.seal();
}

describe('parked segments of a bulk load', () => {
  it('answer searches, gets, replaces and deletes like a serving store, also after a restart and optimize', async () => {
    const bulkDir = mkdtempSync(join(tmpdir(), 'spladex-parked-'));
    const servingDir = mkdtempSync(join(tmpdir(), 'spladex-parked-'));
    dirs.push(bulkDir, servingDir);
    let bulk = await open(bulkDir, true);
    let serving = await open(servingDir, false);
    await load(bulk);
    await load(serving);
    expect(bulk.stats().segments).toBeGreaterThanOrEqual(5);
    expect(bulk.stats().segments).toBe(serving.stats().segments);
    expect(observe(bulk)).toEqual(observe(serving));

    // Replace an id of the first segment, delete one of a middle segment (and a missing one), replace one twice.
    for (const s of [bulk, serving]) {
      await s.upsert([{ id: 'd0007', text: 'replaced', vector: queries[0] }]);
      expect(await s.delete(['d0120', 'missing'])).toBe(1);
      await s.upsert([{ id: 'd0251', vector: queries[1] }]);
      await s.upsert([{ id: 'd0251', vector: queries[2] }]);
    }
    const after = observe(bulk);
    expect(after).toEqual(observe(serving));
    expect(after.documents).toBe(299);
    expect(after.gets[1]).toMatchObject({ id: 'd0007', text: 'replaced' });
    expect(after.gets[3]).toBeUndefined();
    expect(after.hits[0][0]).toMatchObject({ id: 'd0007' });

    await close(bulk);
    await close(serving);
    bulk = await open(bulkDir, true);
    serving = await open(servingDir, false);
    expect(observe(bulk)).toEqual(after);
    expect(observe(serving)).toEqual(after);

    await bulk.optimize();
    await serving.optimize();
    expect(bulk.stats().segments).toBe(1);
    expect(observe(bulk)).toEqual(after);
    expect(observe(serving)).toEqual(after);
  }, 60_000);

  it('ingest does not read a parked segment beyond its ids: a damaged postings file surfaces at the first search', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spladex-parked-'));
    dirs.push(dir);
    const s = await open(dir, true);
    await s.upsert(docs.slice(0, 50));
    await s.seal();
    const seg = readdirSync(join(dir)).find((f) => f.startsWith('seg-')) as string;
    writeFileSync(join(dir, seg, 'postings.bin'), 'damaged');
    // Upserts of new ids look the ids up in the parked segment only.
    await s.upsert(docs.slice(50, 120));
    expect(s.stats().documents).toBe(120);
    let err: unknown;
    try {
      s.search(queries[0], opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpladexError);
    expect((err as SpladexError).code).toBe('CORRUPT_INDEX');
    expect((err as SpladexError).message).toContain('postings.bin');
  }, 60_000);

  it('optimize builds the approximate index of a single bulk-loaded segment, also when reopened by a server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spladex-parked-'));
    dirs.push(dir);
    const oneSegment: StoreConfig = {
      ...config,
      memtableMaxDocs: 1000,
      build: IndexBuildConfigSchema.parse({ approximateThreshold: 100 }),
    };
    const bulk = await openCollectionStore({ dir, config: oneSegment, logger, sealMode: 'inline', deferApproximate: true });
    stores.push(bulk);
    await load(bulk);
    expect(bulk.stats().segments).toBe(1);
    expect(bulk.search(queries[0], { ...opts, exact: false }).exact).toBe(true);
    await close(bulk);
    // The CLI's `optimize` opens the data dir as a serving store would (not as a bulk load).
    const serving = await openCollectionStore({ dir, config: oneSegment, logger, sealMode: 'inline' });
    stores.push(serving);
    expect(serving.tunedFor(0.9)).toBeNull();
    await serving.optimize();
    const r = serving.search(queries[0], { ...opts, exact: false });
    expect(r.exact).toBe(false);
    expect(r.blocksScored).toBeGreaterThan(0);
    expect(serving.tunedFor(0.9)).not.toBeNull();
    expect(serving.stats().documents).toBe(300);
  }, 60_000);
});
