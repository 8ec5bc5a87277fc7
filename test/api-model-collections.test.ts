/**
 * Collections backed by ONNX fixture encoders, through the REST API: a doc-side SPLADE model with an
 * inference-free `idf` query encoder, and a Mistral-style `echo` model. Also: bad encoder names and
 * mismatched vocabularies are refused at creation, never at query time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';

const MODELS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');
const logger = pino({ level: 'silent' });

const DOCS = [
  { id: 'q1', text: 'Earthquakes shake the ground and damage buildings.' },
  { id: 'q2', text: 'Volcanoes erupt with lava and ash clouds.' },
  { id: 'q3', text: 'Cooking pasta needs boiling salted water.' },
];

describe('model-backed collections over REST', () => {
  let dir: string;
  let service: SpladexService;
  let app: FastifyInstance;
  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown) => {
    const res = await app.inject({ method, url, payload: body === undefined ? undefined : (body as object) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spladex-models-'));
    service = await openSpladexService({ dataDir: dir, encodersDir: MODELS, logger, encoderThreads: 1 });
    app = await buildApp({ service, logger });
  });
  afterAll(async () => {
    await app.close();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('splade documents + idf queries: indexes text, searches, decodes tokens', async () => {
    const created = await call('PUT', '/v1/collections/splade', { encoder: 'bert-splade-pooled', queryEncoder: 'bert-idf' });
    expect(created.status).toBe(201);
    const up = await call('POST', '/v1/collections/splade/documents', { documents: DOCS });
    expect(up.body).toEqual({ indexed: 3, errors: [] });
    const doc = await call('GET', '/v1/collections/splade/documents/q2?vector=true');
    const tokens = (doc.body.vector as { tokens: Record<string, number> }).tokens;
    expect(Object.keys(tokens).length).toBeGreaterThan(0);
    const res = await call('POST', '/v1/collections/splade/search', { query: 'lava volcanoes', explain: true, k: 3 });
    expect(res.status).toBe(200);
    const hits = res.body.hits as { id: string; score: number; explain: { terms: { product: number }[] } }[];
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) {
      const sum = h.explain.terms.reduce((s, t) => s + t.product, 0);
      expect(Math.abs(sum - h.score)).toBeLessThan(1e-4);
    }
    // The exact path gives the same ranking on this tiny collection.
    const exact = await call('POST', '/v1/collections/splade/search', { query: 'lava volcanoes', k: 3, params: { exact: true } });
    expect((exact.body.hits as { id: string }[]).map((h) => h.id)).toEqual(hits.map((h) => h.id));
  });

  it('highlighting in a WordPiece collection marks the words whose pieces carry query weight', async () => {
    const res = await call('POST', '/v1/collections/splade/search', { query: 'lava volcanoes', k: 1, highlight: { fragmentSize: 200 } });
    expect(res.status).toBe(200);
    const hit = (res.body.hits as { id: string; highlight: { text: string[] } }[])[0];
    expect(hit.id).toBe('q2');
    expect(hit.highlight.text).toEqual(['<em>Volcanoes</em> erupt with <em>lava</em> and ash clouds.']);
  });

  it('echo (Mistral-style) collection indexes and searches', async () => {
    expect((await call('PUT', '/v1/collections/echo', { encoder: 'mistral-echo-pooled' })).status).toBe(201);
    const up = await call('POST', '/v1/collections/echo/documents', { documents: DOCS });
    expect(up.body).toEqual({ indexed: 3, errors: [] });
    // Random weights give no meaningful ranking, so check consistency: the hit scores equal the dot product of
    // the encoded query with each stored document vector (both through the REST API).
    const enc0 = await call('POST', '/v1/encode', { encoder: 'mistral-echo-pooled', kind: 'query', texts: ['volcano lava'] });
    const q = (enc0.body.vectors as { indices: number[]; values: number[] }[])[0];
    const res = await call('POST', '/v1/collections/echo/search', { query: 'volcano lava', k: 3, explain: true });
    const hits = res.body.hits as { id: string; score: number; explain: { terms: { query: number; doc: number }[] } }[];
    expect(hits.length).toBe(3);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1].score).toBeGreaterThanOrEqual(hits[i].score);
    const qWeights = new Map(q.indices.map((id, i) => [id, q.values[i]]));
    const qSum = [...qWeights.values()].reduce((a, b) => a + b, 0);
    for (const h of hits) {
      const sum = h.explain.terms.reduce((s, t) => s + t.query * t.doc, 0);
      expect(Math.abs(sum - h.score)).toBeLessThan(1e-4);
      for (const t of h.explain.terms) expect(t.query).toBeLessThanOrEqual(qSum);
    }
    const enc = await call('POST', '/v1/encode', { encoder: 'mistral-echo-pooled', kind: 'query', texts: ['lava'] });
    const v = (enc.body.vectors as { indices: number[]; values: number[] }[])[0];
    expect(v.indices.length).toBe(v.values.length);
    expect(v.indices.length).toBeGreaterThan(0);
  });

  it('refuses bad encoders at creation with a message naming the field', async () => {
    const unknown = await call('PUT', '/v1/collections/bad1', { encoder: 'no-such-model' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/^encoder: .*no-such-model/);
    const dense = await call('PUT', '/v1/collections/bad2', { encoder: 'bert-dense-mean' });
    expect(dense.status).toBe(400);
    expect(dense.body.message).toMatch(/dense encoder/);
    const mismatch = await call('PUT', '/v1/collections/bad3', { encoder: 'bert-splade-pooled', queryEncoder: 'mistral-echo-pooled' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toMatch(/^queryEncoder: .*vocabulary size/);
    const dim = await call('PUT', '/v1/collections/bad4', { encoder: 'bert-splade-pooled', dim: 30522 });
    expect(dim.status).toBe(400);
    expect(dim.body.message).toMatch(/^dim: /);
  });
});
