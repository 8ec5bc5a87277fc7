/**
 * Lexical search against an independent, straightforward BM25 written here (Lucene's BM25Similarity over a
 * BooleanQuery of SHOULD clauses, as Anserini runs it): score(d) = Σ over query-term *occurrences* t of
 * idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl)), idf = ln(1 + (N − df + 0.5)/(df + 0.5)), k1 0.9, b 0.4.
 * A term written q times in the query counts q times (issue 11 item 2). The (k1+1) factor, which Lucene ≥ 8
 * drops, scales every score equally; spladex keeps it, so the reference does too. dl is exact (Lucene's
 * one-byte norm quantisation is not modelled). The analyzer is shared: this checks the scoring, not the tokens.
 * Runs through the real service (WAL, memtable, exact search) and again after optimize (a segment), and with
 * documents spread over segments sealed at different times (each sealed while the collection's avgdl was another)
 * plus the memtable: exact BM25 over a sealed segment uses the avgdl of the search, not the one of its seal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { searchRequestSchema, DEFAULT_LIMITS } from '../src/config/request-schemas.js';
import { LexicalAnalyzer } from '../src/encoders/lexical/lexical-encoder.js';
import type { EngineEvent } from '../src/search/engine-events.js';

const logger = pino({ level: 'silent' });
const parse = (body: unknown) => searchRequestSchema(DEFAULT_LIMITS).parse(body);

const DOCS = [
  { id: 'd1', title: 'Vitamin D', text: 'Vitamin D deficiency is linked to bone loss. Vitamin D supplements help bones.' },
  { id: 'd2', text: 'Bone density falls with age; calcium and vitamin intake slow the loss of bone.' },
  { id: 'd3', title: 'Sunlight', text: 'Skin makes vitamin D in sunlight. Deficiency is common in winter.' },
  { id: 'd4', text: 'Cancer cells grow without control. Tumour growth needs blood vessels.' },
  { id: 'd5', text: 'Cell growth and cell division are controlled by growth factors and cell signalling.' },
  { id: 'd6', title: 'Growth factors', text: 'Epidermal growth factor receptor mutations drive some lung cancers.' },
  { id: 'd7', text: 'Otters swim fast in cold rivers.' },
  { id: 'd8', text: 'Cold water swimming and vitamin D: no effect on bone density was found in the trial.' },
];

const QUERIES = [
  'vitamin D',
  // Verbose queries with repeated terms: each occurrence is one SHOULD clause in Lucene.
  'vitamin D deficiency: does vitamin D deficiency cause bone loss, and does vitamin D help bone?',
  'cell growth cell growth cell growth factor',
  'cancer cancer cancer cells growth',
  'cold cold water otters otters otters swim',
  'bone bone bone bone density',
];

const K1 = 0.9;
const B = 0.4;

/** The corpus (default: all of it) as analyzed term lists (title + " " + text, as the service joins them). */
function referenceScores(query: string, corpus: readonly (typeof DOCS)[number][] = DOCS): Map<string, number> {
  const analyzer = new LexicalAnalyzer();
  const docs = corpus.map((d) => ({ id: d.id, terms: analyzer.terms(d.title ? `${d.title} ${d.text}` : d.text) }));
  const N = docs.length;
  const avgdl = docs.reduce((s, d) => s + d.terms.length, 0) / N;
  const scores = new Map<string, number>();
  for (const d of docs) {
    let score = 0;
    let matched = false;
    for (const t of analyzer.terms(query)) {
      const tf = d.terms.filter((x) => x === t).length;
      if (tf === 0) continue;
      const df = docs.filter((x) => x.terms.includes(t)).length;
      const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5));
      score += (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * d.terms.length) / avgdl));
      matched = true;
    }
    if (matched) scores.set(d.id, score);
  }
  return scores;
}

/** Every query's exact hits in collection `c` of `svc` against the reference over `corpus`. */
async function checkAgainstReference(svc: SpladexService, corpus: readonly (typeof DOCS)[number][] = DOCS): Promise<void> {
  for (const q of QUERIES) {
    const want = referenceScores(q, corpus);
    const res = await svc.search('c', parse({ query: q, k: 100, params: { exact: true } }));
    const got = new Map(res.hits.map((h) => [h.id, h.score]));
    expect([...got.keys()].sort(), q).toEqual([...want.keys()].sort());
    for (const [id, s] of want) expect(got.get(id), `${q} / ${id}`).toBeCloseTo(s, 5);
  }
}

