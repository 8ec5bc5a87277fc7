/**
 * Search-service integration over the real storage engine and lexical encoder: collection lifecycle,
 * BM25 scores checked against a hand computation, per-document errors, vectors-only collections with token
 * maps, PRF, explain sums, reopen after close (WAL replay) and after optimize (segments).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { searchRequestSchema, DEFAULT_LIMITS } from '../src/config/request-schemas.js';

const logger = pino({ level: 'silent' });
const parse = (body: unknown) => searchRequestSchema(DEFAULT_LIMITS).parse(body);

const DOCS = [
  { id: 'a', title: 'Earthquakes', text: 'Earthquakes shake the ground. Earthquakes are measured.' },
  { id: 'b', text: 'Volcanoes erupt lava and ash.' },
  { id: 'c', text: 'The ground under volcanoes can shake before an eruption.' },
  { id: 'd', text: 'Cooking pasta needs salted water.' },
];

describe('SpladexService (lexical)', () => {
  let dir: string;
  let svc: SpladexService;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spladex-svc-'));
    svc = await openSpladexService({ dataDir: dir, encodersDir: path.join(dir, 'enc'), logger });
  });
  afterEach(async () => {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates idempotently and refuses a different config', async () => {
    const first = await svc.createCollection('docs', {});
    expect(first.created).toBe(true);
    const again = await svc.createCollection('docs', {});
    expect(again.created).toBe(false);
    await expect(svc.createCollection('docs', { search: { k: 5 } })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(svc.createCollection('Bad Name', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(svc.createCollection('x', { encoder: 'nope' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('scores BM25 exactly as the formula says', async () => {
    await svc.createCollection('docs', {});
    const r = await svc.upsertDocuments('docs', DOCS);
    expect(r).toEqual({ indexed: 4, errors: [] });
    const res = await svc.search('docs', parse({ query: 'shake' }));
    // "shake" occurs once in a (dl 6: earthquak x3, shake, ground, measur) and once in c.
    // Terms after stopwords+stemming: a = [earthquak, earthquak, shake, ground, earthquak, measur] → dl 6
    // c = [ground, under, volcano, can, shake, befor, erupt] → dl 7 ; b: [volcano, erupt, lava, ash] → 4; d: [cook, pasta, need, salt, water] → 5
    const avgdl = (6 + 4 + 7 + 5) / 4;
    const idf = Math.log(1 + (4 - 2 + 0.5) / (2 + 0.5));
    const w = (dl: number) => (1 * 1.9) / (1 + 0.9 * (1 - 0.4 + (0.4 * dl) / avgdl));
    expect(res.hits.map((h) => h.id)).toEqual(['a', 'c']);
    expect(res.hits[0].score).toBeCloseTo(idf * w(6), 5);
    expect(res.hits[1].score).toBeCloseTo(idf * w(7), 5);
  });

  it('reports bad documents per index and indexes the good ones', async () => {
    await svc.createCollection('docs', {});
    const r = await svc.upsertDocuments('docs', [
      { id: 'ok', text: 'fine text' },
      { id: 5.5, text: 'x' },
      { id: 'v', vector: { x: 1 } },
      { title: 't' },
    ]);
    expect(r.indexed).toBe(1);
    expect(r.errors.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(r.errors[0].message).toBe('documents[1].id: must be a string or an integer');
    expect(r.errors[1].message).toMatch(/documents\[2\]\.vector/);
  });

  it('deletes, replaces, and survives reopen (WAL replay) and optimize (segments)', async () => {
    await svc.createCollection('docs', {});
    await svc.upsertDocuments('docs', DOCS);
    await svc.deleteDocument('docs', 'b');
    await expect(svc.deleteDocument('docs', 'b')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await svc.upsertDocuments('docs', [{ id: 'd', text: 'lava pasta' }]);
    const check = async (s: SpladexService) => {
      const hits = (await s.search('docs', parse({ query: 'lava' }))).hits.map((h) => h.id);
      expect(hits).toEqual(['d']);
      expect(() => s.getDocument('docs', 'b', false)).toThrow(/not found/);
      expect(s.getDocument('docs', 'd', true).vector?.tokens).toHaveProperty('lava');
    };
    await check(svc);
    await svc.close();
    svc = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    await check(svc);
    await svc.optimize('docs');
    expect(svc.getCollection('docs').stats.memtableDocuments).toBe(0);
    await check(svc);
    await svc.close();
    svc = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    await check(svc);
    expect(svc.getCollection('docs').stats.documents).toBe(3);
  });

  it('explains hits: term products sum to the score', async () => {
    await svc.createCollection('docs', {});
    await svc.upsertDocuments('docs', DOCS);
    const res = await svc.search('docs', parse({ query: 'ground shake volcano', explain: true }));
    expect(res.hits.length).toBeGreaterThan(0);
    for (const h of res.hits) {
      const sum = h.explain!.terms.reduce((s, t) => s + t.product, 0);
      expect(Math.abs(sum - h.score)).toBeLessThan(1e-4);
    }
  });

  it('PRF adds expansion terms from the top documents', async () => {
    await svc.createCollection('docs', {});
    await svc.upsertDocuments('docs', DOCS);
    const plain = await svc.search('docs', parse({ query: 'lava', k: 4 }));
    const prf = await svc.search('docs', parse({ query: 'lava', k: 4, prf: { docs: 1, terms: 10, weight: 0.5 } }));
    expect(plain.hits.map((h) => h.id)).toEqual(['b']);
    // Feedback from b brings in "volcano"/"erupt", which also match c.
    expect(prf.hits.map((h) => h.id)).toContain('c');
    expect(prf.hits[0].id).toBe('b');
  });
});

describe('SpladexService (vectors only)', () => {
  let dir: string;
  let svc: SpladexService;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spladex-svc-'));
    svc = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
  });
  afterEach(async () => {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('needs dim, accepts indices and token maps, warns on unknown query tokens', async () => {
    await expect(svc.createCollection('v', { encoder: 'none' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await svc.createCollection('v', { encoder: 'none', dim: 1000 });
    const r = await svc.upsertDocuments('v', [
      { id: 'x', vector: { indices: [3, 1], values: [0.5, 2] } },
      { id: 'z', vector: { indices: [1000], values: [1] } },
      { id: 'w', text: 'no vector' },
    ]);
    expect(r.indexed).toBe(1);
    expect(r.errors.map((e) => e.index)).toEqual([1, 2]);
    const byIdx = await svc.search('v', parse({ vector: { indices: [1], values: [1] } }));
    expect(byIdx.hits.map((h) => [h.id, h.score])).toEqual([['x', 2]]);
    // Token maps go through the collection's own dictionary (a separate collection: token ids and raw
    // indices share one id space, so one collection should use one form).
    await svc.createCollection('t', { encoder: 'none', dim: 1000 });
    await svc.upsertDocuments('t', [{ id: 'y', vector: { cat: 1.5, dog: 0.5 } }]);
    const byTok = await svc.search('t', parse({ vector: { cat: 2, bird: 1 } }));
    expect(byTok.hits.map((h) => [h.id, h.score])).toEqual([['y', 3]]);
    expect(byTok.warnings.join(' ')).toMatch(/bird/);
    await expect(svc.search('v', parse({ query: 'text' }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('SpladexService with a damaged collection', () => {
  it('keeps serving the others and reports CORRUPT_INDEX naming the file', async () => {
    const { readdir, readFile, writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(path.join(tmpdir(), 'spladex-svc-'));
    let svc = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    await svc.createCollection('good', {});
    await svc.createCollection('bad', {});
    await svc.upsertDocuments('good', DOCS);
    await svc.upsertDocuments('bad', DOCS);
    await svc.optimize('bad');
    await svc.close();
    // Flip one byte in the middle of the bad collection's forward-index file.
    const storeDir = path.join(dir, 'bad', 'store');
    const seg = (await readdir(storeDir)).find((f) => f.startsWith('seg-')) as string;
    const files = (await readdir(path.join(storeDir, seg))).sort();
    const victim = path.join(storeDir, seg, files[0]);
    const bytes = await readFile(victim);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(victim, bytes);
    svc = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    try {
      const hits = (await svc.search('good', parse({ query: 'lava' }))).hits.map((h) => h.id);
      expect(hits).toEqual(['b']);
      const err = await svc.search('bad', parse({ query: 'lava' })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CORRUPT_INDEX' });
      expect((err as Error).message).toContain(files[0]);
      const listed = svc.listCollections().collections.find((c) => c.name === 'bad');
      expect(listed?.error).toMatch(/CORRUPT_INDEX/);
      await svc.deleteCollection('bad');
      expect(svc.listCollections().collections.map((c) => c.name)).toEqual(['good']);
    } finally {
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SpladexService batch semantics', () => {
  it('a later duplicate id in one batch wins and is counted once; union errors name the reason', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'spladex-svc-'));
    const svc = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    try {
      await svc.createCollection('v', { encoder: 'none', dim: 100 });
      const r = await svc.upsertDocuments('v', [
        { id: 'x', vector: { indices: [1], values: [1] } },
        { id: 'x', vector: { indices: [2], values: [1] } },
        { id: 'y', vector: { indices: [1, 2], values: [1, Infinity] } },
      ]);
      expect(r.indexed).toBe(1);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0].message).toMatch(/^documents\[2\]\.vector\.values\[1\]: .*finite/);
      const hits = (await svc.search('v', parse({ vector: { indices: [2], values: [1] } }))).hits.map((h) => h.id);
      expect(hits).toEqual(['x']);
      await svc.createCollection('lex', {});
      const t = await svc.upsertDocuments('lex', [
        { id: 'a', text: 'first cats' },
        { id: 'a', text: 'second dogs' },
      ]);
      expect(t.indexed).toBe(1);
      expect((await svc.search('lex', parse({ query: 'dogs' }))).hits.map((h) => h.id)).toEqual(['a']);
      expect((await svc.search('lex', parse({ query: 'cats' }))).hits).toEqual([]);
    } finally {
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SpladexService recall targets', () => {
  it('targetRecall picks calibrated parameters, shown in stats and used by searches', async () => {
    const { createSyntheticModel, generateDoc, generateQueries } = await import('../src/eval/synthetic.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'spladex-svc-'));
    const svc = await openSpladexService({ dataDir: dir, encodersDir: dir, logger });
    try {
      const model = createSyntheticModel({ seed: 7 });
      await svc.createCollection('syn', {
        encoder: 'none',
        dim: model.dim,
        index: { approximateThreshold: 1000 },
        search: { targetRecall: 0.95 },
      });
      const docs = Array.from({ length: 4000 }, (_, i) => {
        const v = generateDoc(model, i);
        return { id: `d${i}`, vector: { indices: Array.from(v.indices), values: Array.from(v.values) } };
      });
      for (let i = 0; i < docs.length; i += 1000) await svc.upsertDocuments('syn', docs.slice(i, i + 1000));
      expect(svc.getCollection('syn').stats.tuned).toBeNull(); // nothing sealed yet
      await svc.optimize('syn');
      const stats = svc.getCollection('syn').stats;
      expect(stats.tuned).not.toBeNull();
      expect(stats.estimatedRecall).toBeGreaterThanOrEqual(0.9);
      // Held-out queries: measured recall@10 of the tuned approximate search against exact search.
      let found = 0;
      let total = 0;
      for (const q of generateQueries(model, 40)) {
        const vector = { indices: Array.from(q.indices), values: Array.from(q.values) };
        const approx = await svc.search('syn', parse({ vector, k: 10 }));
        const exact = await svc.search('syn', parse({ vector, k: 10, params: { exact: true } }));
        expect(approx.stats.exact).toBe(false);
        const want = new Set(exact.hits.map((h) => h.id));
        total += want.size;
        found += approx.hits.filter((h) => want.has(h.id)).length;
      }
      expect(found / total).toBeGreaterThanOrEqual(0.9);
    } finally {
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
