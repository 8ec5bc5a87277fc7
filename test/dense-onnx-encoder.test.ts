/**
 * ONNX encoders of kind `dense` as a collection's dense encoder (issue 15): on main,
 * `{"dense":{"dim":32,"encoder":"fx-dense"}}` was refused with `unknown dense encoder "fx-dense" (available: lsa)`.
 * The fixture `bert-dense-mean` is copied under the name `fx-dense`; documents and queries are encoded by it through
 * the encoder worker pool, and every dense score a search reports is checked against the PyTorch reference vectors
 * of references.json (written by scripts/make-fixtures.py). Doors: REST (app.inject), the library (service), the CLI
 * (runCli into a data dir), and a reopen of the data dir.
 */
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { HybridSchema } from '../src/config/request-schemas.js';
import { denseSimilarity } from '../src/search/dense.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { FIXTURES, loadReferences } from './encoders-helpers.js';

const logger = pino({ level: 'silent' });
const refs = loadReferences();
const REF = refs.encoders['bert-dense-mean'].vectors as number[][];
/** Reference texts used as documents (non-empty ones), by id `t<index in references.json>`. */
const DOC_INDEXES = [1, 3, 4, 5, 6, 17, 18, 19, 21];
const DOCS = DOC_INDEXES.map((i) => ({ id: `t${i}`, text: refs.texts[i] }));

