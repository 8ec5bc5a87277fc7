import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import fc from 'fast-check';
import { openCollectionStore } from './collection-store.js';
import type { CollectionStore, StoreConfig, StoreDocument, StoreSearchOptions } from './store-types.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';
import { storeScratch } from '../../test/support/store-scratch.js';

const logger = pino({ level: 'silent' });
const { stores, tmp } = storeScratch<CollectionStore>('spladex-store-');

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
  return fromIndicesValues(
    ids,
    ids.map((i) => pairs[i]),
    1 << 30,
  );
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

describe('getFields', () => {
  it('returns exactly the asked stored fields of get(), from the memtable and from a sealed segment', async () => {
    const s = await open(tmp());
    const docs: StoreDocument[] = [
      { id: 'a', title: 'A', text: 'alpha', vector: vec({ 1: 1 }), metadata: { lang: 'en' } },
      { id: 'b', title: 'B', vector: vec({ 2: 1 }) },
      { id: 'c', text: 'gamma', vector: vec({ 3: 1 }), metadata: { n: 1 } },
    ];
    const check = () => {
      for (const d of docs) {
        for (let mask = 0; mask < 8; mask++) {
          const want = { title: (mask & 1) !== 0, text: (mask & 2) !== 0, metadata: (mask & 4) !== 0 };
          const full = s.get(d.id) as StoreDocument;
          const expected: Record<string, unknown> = {};
          if (want.title && full.title !== undefined) expected.title = full.title;
          if (want.text && full.text !== undefined) expected.text = full.text;
          if (want.metadata && full.metadata !== undefined) expected.metadata = full.metadata;
          expect(s.getFields(d.id, want)).toEqual(expected);
        }
      }
      expect(s.getFields('zzz', { title: true, text: true, metadata: true })).toBeUndefined();
    };
    await s.upsert(docs);
    check();
    await s.optimize();
    expect(s.stats()).toMatchObject({ segments: 1, memtableDocuments: 0 });
    check();
  });
});

function randomDocs(n: number, seed: number, prefix = 'd'): StoreDocument[] {
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const out: StoreDocument[] = [];
  for (let i = 0; i < n; i++) {
    const pairs: Record<number, number> = {};
    const nnz = 1 + Math.floor(rnd() * 12);
    for (let j = 0; j < nnz; j++) pairs[Math.floor(rnd() * rnd() * 200)] = 1 + Math.floor(rnd() * 4);
    out.push({ id: `${prefix}${Math.floor(rnd() * 1e6)}-${i}`, text: `t${i}`, vector: vec(pairs), metadata: { i } });
  }
  return out;
}

