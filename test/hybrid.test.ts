/**
 * Hybrid sparse + dense search, dense-only search, LSA collections and metadata filters, end to end through the
 * search service (real store in a temp dir). Oracles are computed here by brute force from the documents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import fc from 'fast-check';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { denseSimilarity } from '../src/search/dense.js';
import { matchesFilter } from '../src/filter/metadata-index.js';
import type { FilterInput } from '../src/config/request-schemas.js';
import { errorOf, startTestServer } from './server-harness.js';
import { Rng } from '../src/core/rng.js';

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'theta', 'kappa', 'lambda', 'sigma'];
const LANGS = ['en', 'de', 'fr'];

/** Seeded uniform [0, 1) numbers (mulberry32, shared with the hardening runs). */
const rng = (seed: number): (() => number) => {
  const g = new Rng(seed);
  return () => g.next();
};

interface Doc {
  id: string;
  text: string;
  dense: number[];
  metadata: { lang: string; year: number; tags: string[] };
}

function makeDocs(n: number, seed: number): Doc[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: `doc-${String(i).padStart(3, '0')}`,
    text: Array.from({ length: 3 + Math.floor(r() * 6) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' '),
    dense: Array.from({ length: 4 }, () => Math.round((r() - 0.5) * 100) / 100),
    metadata: { lang: LANGS[i % 3], year: 2000 + (i % 7), tags: i % 4 === 0 ? ['draft'] : ['final'] },
  }));
}

let dir: string;
let service: SpladexService;
const docs = makeDocs(120, 5);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spladex-hybrid-'));
  service = await openSpladexService({
    dataDir: path.join(dir, 'index'),
    encodersDir: path.join(dir, 'enc'),
    logger: pino({ level: 'silent' }),
  });
  await service.createCollection('hy', {
    dense: { dim: 4, metric: 'cosine' },
    metadata: { lang: 'keyword', year: 'number', tags: 'keyword' },
  });
  // Two thirds go into a sealed segment, the rest stay in the memtable; a few deletes on both sides.
  expect((await service.upsertDocuments('hy', docs.slice(0, 80))).errors).toEqual([]);
  await service.upsertDocuments('hy', [{ id: 'gone-1', text: 'alpha beta', dense: [1, 0, 0, 0], metadata: { lang: 'en' } }]);
  await service.optimize('hy');
  expect((await service.upsertDocuments('hy', docs.slice(80))).errors).toEqual([]);
  await service.upsertDocuments('hy', [{ id: 'gone-2', text: 'alpha gamma', dense: [0, 1, 0, 0], metadata: { lang: 'de' } }]);
  await service.deleteDocument('hy', 'gone-1');
  await service.deleteDocument('hy', 'gone-2');
});

afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

async function ids(req: Record<string, unknown>): Promise<string[]> {
  const res = await service.search('hy', req as never);
  return res.hits.map((h) => h.id);
}

function denseOracle(q: number[], k: number, filter?: FilterInput): string[] {
  return docs
    .filter((d) => !filter || matchesFilter(d.metadata, filter, { lang: 'keyword', year: 'number', tags: 'keyword' }))
    .map((d) => ({ id: d.id, s: denseSimilarity('cosine', q, Float32Array.from(d.dense)) }))
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
    .slice(0, k)
    .map((x) => x.id);
}