let root: string;
let encodersDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'spladex-dense-onnx-'));
  encodersDir = path.join(root, 'encoders');
  await cp(path.join(FIXTURES, 'bert-dense-mean'), path.join(encodersDir, 'fx-dense'), { recursive: true });
  await symlink(path.join(FIXTURES, 'bert-splade-pooled'), path.join(encodersDir, 'bert-splade-pooled'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Cosine of the reference vectors of two reference texts. */
const refCosine = (a: number, b: number): number => denseSimilarity('cosine', REF[a], REF[b]);

describe('a collection with an ONNX dense encoder', () => {
  let dataDir: string;
  let service: SpladexService;
  let app: FastifyInstance;
  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown) => {
    const res = await app.inject({ method, url, payload: body === undefined ? undefined : (body as object) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };
  const open = async () => {
    service = await openSpladexService({ dataDir, encodersDir, logger, encoderThreads: 2 });
    app = await buildApp({ service, logger });
  };
  const closeAll = async () => {
    await app.close();
    await service.close();
  };

  beforeAll(async () => {
    dataDir = path.join(root, 'data');
    await open();
  });
  afterAll(closeAll);

  it('dense {dim: 32, encoder: "fx-dense"} was refused with: unknown dense encoder "fx-dense" (available: lsa)', async () => {
    const created = await call('PUT', '/v1/collections/hy', { dense: { dim: 32, metric: 'cosine', encoder: 'fx-dense' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const up = await call('POST', '/v1/collections/hy/documents', { documents: DOCS });
    expect(up.body).toEqual({ indexed: DOCS.length, errors: [] });
  });

  it('hybrid search: the dense score of every hit is the cosine of the reference vectors', async () => {
    const q = 4; // "The quick brown fox jumps over the lazy dog."
    const res = await call('POST', '/v1/collections/hy/search', {
      query: refs.texts[q],
      k: DOCS.length,
      explain: true,
      hybrid: { candidates: DOCS.length },
    });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual([]);
    const hits = res.body.hits as { id: string; explain: { dense: number } }[];
    expect(hits.length).toBe(DOCS.length);
    for (const h of hits) expect(Math.abs(h.explain.dense - refCosine(q, Number(h.id.slice(1))))).toBeLessThan(1e-4);
    // The query text is itself a document: its own vector is the nearest (cosine 1).
    expect(hits.find((h) => h.id === `t${q}`)?.explain.dense).toBeCloseTo(1, 5);
  });

  it('PRF and rrf fusion keep the dense side', async () => {
    const res = await call('POST', '/v1/collections/hy/search', {
      query: 'quick fox',
      k: 5,
      explain: true,
      prf: { docs: 3, terms: 5 },
      hybrid: { method: 'rrf' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const hits = res.body.hits as { explain: { dense: number | undefined; fused: number } }[];
    expect(hits.length).toBe(5);
    expect(hits.every((h) => typeof h.explain.dense === 'number' && typeof h.explain.fused === 'number')).toBe(true);
  });

  it('a document may bring a pre-encoded dense array (kept as given); the others are encoded', async () => {
    const given = Array.from({ length: 32 }, (_, i) => (i === 3 ? 1 : 0));
    const up = await call('POST', '/v1/collections/hy/documents', { documents: [{ id: 'pre', text: 'hello', dense: given }] });
    expect(up.body).toEqual({ indexed: 1, errors: [] });
    const res = await call('POST', '/v1/collections/hy/search', { dense: given, k: 1 });
    expect(res.body.hits).toMatchObject([{ id: 'pre' }]);
    expect((res.body.hits as { score: number }[])[0].score).toBeCloseTo(1, 6);
    const wrong = await call('POST', '/v1/collections/hy/documents', { documents: [{ id: 'x', text: 'a', dense: [1, 2] }] });
    expect(JSON.stringify(wrong.body.errors)).toContain('documents[0].dense: expected 32 values, got 2');
    await service.deleteDocument('hy', 'pre');
  });

  it('a dim other than the manifest, a sparse encoder or an unknown name: 400 naming the field', async () => {
    const dim = await call('PUT', '/v1/collections/bad1', { dense: { dim: 16, encoder: 'fx-dense' } });
    expect(dim.status).toBe(400);
    expect(dim.body.code).toBe('INVALID_ARGUMENT');
    expect(String(dim.body.message)).toMatch(/^dense\.dim: .*fx-dense.*32/);
    const sparse = await call('PUT', '/v1/collections/bad2', { dense: { dim: 337, encoder: 'bert-splade-pooled' } });
    expect(sparse.status).toBe(400);
    expect(String(sparse.body.message)).toMatch(/^dense\.encoder: .*sparse/);
    const unknown = await call('PUT', '/v1/collections/bad3', { dense: { dim: 32, encoder: 'nope' } });
    expect(unknown.status).toBe(400);
    expect(String(unknown.body.message)).toBe('dense.encoder: unknown dense encoder "nope" (available: lsa, fx-dense)');
  });

  it('reopening the data dir gives the same scores (vectors are stored, not re-encoded)', async () => {
    const req = { query: refs.texts[17], k: 4, explain: true };
    const before = await call('POST', '/v1/collections/hy/search', req);
    await closeAll();
    await open();
    const after = await call('POST', '/v1/collections/hy/search', req);
    expect(after.status).toBe(200);
    expect(after.body.hits).toEqual(before.body.hits);
  });
});

describe('the CLI and library doors', () => {
  it('spladex index --config with a dense encoder, then spladex search --json', async () => {
    const dataDir = path.join(root, 'cli-data');
    const input = path.join(root, 'docs.jsonl');
    await writeFile(input, `${DOCS.map((d) => JSON.stringify({ _id: d.id, title: '', text: d.text })).join('\n')}\n`);
    let out = '';
    let err = '';
    const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t), stderrIsTty: false };
    const env = { SPLADEX_DATA_DIR: dataDir, SPLADEX_ENCODERS_DIR: encodersDir };
    const config = JSON.stringify({ dense: { dim: 32, encoder: 'fx-dense' } });
    expect(await runCli(['index', 'c', '--input', input, '--config', config, '--quiet'], io, env), err).toBe(0);
    out = '';
    expect(await runCli(['search', 'c', refs.texts[5], '-k', '3', '--json'], io, env), err).toBe(0);
    const res = JSON.parse(out) as { hits: { id: string }[]; warnings: string[] };
    expect(res.warnings).toEqual([]);
    expect(res.hits.length).toBe(3);

    // The library door on the same data dir: the dense-only ranking is the reference ranking.
    const service = await openSpladexService({ dataDir, encodersDir, logger, encoderThreads: 0 });
    try {
      const q = 5;
      const r = await service.search('c', {
        query: refs.texts[q],
        k: DOCS.length,
        hybrid: HybridSchema.parse({ alpha: 0, normalization: 'none' }),
      });
      const want = DOC_INDEXES.map((i) => ({ id: `t${i}`, s: refCosine(q, i) })).sort((a, b) => b.s - a.s);
      expect(r.hits.map((h) => h.id).slice(0, 3)).toEqual(want.slice(0, 3).map((w) => w.id));
    } finally {
      await service.close();
    }
  });
});