describe('seal, reopen, merge', () => {
  it('finds everything after seal and after reopen, with identical scores', async () => {
    const dir = tmp();
    const s = await open(dir);
    const docs = randomDocs(300, 7);
    await s.upsert(docs.slice(0, 150));
    await s.optimize();
    await s.upsert(docs.slice(150));
    await s.delete([docs[3].id, docs[200].id]);
    const q = vec({ 1: 1, 5: 0.5, 17: 2 });
    const before = s.search(q, { ...opts, k: 50 });
    expect(s.stats()).toMatchObject({ documents: 298, segments: 1, memtableDocuments: 149, deleted: 1 });
    await s.optimize();
    expect(s.stats()).toMatchObject({ documents: 298, segments: 1, memtableDocuments: 0 });
    expect(s.search(q, { ...opts, k: 50 }).hits).toEqual(before.hits);
    await closeStore(s);
    const s2 = await open(dir);
    expect(s2.stats()).toMatchObject({ documents: 298, segments: 1, deleted: 0 });
    expect(s2.search(q, { ...opts, k: 50 }).hits).toEqual(before.hits);
    expect(s2.get(docs[3].id)).toBeUndefined();
    expect(s2.get(docs[10].id)).toMatchObject({ id: docs[10].id, text: docs[10].text, metadata: docs[10].metadata });
    expect(Array.from(s2.get(docs[10].id)!.vector.indices)).toEqual(Array.from(docs[10].vector.indices));
  });

  it('replays WAL records newer than the manifest after a reopen without seal', async () => {
    const dir = tmp();
    const s = await open(dir);
    const docs = randomDocs(40, 3);
    await s.upsert(docs.slice(0, 20));
    await s.optimize();
    await s.delete([docs[0].id]);
    await s.upsert(docs.slice(20));
    await s.upsert([{ ...docs[5], text: 'replaced' }]);
    await closeStore(s);
    const s2 = await open(dir);
    expect(s2.stats().documents).toBe(39);
    expect(s2.get(docs[0].id)).toBeUndefined();
    expect(s2.get(docs[5].id)?.text).toBe('replaced');
    expect(s2.stats().deleted).toBe(2);
  });

  it('seals automatically at memtableMaxDocs and keeps the growable dictionary', async () => {
    const dir = tmp();
    const s = await open(dir, { growableDictionary: true, memtableMaxDocs: 10 });
    const dict = s.dictionary!;
    for (let i = 0; i < 25; i++) {
      const a = dict.getOrAdd(`w${i}`);
      const b = dict.getOrAdd(`w${i + 1}`);
      await s.upsert([{ id: `x${i}`, vector: vec({ [a]: 1, [b]: 2 }) }]);
    }
    await s.optimize();
    await closeStore(s);
    const s2 = await open(dir, { growableDictionary: true, memtableMaxDocs: 10 });
    expect(s2.dictionary!.size).toBe(26);
    expect(s2.dictionary!.get('w7')).toBe(7);
    expect(s2.dictionary!.term(25)).toBe('w25');
    const r = s2.search(vec({ 7: 1 }), opts);
    expect(r.hits.map((h) => h.id)).toEqual(['x6', 'x7']);
    expect(s2.stats().segments).toBe(1);
  });

  it('ties are broken by id ascending across memtable and segments', async () => {
    const s = await open(tmp());
    await s.upsert([
      { id: 'm', vector: vec({ 1: 1 }) },
      { id: 'b', vector: vec({ 1: 1 }) },
    ]);
    await s.optimize();
    // One segment and an empty memtable: its hits come straight from the segment's ranking (store-search.ts
    // PartMerge), in the same order.
    expect(s.search(vec({ 1: 1 }), { ...opts, k: 1 }).hits).toEqual([{ id: 'b', score: 1 }]);
    expect(s.search(vec({ 1: 1 }), { ...opts, k: 10 }).hits.map((h) => h.id)).toEqual(['b', 'm']);
    await s.upsert([
      { id: 'a', vector: vec({ 1: 1 }) },
      { id: 'z', vector: vec({ 1: 1 }) },
      { id: 'c', vector: vec({ 1: 1 }) },
    ]);
    expect(s.search(vec({ 1: 1 }), { ...opts, k: 3 }).hits.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    expect(s.search(vec({ 1: 1 }), { ...opts, k: 10 }).hits.map((h) => h.id)).toEqual(['a', 'b', 'c', 'm', 'z']);
  });

  it('rejects a second opener of the same directory with BUSY', async () => {
    const dir = tmp();
    await open(dir);
    await expect(openCollectionStore({ dir, config: config(), logger })).rejects.toMatchObject({ code: 'BUSY' });
  });
});

describe('seal in a worker thread', () => {
  it('keeps serving consistent searches and writes while the worker builds the segment', async () => {
    const dir = tmp();
    const s = await openCollectionStore({ dir, config: config(), logger });
    stores.push(s);
    const docs = randomDocs(3000, 11);
    await s.upsert(docs);
    const q = vec({ 3: 1, 8: 2, 40: 1 });
    const expected = s.search(q, { ...opts, k: 20 }).hits;
    let done = false;
    const sealing = s.optimize().then((r) => {
      done = true;
      return r;
    });
    let searchesDuringSeal = 0;
    let writesDuringSeal = 0;
    while (!done) {
      expect(s.search(q, { ...opts, k: 20 }).hits).toEqual(expected);
      searchesDuringSeal++;
      if (writesDuringSeal < 5) {
        await s.upsert([{ id: `late${writesDuringSeal}`, vector: vec({ 999: 1 }) }]);
        writesDuringSeal++;
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await sealing).toMatchObject({ segments: 1 });
    expect(searchesDuringSeal).toBeGreaterThan(1);
    expect(s.search(q, { ...opts, k: 20 }).hits).toEqual(expected);
    expect(s.search(vec({ 999: 1 }), opts).hits.length).toBe(writesDuringSeal);
    expect(s.stats()).toMatchObject({ documents: 3000 + writesDuringSeal, segments: 1 });
  });
});

describe('approximate path', () => {
  it('segments above approximateThreshold carry a seismic file and answer exact:false close to the exact oracle', async () => {
    const dir = tmp();
    const build = IndexBuildConfigSchema.parse({ approximateThreshold: 200, nPostings: 50 });
    const s = await open(dir, { build });
    const docs = randomDocs(1500, 5);
    await s.upsert(docs);
    await s.optimize();
    await s.delete(docs.slice(0, 100).map((d) => d.id));
    const seg = readdirSync(dir).find((n) => n.startsWith('seg-'))!;
    expect(readdirSync(join(dir, seg))).toContain('seismic.bin');
    let overlap = 0;
    let total = 0;
    for (let i = 100; i < 130; i++) {
      const q = docs[i].vector;
      const exact = s.search(q, { ...opts, k: 10, exact: true });
      const approx = s.search(q, { ...opts, k: 10, exact: false });
      expect(exact.exact).toBe(true);
      expect(approx.exact).toBe(false);
      const want = new Set(exact.hits.map((h) => h.id));
      const deleted = new Set(docs.slice(0, 100).map((d) => d.id));
      for (const h of approx.hits) {
        expect(deleted.has(h.id)).toBe(false);
        if (want.has(h.id)) overlap++;
      }
      total += want.size;
    }
    expect(overlap / total).toBeGreaterThan(0.8);
    await closeStore(s);
    // A flipped byte in the seismic file is CORRUPT_INDEX naming it.
    const path = join(dir, seg, 'seismic.bin');
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 1;
    writeFileSync(path, bytes);
    await expect(open(dir, { build })).rejects.toMatchObject({
      code: 'CORRUPT_INDEX',
      message: expect.stringContaining(`${seg}/seismic.bin`),
    });
  });
});

describe('store vs oracle', () => {
  it('exact search over memtable + segments + deletes equals a brute-force oracle of the live docs (random ops)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('put' as const),
              id: fc.integer({ min: 0, max: 40 }),
              v: fc.dictionary(fc.integer({ min: 0, max: 15 }).map(String), fc.constantFrom(0.5, 1, 2)),
            }),
            fc.record({ op: fc.constant('del' as const), id: fc.integer({ min: 0, max: 40 }) }),
            fc.constant({ op: 'seal' as const }),
          ),
          { maxLength: 60 },
        ),
        fc.dictionary(fc.integer({ min: 0, max: 15 }).map(String), fc.constantFrom(0.5, 1, 3), { minKeys: 1 }),
        async (ops, qd) => {
          const dir = tmp();
          const s = await open(dir, { memtableMaxDocs: 1_000_000 });
          const live = new Map<string, SparseVector>();
          for (const o of ops) {
            if (o.op === 'put') {
              const v = vec(Object.fromEntries(Object.entries(o.v).map(([k, w]) => [Number(k), w])));
              await s.upsert([{ id: `id${o.id}`, vector: v }]);
              live.set(`id${o.id}`, v);
            } else if (o.op === 'del') {
              expect(await s.delete([`id${o.id}`])).toBe(live.delete(`id${o.id}`) ? 1 : 0);
            } else await s.optimize();
          }
          const q = vec(Object.fromEntries(Object.entries(qd).map(([k, w]) => [Number(k), w])));
          const want = [...live.entries()]
            .map(([id, v]) => ({ id, score: Math.fround(dotSparse(v, q)), hit: v.indices.some((t) => q.indices.includes(t)) }))
            .filter((h) => h.hit)
            .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
            .slice(0, 7)
            .map(({ id, score }) => ({ id, score }));
          expect(s.search(q, { ...opts, k: 7 }).hits).toEqual(want);
          expect(s.stats().documents).toBe(live.size);
          await closeStore(s);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a failed seal keeps the docs searchable and the next seal succeeds', async () => {
    const dir = tmp();
    const s = await open(dir);
    await s.upsert(randomDocs(50, 9));
    // A non-empty directory where the first segment will be renamed makes the rename fail.
    mkdirSync(join(dir, 'seg-00000001'));
    writeFileSync(join(dir, 'seg-00000001', 'x'), 'x');
    const q = vec({ 1: 1, 2: 1, 3: 1 });
    const before = s.search(q, opts).hits;
    await expect(s.optimize()).rejects.toThrow();
    expect(s.search(q, opts).hits).toEqual(before);
    await s.upsert([{ id: 'after', vector: vec({ 1: 9 }) }]);
    await s.optimize();
    expect(s.stats()).toMatchObject({ documents: 51, segments: 1, memtableDocuments: 0 });
    await closeStore(s);
    const s2 = await open(dir);
    expect(s2.stats().documents).toBe(51);
    expect(s2.search(q, opts).hits.slice(1)).toEqual(before.slice(0, 9));
  });
});

