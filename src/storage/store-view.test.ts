/**
 * Point-in-time views (store-view.ts) and the cursor gate (`after`) on a real store: a view keeps answering as
 * of the moment it was taken through upserts, replaces, deletes, seals and merges, in memtables and in
 * segments, with and without the approximate index; pages gated by `after` concatenate to the one larger search.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { openCollectionStore } from './collection-store.js';
import type { CollectionStore, StoreConfig, StoreDocument, StoreSearchOptions } from './store-types.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';
import { Rng } from '../core/rng.js';
import { storeScratch } from '../../test/support/store-scratch.js';

const logger = pino({ level: 'silent' });
const { stores, tmp } = storeScratch<CollectionStore>('spladex-view-');

async function open(over: Partial<StoreConfig> = {}): Promise<CollectionStore> {
  const config: StoreConfig = {
    dim: 64,
    weighting: { kind: 'none' },
    growableDictionary: false,
    build: IndexBuildConfigSchema.parse({ approximateThreshold: 200 }),
    metadataTypes: { g: 'keyword' },
    memtableMaxDocs: 150,
    ...over,
  };
  const s = await openCollectionStore({ dir: tmp(), config, logger, sealMode: 'inline' });
  stores.push(s);
  return s;
}

/** Docs with a few terms among 8 (many ties: weights are small integers). */
function docs(rng: () => number, from: number, n: number, tag = 'v1'): StoreDocument[] {
  const out: StoreDocument[] = [];
  for (let i = from; i < from + n; i++) {
    const pairs = new Map<number, number>();
    for (let t = 0; t < 3; t++) pairs.set(Math.floor(rng() * 8), 1 + Math.floor(rng() * 3));
    out.push({
      id: `d${String(i).padStart(4, '0')}`,
      text: `${tag} ${i}`,
      metadata: { g: i % 3 === 0 ? 'a' : 'b' },
      vector: fromIndicesValues([...pairs.keys()], [...pairs.values()], 64),
    });
  }
  return out;
}

