/**
 * Issue 12 item 2, query and encoding side: a text query with 140k distinct terms was accepted (the 1,024-term
 * cap applied to vectors only); a 10⁶-key token map was refused only after every key was validated; a 10,000-doc
 * upsert and a batch of 1 MB text queries ran on the event loop in one piece. Limits through `app.inject` on the
 * real service; yielding checked by counting event-loop turns (setImmediate) while the work runs in-process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { DEFAULT_LIMITS, searchRequestSchema } from '../src/config/request-schemas.js';
import { analyzeQuery } from '../src/encoders/lexical/lexical-encoder.js';

/** `n` words that stay distinct after analysis (a trailing q is left alone by the Porter stemmer). */
const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${(from + i).toString(36)}q`);

describe('text query terms and token-map keys are capped before the work', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({});
    await s.call('PUT', '/v1/collections/kb', {});
    const documents = [
      { id: 'a', text: words(50).join(' ') },
      { id: 'b', text: 'otters swim' },
    ];
    expect((await s.call('POST', '/v1/collections/kb/documents', { documents })).json().indexed).toBe(2);
    await s.call('PUT', '/v1/collections/vec', { encoder: 'none', dim: 1000 });
  });
  afterAll(() => s.close());

  it('a text query with 140k distinct terms is refused with 400 naming query and the limit', async () => {
    const res = await s.call('POST', '/v1/collections/kb/search', { query: words(140_000).join(' ') });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe(`query: at most ${DEFAULT_LIMITS.maxQueryTerms} distinct terms (maxQueryTerms); this text has more`);
  });

  it('the cap counts distinct terms, not repeats, and holds in a batch', async () => {
    const atCap = words(DEFAULT_LIMITS.maxQueryTerms).join(' ');
    expect(analyzeQuery(`${atCap} extra`)?.size).toBe(DEFAULT_LIMITS.maxQueryTerms + 1);
    const ok = await s.call('POST', '/v1/collections/kb/search', { query: `${atCap} ${atCap} ${atCap}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().hits[0].id).toBe('a');
    const over = await s.call('POST', '/v1/collections/kb/search/batch', { searches: [{ query: 'otters' }, { query: `${atCap} extra` }] });
    expect(over.statusCode).toBe(400);
    expect(errorOf(over).message).toMatch(new RegExp(`^searches\\[1\\]\\.query: at most ${DEFAULT_LIMITS.maxQueryTerms} distinct terms`));
  });

  it('a token map with 200k keys is refused by the body scanner before JSON.parse; 2,000 keys by its schema count', async () => {
    const vector: Record<string, number> = {};
    for (const w of words(200_000)) vector[w] = 1;
    const res = await s.call('POST', '/v1/collections/vec/search', { vector });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe(
      `vector: at most ${DEFAULT_LIMITS.maxDocTerms} keys in one object (maxDocTerms, the most any field allows); this one has 200000`,
    );
    const small: Record<string, number> = {};
    for (const w of words(2000)) small[w] = 1;
    const res2 = await s.call('POST', '/v1/collections/vec/search', { vector: small });
    expect(res2.statusCode).toBe(400);
    expect(errorOf(res2).message).toBe(`vector: at most ${DEFAULT_LIMITS.maxQueryTerms} terms (got 2000)`);
  });

  it('a document token map past maxDocTerms refuses the whole body, naming the document, nothing indexed', async () => {
    const vector: Record<string, number> = {};
    for (const w of words(DEFAULT_LIMITS.maxDocTerms + 1)) vector[w] = 1;
    const res = await s.call('POST', '/v1/collections/vec/documents', {
      documents: [
        { id: 'big', vector },
        { id: 'ok', vector: { t: 1 } },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe(
      `documents[0].vector: at most ${DEFAULT_LIMITS.maxDocTerms} keys in one object (maxDocTerms, the most any field allows); this one has ${DEFAULT_LIMITS.maxDocTerms + 1}`,
    );
    const got = await s.call('GET', '/v1/collections/vec/documents/ok');
    expect(got.statusCode).toBe(404);
  });

  it('token maps within the cap and {indices, values} still validate as before', async () => {
    expect(
      (await s.call('POST', '/v1/collections/vec/documents', { documents: [{ id: 'v', vector: { t: 2, u: 1 } }] })).json().indexed,
    ).toBe(1);
    expect((await s.call('POST', '/v1/collections/vec/search', { vector: { t: 1 } })).json().hits[0].id).toBe('v');
    const extra = await s.call('POST', '/v1/collections/vec/search', { vector: { indices: [1], values: [1], x: [1] } });
    expect(extra.statusCode).toBe(400);
    const neg = await s.call('POST', '/v1/collections/vec/search', { vector: { t: -1 } });
    expect(errorOf(neg).message).toBe('vector.t: must be >= 0');
  });
});

describe('big upserts and batches let the event loop run', () => {
  let dir: string;
  let svc: SpladexService;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spladex-yield-'));
    svc = await openSpladexService({ dataDir: dir, encodersDir: path.join(dir, 'enc'), logger: pino({ level: 'silent' }) });
    await svc.createCollection('c', {});
  });
  afterAll(async () => {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Event-loop turns (setImmediate callbacks) that ran while `work` was pending, and the longest gap between two. */
  async function turnsDuring(work: () => Promise<unknown>): Promise<{ turns: number; ms: number; maxGapMs: number }> {
    let turns = 0;
    let stop = false;
    let last = performance.now();
    let maxGapMs = 0;
    const tick = () => {
      if (stop) return;
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const t0 = performance.now();
    await work();
    stop = true;
    maxGapMs = Math.max(maxGapMs, performance.now() - last);
    return { turns, ms: performance.now() - t0, maxGapMs };
  }

  it('a 4,000-doc upsert yields during validation and lexical analysis (longest gap < 1/3 of the upsert)', async () => {
    const vocab = words(20_000);
    const documents = Array.from({ length: 4000 }, (_, i) => ({
      id: `d${i}`,
      text: Array.from({ length: 400 }, (_, j) => vocab[(i * 31 + j * 17) % vocab.length]).join(' '),
    }));
    const { turns, ms, maxGapMs } = await turnsDuring(() => svc.upsertDocuments('c', documents));
    // Validation and analysis never hold the loop for more than a slice; what remains is the store's append of
    // the whole batch (one WAL record). Without slicing the longest gap was ~all of the upsert.
    expect(maxGapMs, `${ms.toFixed(0)} ms, ${turns} turns`).toBeLessThan(ms / 3);
  });

  it('a batch of 32 big text queries yields between searches', async () => {
    const q = `${words(1000).join(' ')} `.repeat(20);
    const parse = searchRequestSchema(DEFAULT_LIMITS);
    const reqs = Array.from({ length: 32 }, () => parse.parse({ query: q, k: 10 }));
    const { turns, ms } = await turnsDuring(() => svc.searchBatch('c', reqs));
    expect(turns, `${ms.toFixed(0)} ms`).toBeGreaterThan(Math.min(16, ms / 32));
  });
});