function dotSparse(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.indices.length && j < b.indices.length) {
    if (a.indices[i] === b.indices[j]) s += a.values[i++] * b.values[j++];
    else if (a.indices[i] < b.indices[j]) i++;
    else j++;
  }
  return s;
}

describe('metadata filters', () => {
  it('filtered search equals the oracle over memtable, sealed segments, selective and broad filters', async () => {
    const dir = tmp();
    const s = await open(dir, { metadataTypes: { lang: 'keyword', year: 'number' } });
    const docs: StoreDocument[] = Array.from({ length: 6500 }, (_, i) => ({
      id: `d${String(i).padStart(5, '0')}`,
      vector: vec({ [i % 13]: 1 + (i % 5), [13 + (i % 7)]: 2 }),
      metadata: { lang: i % 10 === 0 ? 'de' : 'en', year: 2000 + (i % 30), tags: ['x'] },
    }));
    await s.upsert(docs.slice(0, 6000));
    await s.optimize();
    await s.upsert(docs.slice(6000));
    await s.delete(['d00010', 'd06010']);
    const live = docs.filter((d) => d.id !== 'd00010' && d.id !== 'd06010');
    const q = vec({ 3: 1, 15: 0.5 });
    const cases = [
      { filter: { must: [{ field: 'lang', eq: 'de' }] }, accept: (d: StoreDocument) => d.metadata!.lang === 'de' }, // selective (650)
      { filter: { mustNot: [{ field: 'lang', eq: 'de' }] }, accept: (d: StoreDocument) => d.metadata!.lang !== 'de' }, // broad (5850)
      {
        filter: { must: [{ field: 'year', gte: 2010, lt: 2012 }], should: [{ field: 'lang', in: ['de', 'fr'] }] },
        accept: (d: StoreDocument) =>
          (d.metadata!.year as number) >= 2010 && (d.metadata!.year as number) < 2012 && d.metadata!.lang === 'de',
      },
      { filter: { must: [{ field: 'tags', eq: 'x' }] }, accept: () => false }, // undeclared field: clause is false
    ];
    for (const c of cases) {
      const want = live
        .filter(c.accept)
        .map((d) => ({ id: d.id, score: Math.fround(dotSparse(d.vector, q)) }))
        .filter((h) => h.score > 0)
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
        .slice(0, 15);
      expect(s.search(q, { ...opts, k: 15, filter: c.filter }).hits, JSON.stringify(c.filter)).toEqual(want);
      expect(new Set(s.liveIds(c.filter))).toEqual(new Set(live.filter(c.accept).map((d) => d.id)));
    }
    expect(s.liveIds().length).toBe(live.length);
    await closeStore(s);
    const s2 = await open(dir, { metadataTypes: { lang: 'keyword', year: 'number' } });
    expect(s2.search(q, { ...opts, k: 5, filter: cases[0].filter }).hits.every((h) => Number(h.id.slice(1)) % 10 === 0)).toBe(true);
  });
});