describe('lexical search equals an independent BM25 (repeated query terms counted)', () => {
  let dir: string;
  let svc: SpladexService;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spladex-bm25-'));
    svc = await openSpladexService({ dataDir: dir, encodersDir: path.join(dir, 'enc'), logger });
    await svc.createCollection('c', {});
    expect((await svc.upsertDocuments('c', DOCS)).indexed).toBe(DOCS.length);
  });
  afterAll(async () => {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('in the memtable', async () => {
    await checkAgainstReference(svc);
  });

  it('after optimize (one segment)', async () => {
    await svc.optimize('c');
    await checkAgainstReference(svc);
  });

  it('explain still sums to the score with repeated terms', async () => {
    const res = await svc.search('c', parse({ query: QUERIES[2], k: 10, explain: true }));
    expect(res.hits.length).toBeGreaterThan(0);
    for (const h of res.hits) {
      const sum = (h.explain?.terms ?? []).reduce((s, t) => s + t.product, 0);
      expect(sum).toBeCloseTo(h.score, 5);
    }
    // "cell" is written three times: its query weight is 3 × idf.
    const cell = res.hits[0].explain?.terms.find((t) => t.token === 'cell');
    const N = DOCS.length;
    const idf = Math.log(1 + (N - 2 + 0.5) / (2 + 0.5)); // "cell" in d5, and "cells" (stemmed) in d4
    expect(cell?.query).toBeCloseTo(3 * idf, 5);
  });

  it('PRF keeps the counted query weights and explain still sums to the score', async () => {
    const plain = await svc.search('c', parse({ query: QUERIES[1], k: 10, explain: true }));
    const res = await svc.search('c', parse({ query: QUERIES[1], k: 10, explain: true, prf: { docs: 3, terms: 5, weight: 0.5 } }));
    const plainWeights = new Map(plain.hits.flatMap((h) => (h.explain?.terms ?? []).map((t) => [t.token, t.query] as const)));
    for (const h of res.hits) {
      const terms = h.explain?.terms ?? [];
      expect(terms.reduce((s, t) => s + t.product, 0)).toBeCloseTo(h.score, 4);
      // Expansion only adds weight: every original term keeps at least its count × idf.
      for (const t of terms) if (plainWeights.has(t.token)) expect(t.query).toBeGreaterThanOrEqual((plainWeights.get(t.token) ?? 0) - 1e-5);
    }
    expect(res.hits.length).toBeGreaterThanOrEqual(plain.hits.length);
  });
});

describe('bm25 with two sealed segments equals Lucene BM25', () => {
  let dir: string;
  let svc: SpladexService;
  const seals: number[] = [];
  let sealed: (() => void) | null = null;
  /** Upserts `docs`, which fill the 3-document memtable, and resolves once their seal is durable. */
  async function upsertAndSeal(docs: typeof DOCS): Promise<void> {
    const done = new Promise<void>((resolve) => {
      sealed = resolve;
    });
    expect((await svc.upsertDocuments('c', docs)).indexed).toBe(docs.length);
    await done;
  }
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spladex-bm25-seg-'));
    svc = await openSpladexService({ dataDir: dir, encodersDir: path.join(dir, 'enc'), logger, memtableMaxDocs: 3 });
    svc.addObserver((e: EngineEvent) => {
      if (e.kind !== 'seal') return;
      seals.push(e.documents);
      sealed?.();
    });
    await svc.createCollection('c', {});
    // d1–d3 are sealed while avgdl is theirs, d4–d6 while it is d1–d6's; d7, d8 stay in the memtable.
    await upsertAndSeal(DOCS.slice(0, 3));
    await upsertAndSeal(DOCS.slice(3, 6));
    expect((await svc.upsertDocuments('c', DOCS.slice(6))).indexed).toBe(2);
    expect(seals).toEqual([3, 3]);
    expect(svc.getCollection('c').stats.segments).toBe(2);
  });
  afterAll(async () => {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('two sealed segments and the memtable', async () => {
    await checkAgainstReference(svc);
  });

  it('explain weighs sealed documents as their score does (sums to the score)', async () => {
    const res = await svc.search('c', parse({ query: QUERIES[1], k: 10, explain: true }));
    expect(new Set(res.hits.map((h) => h.id))).toEqual(new Set(['d1', 'd2', 'd3', 'd8']));
    for (const h of res.hits) expect((h.explain?.terms ?? []).reduce((s, t) => s + t.product, 0)).toBeCloseTo(h.score, 5);
  });

  it('a listing shows sealed documents weighted as get shows them (the avgdl of now)', () => {
    const page = svc.listDocuments('c', { limit: 100, vector: true });
    expect(page.documents).toHaveLength(DOCS.length);
    for (const d of page.documents) expect(d.vector, String(d.id)).toEqual(svc.getDocument('c', String(d.id), true).vector);
  });

  it('after deletes change avgdl (one document of each segment and of the memtable)', async () => {
    for (const id of ['d2', 'd5', 'd7']) await svc.deleteDocument('c', id);
    await checkAgainstReference(
      svc,
      DOCS.filter((d) => !['d2', 'd5', 'd7'].includes(d.id)),
    );
  });
});