function rngOf(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const q: SparseVector = fromIndicesValues([0, 1, 2, 3], [1, 2, 1, 3], 64);
const exact = (k: number): StoreSearchOptions => ({ k, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 });
const ids = (r: { hits: { id: string; score: number }[] }) => r.hits.map((h) => `${h.id}:${h.score}`);

describe('store views', () => {
  it('a view answers as of its moment through upserts, replaces, deletes, seals and merges', async () => {
    const s = await open();
    const rng = rngOf(7);
    await s.upsert(docs(rng, 0, 400)); // seals into segments at 150 docs; the rest stays in the memtable
    const before = s.search(q, exact(1000));
    const beforeCount = s.count({ must: [{ field: 'g', eq: 'a' }] });
    const beforeList = s
      .snapshot()
      .list({ after: null, limit: 1000, fields: { title: false, text: true, metadata: false }, vectors: false, dense: false });
    const view = s.snapshot();
    // Later writes: new docs, replaced docs (memtable and segment ones), deletes, then an optimize (merge).
    await s.upsert(docs(rng, 400, 100, 'new'));
    await s.upsert(docs(rng, 0, 50, 'replaced'));
    await s.upsert(docs(rng, 350, 40, 'replaced'));
    await s.delete(['d0100', 'd0200', 'd0390', 'd0010']);
    expect(ids(view.search(q, exact(1000)))).toEqual(ids(before));
    await s.optimize();
    expect(ids(s.search(q, exact(1000)))).not.toEqual(ids(before));
    expect(ids(view.search(q, exact(1000)))).toEqual(ids(before));
    expect(view.count({ must: [{ field: 'g', eq: 'a' }] })).toBe(beforeCount);
    expect(view.count()).toBe(400);
    expect(s.count()).toBe(496);
    const listed = view.list({
      after: null,
      limit: 1000,
      fields: { title: false, text: true, metadata: false },
      vectors: false,
      dense: false,
    });
    expect(listed.map((d) => [d.id, d.text])).toEqual(beforeList.map((d) => [d.id, d.text]));
    expect(listed.every((d) => d.text?.startsWith('v1'))).toBe(true);
    // Fields attached to hits come from the view too.
    const h = view.search(q, { ...exact(5), fields: { title: false, text: true, metadata: true } });
    expect(h.hits.every((x) => x.fields?.text?.startsWith('v1'))).toBe(true);
  });

  it('a view taken while nothing changed is the one before; a write, replace, delete, seal or merge makes a new one', async () => {
    const s = await open({ memtableMaxDocs: 100_000 });
    const seal = () => (s as unknown as { seal(): Promise<void> }).seal();
    // Every doc has the same length and weights, so the avgdl never changes: each change must be seen by itself.
    const same = (from: number, n: number, tag: string): StoreDocument[] =>
      Array.from({ length: n }, (_, j) => {
        const i = from + j;
        const v = fromIndicesValues([i % 8, (i + 1) % 8, (i + 2) % 8], [1, 2, 3], 64);
        return { id: `d${String(i).padStart(4, '0')}`, text: `${tag} ${i}`, metadata: { g: 'a' }, vector: v };
      });
    // No seal but the ones asked for: two segments, then docs in the memtable.
    await s.upsert(same(0, 200, 'v1'));
    await seal();
    await s.upsert(same(200, 150, 'v1'));
    await seal();
    await s.upsert(same(350, 50, 'v1'));
    const v1 = s.snapshot();
    const hits1 = ids(v1.search(q, exact(1000)));
    // Searches and reads change nothing: every cursor of this moment shares one view.
    s.search(q, exact(10));
    s.count();
    expect(s.snapshot()).toBe(v1);
    const avgdl = s.termStats().avgdl;
    const views = [v1];
    const changes: [string, () => Promise<unknown>, number][] = [
      ['a new doc', () => s.upsert(same(400, 1, 'new')), 401],
      ['a replaced memtable doc', () => s.upsert(same(399, 1, 'replaced')), 401],
      ['a replaced segment doc', () => s.upsert(same(5, 1, 'replaced')), 401],
      ['a deleted segment doc', () => s.delete(['d0006']), 400],
      ['a deleted memtable doc', () => s.delete(['d0398']), 399],
      ['a seal', seal, 399],
      ['a merge', () => s.optimize(), 399],
    ];
    for (const [what, change, count] of changes) {
      await change();
      expect(s.termStats().avgdl, what).toBe(avgdl);
      const v = s.snapshot();
      expect(views.includes(v), what).toBe(false);
      expect(s.snapshot(), what).toBe(v);
      expect(v.count(), what).toBe(count);
      views.push(v);
    }
    // Each view still answers as of its own moment.
    expect(ids(v1.search(q, exact(1000)))).toEqual(hits1);
    expect(views.map((v) => v.count())).toEqual([400, 401, 401, 401, 400, 399, 399, 399]);
  });

  it('pages gated by after concatenate to one larger search (exact and approximate), in every source', async () => {
    const s = await open();
    const rng = rngOf(11);
    await s.upsert(docs(rng, 0, 700));
    await s.optimize(); // one segment of 700 with an approximate index (threshold 200)
    await s.upsert(docs(rng, 700, 120)); // and a memtable
    for (const exactSearch of [true, false]) {
      const o = (k: number): StoreSearchOptions => ({ ...exact(k), exact: exactSearch, heapFactor: 1, queryCut: 10 });
      const all = s.search(q, o(300));
      const pages: string[] = [];
      let after: { score: number; id: string } | null = null;
      for (let p = 0; p < 30; p++) {
        const r = s.search(q, { ...o(10), after });
        pages.push(...ids(r));
        if (r.hits.length < 10) break;
        const last = r.hits[r.hits.length - 1];
        after = { score: last.score, id: last.id };
      }
      expect(new Set(pages).size).toBe(pages.length);
      if (exactSearch) expect(pages.slice(0, 300)).toEqual(ids(all));
      // Approximate: not the same set as one larger search, but one strictly decreasing ranking without repeats.
      const ranked = pages.map((p) => {
        const [id, score] = p.split(':');
        return { id, score: Number(score) };
      });
      for (let i = 1; i < ranked.length; i++) {
        const a = ranked[i - 1];
        const b = ranked[i];
        expect(b.score < a.score || (b.score === a.score && b.id > a.id)).toBe(true);
      }
      expect(ranked.length).toBeGreaterThan(100);
    }
  });

  it('list pages in id order with a filter, no gaps or duplicates', async () => {
    const s = await open();
    await s.upsert(docs(rngOf(3), 0, 420));
    const view = s.snapshot();
    const f = { must: [{ field: 'g', eq: 'b' }] };
    const got: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = view.list({
        after,
        limit: 37,
        filter: f,
        fields: { title: false, text: false, metadata: true },
        vectors: true,
        dense: false,
      });
      got.push(...page.map((d) => d.id));
      if (page.length < 37) break;
      after = page[page.length - 1].id;
    }
    const want = docs(rngOf(3), 0, 420)
      .filter((d) => d.metadata?.g === 'b')
      .map((d) => d.id);
    expect(got).toEqual(want);
  });
});