describe('bm25 collections', () => {
  it('weights tf by bm25 with the live avgdl, in the memtable and in sealed segments, and reports term statistics', async () => {
    const dir = tmp();
    const s = await open(dir, { weighting: { kind: 'bm25', k1: 0.9, b: 0.4 }, metadataTypes: { g: 'keyword' } });
    // dl: a = 3, b = 6 → avgdl 4.5
    await s.upsert([
      { id: 'a', vector: vec({ 7: 2, 9: 1 }), metadata: { g: 'x' } },
      { id: 'b', vector: vec({ 7: 1, 8: 4, 9: 1 }) },
    ]);
    const w = (tf: number, dl: number, avgdl: number) => (tf * 1.9) / (tf + 0.9 * (1 - 0.4 + (0.4 * dl) / avgdl));
    const q = vec({ 7: 2, 9: 0.5 });
    const expected = [
      { id: 'a', score: Math.fround(2 * Math.fround(w(2, 3, 4.5)) + 0.5 * Math.fround(w(1, 3, 4.5))) },
      { id: 'b', score: Math.fround(2 * Math.fround(w(1, 6, 4.5)) + 0.5 * Math.fround(w(1, 6, 4.5))) },
    ];
    expect(s.search(q, opts).hits).toEqual(expected);
    expect(s.search(q, opts).hits[0].score).toBeCloseTo(2 * (3.8 / 2.78) + 0.5 * (1.9 / 1.78), 5);
    const ts = s.termStats();
    expect([ts.numDocs, ts.avgdl, ts.df(7), ts.df(8), ts.df(3)]).toEqual([2, 4.5, 2, 1, 0]);
    await s.optimize();
    expect(s.search(q, opts).hits).toEqual(expected); // baked with the same avgdl
    expect(s.get('a')!.vector.values[0]).toBeCloseTo(w(2, 3, 4.5), 6);
    // A long new doc moves avgdl to 7: memtable docs and sealed docs (exact search reweights their raw tf, and so
    // does get) use it, bit for bit like the memtable; only the segment's Seismic index keeps its baked weights.
    await s.upsert([{ id: 'c', vector: vec({ 7: 3, 10: 9 }) }]);
    expect(s.termStats().avgdl).toBe(7);
    const hits = s.search(vec({ 7: 1 }), opts).hits;
    expect(hits.find((h) => h.id === 'c')!.score).toBeCloseTo(w(3, 12, 7), 5);
    expect(hits.find((h) => h.id === 'a')!.score).toBe(Math.fround(Math.fround(w(2, 3, 7))));
    expect(s.get('a')!.vector.values[0]).toBe(Math.fround(w(2, 3, 7)));
    // The selective-filter kernel reweights too.
    const filtered = s.search(vec({ 7: 1 }), { ...opts, filter: { must: [{ field: 'g', eq: 'x' }] } }).hits;
    expect(filtered).toEqual([{ id: 'a', score: Math.fround(w(2, 3, 7)) }]);
    // Merging reweights everything with the avgdl of the merge (7).
    await s.delete(['b']);
    await s.optimize();
    const avg = s.termStats().avgdl; // (3 + 12) / 2
    expect(avg).toBe(7.5);
    const after = s.search(vec({ 7: 1 }), opts).hits;
    expect(after.find((h) => h.id === 'a')!.score).toBeCloseTo(w(2, 3, 7.5), 5);
    expect(after.find((h) => h.id === 'c')!.score).toBeCloseTo(w(3, 12, 7.5), 5);
  });
});