describe('hybrid search', () => {
  it('rejects a dense vector of the wrong length, naming dense', async () => {
    await expect(service.search('hy', { query: 'alpha', dense: [1, 2] } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^dense: /),
    });
  });
  it('rejects hybrid without a dense query, naming hybrid', async () => {
    await expect(
      service.search('hy', {
        query: 'alpha',
        hybrid: { alpha: 0.5, method: 'convex', normalization: 'minmax', rrfK: 60, candidates: 100 },
      } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^hybrid: /),
    });
  });
  it('rejects a filter on an undeclared field, naming the field', async () => {
    await expect(service.search('hy', { query: 'alpha', filter: { must: [{ field: 'nope', eq: 1 }] } } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('nope'),
    });
  });
  it('alpha 1 reproduces the sparse ranking, alpha 0 the dense ranking of the candidates', async () => {
    const q = [0.3, -0.2, 0.5, 0.1];
    const hybrid = (alpha: number) => ({ method: 'convex', alpha, normalization: 'minmax', rrfK: 60, candidates: 100 });
    const sparse = await ids({ query: 'alpha gamma', k: 10 });
    expect(sparse.length).toBe(10);
    expect(await ids({ query: 'alpha gamma', k: 10, dense: q, hybrid: hybrid(1) })).toEqual(sparse);
    // Candidates = sparse top-100 ∪ dense top-100 ⊇ every doc here, so alpha 0 is the global dense ranking.
    expect(await ids({ query: 'alpha gamma', k: 10, dense: q, hybrid: hybrid(0) })).toEqual(denseOracle(q, 10));
  });
  it('dense alone is a dense-only search; explain carries sparse, dense and fused', async () => {
    const q = [-0.4, 0.1, 0.2, 0.7];
    expect(await ids({ dense: q, k: 7 })).toEqual(denseOracle(q, 7));
    const res = await service.search('hy', { query: 'beta', dense: q, k: 3, explain: true } as never);
    for (const h of res.hits) {
      expect(h.explain).toBeDefined();
      const e = h.explain as { sparse: number; dense?: number; fused?: number };
      expect(e.fused).toBe(h.score);
      const d = docs.find((x) => x.id === h.id) as Doc;
      expect(e.dense).toBeCloseTo(denseSimilarity('cosine', q, Float32Array.from(d.dense)), 6);
    }
  });
  it('rrf ranks by 1/(60+rank) sums', async () => {
    const q = [0.1, 0.2, 0.3, 0.4];
    const res = await service.search('hy', {
      query: 'delta',
      dense: q,
      k: 5,
      hybrid: { method: 'rrf', alpha: 0.5, normalization: 'minmax', rrfK: 60, candidates: 100 },
    } as never);
    expect(res.hits.length).toBe(5);
    expect(res.hits[0].score).toBeLessThanOrEqual(2 / 61);
    expect(res.hits[0].score).toBeGreaterThan(1 / 61);
  });
});

describe('filters through the service', () => {
  const clause = fc.oneof(
    fc.record({ field: fc.constant('lang'), eq: fc.constantFrom(...LANGS) }),
    fc.record({ field: fc.constant('year'), gte: fc.integer({ min: 1999, max: 2007 }) }),
    fc.record({ field: fc.constant('tags'), in: fc.constant(['draft'] as string[]) }),
  );
  const filterArb = fc.record(
    { must: fc.array(clause, { maxLength: 2 }), mustNot: fc.array(clause, { maxLength: 1 }) },
    { requiredKeys: [] },
  );
  it('filtered sparse and dense search equal brute force with the same filter', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, fc.constantFrom('alpha', 'beta gamma', 'sigma kappa lambda'), async (filter, query) => {
        const got = await ids({ query, k: 10, filter, params: { exact: true } });
        const all = await ids({ query, k: 1000, params: { exact: true } });
        const want = all
          .filter((id) =>
            matchesFilter((docs.find((d) => d.id === id) as Doc).metadata, filter, { lang: 'keyword', year: 'number', tags: 'keyword' }),
          )
          .slice(0, 10);
        expect(got).toEqual(want);
        const q = [0.2, 0.1, -0.3, 0.4];
        expect(await ids({ dense: q, k: 10, filter })).toEqual(denseOracle(q, 10, filter));
      }),
      { numRuns: 25 },
    );
  });
});

