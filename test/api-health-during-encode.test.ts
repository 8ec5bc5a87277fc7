/**
 * Issue 4, acceptance 3 over real HTTP: while a ~2 s encode batch runs in the ONNX worker pool, `GET /health`
 * answers within 50 ms, because inference never runs on the event loop.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { loadReferences } from './encoders-helpers.js';

const MODELS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');
const logger = pino({ level: 'silent' });
let dir: string;
let service: SpladexService;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spladex-health-'));
  service = await openSpladexService({ dataDir: dir, encodersDir: MODELS, logger, encoderThreads: 1 });
  app = await buildApp({ service, logger, requestTimeoutMs: 60_000 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

async function encode(texts: string[]): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/encode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encoder: 'bert-splade-logits', kind: 'document', texts }),
  });
  expect(res.status).toBe(200);
  await res.json();
  return performance.now() - t0;
}

it('GET /health answers within 50 ms while a ~2 s encode batch runs', async () => {
  const long = loadReferences().texts.reduce((a, b) => (b.length > a.length ? b : a));
  const textsOf = (n: number) => Array.from({ length: n }, (_, i) => `${i} ${long}`);
  await encode(textsOf(8)); // opens the encoder and warms the worker
  const perText = (await encode(textsOf(32))) / 32;
  const n = Math.min(1000, Math.max(32, Math.ceil(3000 / perText)));
  // The machine may be shared: take the best of three rounds; a blocked loop would fail every round by ~2 s.
  let best = Infinity;
  let tookMs = 0;
  for (let round = 0; round < 3 && best >= 50; round++) {
    const running = encode(textsOf(n));
    let worst = 0;
    let done = false;
    void running.then(() => (done = true));
    let probes = 0;
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
      await res.text();
      if (!done) {
        worst = Math.max(worst, performance.now() - t0);
        probes++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    tookMs = await running;
    if (probes >= 5) best = Math.min(best, worst); // enough probes to span the batch
  }
  expect(tookMs, `${n} texts`).toBeGreaterThan(1000); // long enough that a blocked loop would show
  expect(best).toBeLessThan(50);
}, 120_000);