describe('background merges', () => {
  it('keeps the segment count bounded as seals accumulate, losing nothing', async () => {
    const dir = tmp();
    const s = await openCollectionStore({ dir, config: config(), logger, sealMode: 'inline' });
    stores.push(s);
    const docs = randomDocs(300, 21);
    const q = vec({ 1: 1, 2: 1, 3: 1, 4: 1 });
    let maxSegments = 0;
    for (let i = 0; i < docs.length; i += 10) {
      await s.upsert(docs.slice(i, i + 10));
      if (i % 50 === 0) await s.delete([docs[i].id]);
      await s.seal(); // 30 seals; merges are queued behind them
      maxSegments = Math.max(maxSegments, s.stats().segments);
    }
    await closeStore(s); // waits for queued seals and merges
    expect(readdirSync(dir).filter((n) => n.startsWith('seg-')).length).toBeLessThan(8);
    const s2 = await open(dir);
    const st = s2.stats();
    expect(st.documents).toBe(294);
    expect(st.segments).toBeLessThan(8);
    expect(maxSegments).toBe(8); // reached the trigger, never more (each seal waits for the queued merge)
    const live = docs.filter((_, i) => i % 50 !== 0);
    const want = live
      .map((d) => ({ id: d.id, score: Math.fround(dotSparse(d.vector, q)) }))
      .filter((h) => h.score > 0)
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, 10);
    expect(s2.search(q, opts).hits).toEqual(want);
  });
});

describe('bulk loads (deferApproximate) and back-pressure', () => {
  it('seals exact-only segments, keeps memory near two memtables, and optimize builds the approximate index', async () => {
    const dir = tmp();
    const build = IndexBuildConfigSchema.parse({ approximateThreshold: 100, nPostings: 50 });
    const s = await openCollectionStore({ dir, config: config({ build, memtableMaxDocs: 60 }), logger, deferApproximate: true });
    stores.push(s);
    const docOf = (i: number): StoreDocument => ({
      id: `d${String(i).padStart(4, '0')}`,
      vector: vec({ [i % 97]: 1 + (i % 5), [100 + (i % 13)]: 0.5 }),
    });
    let maxMemtable = 0;
    for (let b = 0; b < 20; b++) {
      await s.upsert(Array.from({ length: 25 }, (_, j) => docOf(b * 25 + j)));
      maxMemtable = Math.max(maxMemtable, s.stats().memtableDocuments);
    }
    expect(maxMemtable).toBeLessThanOrEqual(2 * (60 + 25)); // memtable + frozen: each at most limit + one batch
    await (s as unknown as { seal(): Promise<void> }).seal();
    const q = vec({ 3: 1, 105: 1 });
    const before = s.search(q, { ...opts, exact: false });
    expect(before.exact).toBe(true); // no segment carries a Seismic index yet
    const exact = s.search(q, opts);
    await s.optimize();
    expect(s.stats().segments).toBe(1);
    const after = s.search(q, { ...opts, exact: false, heapFactor: 0.01, queryCut: 10 });
    expect(after.exact).toBe(false);
    expect(after.hits.map((h) => h.id)).toEqual(exact.hits.map((h) => h.id));
    expect(s.stats().documents).toBe(500);
  }, 60_000);
});