describe('lsa collections', () => {
  it('encode queries with the collection-fitted LSA model and survive optimize and reopen', async () => {
    await service.createCollection('lsa', { dense: { dim: 8, metric: 'cosine', encoder: 'lsa' } });
    const texts = [
      'cats purr and chase mice around the house',
      'dogs bark at cats and chase them',
      'quantum computers factor integers with qubits',
      'qubits superposition quantum entanglement computers',
      'plants use sunlight for photosynthesis in leaves',
      'chlorophyll leaves sunlight photosynthesis plants',
      'interest rates inflation central banks markets',
      'stock markets fall when interest rates rise',
    ];
    await service.upsertDocuments(
      'lsa',
      texts.map((text, i) => ({ id: `t${i}`, text })),
    );
    // Fitted at optimize (or in the background after writes), never by a query (issue 12.4).
    await service.optimize('lsa');
    const first = await service.search('lsa', { query: texts[4], k: 3, explain: true } as never);
    expect(first.hits[0].id).toBe('t4');
    expect(first.hits[0].explain?.dense).toBeGreaterThan(0.5);
    const denseOnly = await service.search('lsa', {
      query: 'sunlight photosynthesis',
      k: 2,
      hybrid: { method: 'convex', alpha: 0, normalization: 'minmax', rrfK: 60, candidates: 100 },
    } as never);
    expect(denseOnly.hits.map((h) => h.id).sort()).toEqual(['t4', 't5']);
    await expect(service.upsertDocuments('lsa', [{ id: 'x', text: 'y', dense: [1, 2, 3, 4, 5, 6, 7, 8] }])).resolves.toMatchObject({
      errors: [{ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^documents\[0\]\.dense: /) }],
    });
    await service.optimize('lsa');
    const after = await service.search('lsa', { query: texts[2], k: 1, explain: true } as never);
    expect(after.hits[0].id).toBe('t2');
    // A write while a refit runs in its worker is in the swapped-in table (re-projected with the new model).
    const refit = service.optimize('lsa');
    await service.upsertDocuments('lsa', [{ id: 't8', text: 'photosynthesis leaves chlorophyll sunlight plants' }]);
    await service.deleteDocument('lsa', 't5');
    await refit;
    const during = await service.search('lsa', {
      query: 'chlorophyll leaves',
      k: 3,
      hybrid: { method: 'convex', alpha: 0, normalization: 'minmax', rrfK: 60, candidates: 100 },
    } as never);
    expect(during.hits.map((h) => h.id)).toContain('t8');
    expect(during.hits.map((h) => h.id)).not.toContain('t5');
    // Reopen: the persisted model (lsa.bin) is loaded and documents are projected again from stored text.
    await service.close();
    service = await openSpladexService({
      dataDir: path.join(dir, 'index'),
      encodersDir: path.join(dir, 'enc'),
      logger: pino({ level: 'silent' }),
    });
    const reopened = await service.search('lsa', { query: texts[2], k: 1, explain: true } as never);
    expect(reopened.hits[0].id).toBe('t2');
    expect(reopened.hits[0].explain?.dense).toBe(after.hits[0].explain?.dense);
  });
  it('refuses unknown dense encoders', async () => {
    await expect(service.createCollection('bad', { dense: { dim: 8, encoder: 'nope' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('hybrid over HTTP', () => {
  it('PUT a dense collection, search with hybrid/explain/filter, and the error envelope names the field', async () => {
    const srv = await startTestServer();
    try {
      expect(
        (await srv.call('PUT', '/v1/collections/h', { dense: { dim: 4, metric: 'dot' }, metadata: { lang: 'keyword' } })).statusCode,
      ).toBe(201);
      const docsBody = {
        documents: [
          { id: 'a', text: 'red apple', dense: [1, 0, 0, 0], metadata: { lang: 'en' } },
          { id: 'b', text: 'green apple', dense: [0, 1, 0, 0], metadata: { lang: 'de' } },
          { id: 'c', text: 'red car', dense: [0.5, 0.5, 0, 0], metadata: { lang: 'en' } },
        ],
      };
      expect((await srv.call('POST', '/v1/collections/h/documents', docsBody)).json()).toMatchObject({ indexed: 3, errors: [] });
      const res = await srv.call('POST', '/v1/collections/h/search', {
        query: 'apple',
        dense: [0, 1, 0, 0],
        hybrid: { alpha: 0 },
        explain: true,
        filter: { must: [{ field: 'lang', eq: 'en' }] },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { hits: { id: string; score: number; explain: { sparse: number; dense: number; fused: number } }[] };
      // en only: a (dense 0) and c (dense 0.5); alpha 0 → dense order; minmax → c 1, a 0
      expect(body.hits.map((h) => [h.id, h.score])).toEqual([
        ['c', 1],
        ['a', 0],
      ]);
      expect(body.hits[0].explain).toMatchObject({ dense: 0.5, fused: 1, sparse: 0 });
      const bad = await srv.call('POST', '/v1/collections/h/search', { query: 'apple', dense: [1, 2] });
      expect(bad.statusCode).toBe(400);
      expect(errorOf(bad).message).toMatch(/^dense: /);
      const noDense = await srv.call('POST', '/v1/collections/h/search', { query: 'apple', hybrid: { alpha: 0.3 } });
      expect(noDense.statusCode).toBe(400);
      expect(errorOf(noDense).message).toMatch(/^hybrid: /);
    } finally {
      await srv.close();
    }
  });
});
