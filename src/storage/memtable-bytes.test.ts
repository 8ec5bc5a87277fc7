/**
 * Issue 12.5 (memtable part): the memtable seals by estimated bytes as well as by document count. 40 docs with
 * 25 MB of metadata each held 1.26 GB under the count-only limit; here 40 docs of 1 MB metadata strings against
 * a 4 MiB byte limit (and a doc limit never reached) must seal along the way, never holding more than the limit
 * plus one batch. Real files, inline seals; the estimate itself is checked against the document sizes.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { openCollectionStore, type SealableCollectionStore } from './collection-store.js';
import { estimateDocBytes, Memtable } from '../segment/memtable.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { fromIndicesValues } from '../core/sparse-vector.js';
import { loadEnv } from '../config/env.js';

import { storeScratch } from '../../test/support/store-scratch.js';

const { stores, tmp } = storeScratch<SealableCollectionStore>('spladex-membytes-');

const MiB = 1024 * 1024;

/** A vectors-only store (dim 100, inline seals) that seals at 4 MiB of estimated bytes, never by count. */
async function openByteLimitedStore(): Promise<SealableCollectionStore> {
  const s = await openCollectionStore({
    dir: tmp(),
    config: {
      dim: 100,
      weighting: { kind: 'none' },
      growableDictionary: false,
      build: IndexBuildConfigSchema.parse({}),
      metadataTypes: {},
      memtableMaxDocs: 1_000_000,
      memtableMaxBytes: 4 * MiB,
    },
    logger: pino({ level: 'silent' }),
    sealMode: 'inline',
  });
  stores.push(s);
  return s;
}

describe('memtable byte limit (issue 12.5)', () => {
  it('40 docs × 1 MB metadata with memtableMaxBytes 4 MiB seal along the way (count limit never reached)', async () => {
    const s = await openByteLimitedStore();
    const big = 'x'.repeat(MiB);
    let maxMemtableDocs = 0;
    for (let i = 0; i < 40; i++) {
      await s.upsert([
        { id: `d${String(i).padStart(2, '0')}`, vector: fromIndicesValues([i % 100], [1], 100), metadata: { blob: big, i } },
      ]);
      maxMemtableDocs = Math.max(maxMemtableDocs, s.stats().memtableDocuments);
    }
    // Each doc is ~2 MiB estimated (UTF-16), so a seal is due every second doc; a write that finds the new
    // memtable full while a seal runs waits for it, so at most about two memtables' worth are ever held.
    expect(maxMemtableDocs).toBeLessThanOrEqual(4);
    expect(s.stats().segments).toBeGreaterThanOrEqual(1);
    expect(s.stats().documents).toBe(40);
    expect(s.get('d39')?.metadata).toEqual({ blob: big, i: 39 });
  });

  it('seals without an explicit seal once the estimate reaches the limit', async () => {
    const s = await openByteLimitedStore();
    const big = 'y'.repeat(MiB);
    let sawMax = 0;
    for (let i = 0; i < 20; i++) {
      await s.upsert([{ id: `d${i}`, vector: fromIndicesValues([1], [1], 100), text: big }]);
      sawMax = Math.max(sawMax, s.stats().memtableDocuments);
    }
    // Back-pressure waits for a running seal when the new memtable is full again: at most two memtables' worth.
    expect(sawMax).toBeLessThanOrEqual(4);
    expect(s.stats().segments).toBeGreaterThanOrEqual(1);
    expect(s.stats().documents).toBe(20);
  });

  it('estimates text, metadata and vectors, and the default limit is 256 MiB (SPLADEX_MEMTABLE_MAX_BYTES)', () => {
    const v = fromIndicesValues([1, 2, 3], [1, 1, 1], 10);
    const base = estimateDocBytes({ id: 'a', vector: v });
    expect(estimateDocBytes({ id: 'a', vector: v, text: 'z'.repeat(1000) }) - base).toBe(2000);
    expect(estimateDocBytes({ id: 'a', vector: v, metadata: { k: 'z'.repeat(1000) } }) - base).toBeGreaterThanOrEqual(2000);
    const keys = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    expect(estimateDocBytes({ id: 'a', vector: v, metadata: keys }) - base).toBeGreaterThanOrEqual(1000 * 24);
    const m = new Memtable();
    m.insert({ id: 'a', vector: v, text: 'z'.repeat(1000) });
    expect(m.estimatedBytes).toBe(estimateDocBytes({ id: 'a', vector: v, text: 'z'.repeat(1000) }));
    expect(loadEnv({}).memtableMaxBytes).toBe(256 * MiB);
    expect(loadEnv({ SPLADEX_MEMTABLE_MAX_BYTES: String(64 * MiB) }).memtableMaxBytes).toBe(64 * MiB);
    expect(() => loadEnv({ SPLADEX_MEMTABLE_MAX_BYTES: '10' })).toThrow(/SPLADEX_MEMTABLE_MAX_BYTES/);
    expect(loadEnv({}).lsaFitTimeoutMs).toBe(120_000);
  });
});
