/**
 * Issue 12.4, LSA fits can no longer kill a collection: the rank is bounded at creation (400 naming `dense.dim`),
 * a fit never runs on a query's path (until one exists, text and hybrid queries answer with the sparse result
 * and a warning), a fit past SPLADEX_LSA_FIT_TIMEOUT_MS is cancelled (worker terminated) and logged, and SIGTERM
 * during a fit ends the process. Real service on a temp dir; the real server process for the signal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { openSpladexService } from '../src/search/spladex-service.js';
import { pollUntil, spawnServer } from './support/server-process.js';
import { Rng } from '../src/core/rng.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spladex-lsa-bounds-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `n` texts over a 5,000-word vocabulary: a fit at rank 512 on them takes seconds. */
function texts(n: number, seed: number): { id: string; text: string }[] {
  const g = new Rng(seed);
  const r = () => g.next();
  return Array.from({ length: n }, (_, i) => ({
    id: `d${String(i).padStart(5, '0')}`,
    text: Array.from({ length: 30 }, () => `w${Math.floor(r() * 5000)}x`).join(' ') + (i % 10 === 0 ? ' granite' : ''),
  }));
}

function capture(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void out.push(s) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('lsa bounds (issue 12.4)', () => {
  it('"dense":{"dim":8192,"encoder":"lsa"} is refused with a 400 naming dense.dim and the limit', async () => {
    const service = await openSpladexService({
      dataDir: path.join(dir, 'a'),
      encodersDir: path.join(dir, 'enc'),
      logger: pino({ level: 'silent' }),
    });
    try {
      await expect(service.createCollection('big', { dense: { dim: 8192, encoder: 'lsa' } })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^dense\.dim: at most 512 with the lsa dense encoder/),
      });
      await expect(service.createCollection('ok', { dense: { dim: 512, encoder: 'lsa' } })).resolves.toBeDefined();
    } finally {
      await service.close();
    }
  });

  it('3,000 docs whose fit runs past its budget: sparse search answers at once with a warning, the fit is cancelled and logged', async () => {
    const { logger, lines } = capture();
    const service = await openSpladexService({
      dataDir: path.join(dir, 'b'),
      encodersDir: path.join(dir, 'enc'),
      logger,
      lsaFitTimeoutMs: 100,
    });
    try {
      await service.createCollection('lsa', { dense: { dim: 512, encoder: 'lsa' } });
      for (let b = 0; b < 3; b++) await service.upsertDocuments('lsa', texts(3000, 1).slice(b * 1000, (b + 1) * 1000));
      const t0 = performance.now();
      const r = await service.search('lsa', { query: 'granite', k: 5 } as never);
      const hybrid = await service.search('lsa', {
        query: 'granite',
        k: 5,
        hybrid: { method: 'rrf', alpha: 0.5, normalization: 'minmax', rrfK: 60, candidates: 100 },
      } as never);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(r.hits.map((h) => h.id)).toEqual(['d00000', 'd00010', 'd00020', 'd00030', 'd00040']);
      expect(r.warnings).toEqual([expect.stringMatching(/lsa dense model is not fitted yet/)]);
      expect(hybrid.hits.map((h) => h.id)).toEqual(r.hits.map((h) => h.id));
      expect(hybrid.warnings).toEqual(r.warnings);
      // optimize waits for the fit it starts: cancelled past 100 ms, logged, and optimize itself succeeds.
      await expect(service.optimize('lsa')).resolves.toBeDefined();
      const cancelled = lines().filter((l) => l.msg === 'lsa fit failed or was cancelled; dense scores use the previous model, if any');
      expect(cancelled.length).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(cancelled.at(-1))).toMatch(/ran past its 100 ms budget \(SPLADEX_LSA_FIT_TIMEOUT_MS\)/);
      expect(lines().some((l) => l.msg === 'lsa model fitted')).toBe(false);
      expect((await service.search('lsa', { query: 'granite', k: 5 } as never)).warnings).toEqual(r.warnings);
    } finally {
      await service.close();
    }
  }, 120_000);

  it('after a fit at optimize, hybrid queries carry dense scores and no warning', async () => {
    const service = await openSpladexService({
      dataDir: path.join(dir, 'c'),
      encodersDir: path.join(dir, 'enc'),
      logger: pino({ level: 'silent' }),
    });
    try {
      await service.createCollection('lsa', { dense: { dim: 16, encoder: 'lsa' } });
      await service.upsertDocuments('lsa', texts(200, 2));
      await service.optimize('lsa');
      const r = await service.search('lsa', { query: 'granite', k: 3, explain: true } as never);
      expect(r.warnings).toEqual([]);
      expect(typeof r.hits[0].explain?.dense).toBe('number');
    } finally {
      await service.close();
    }
  }, 60_000);

  it('SIGTERM while a fit runs: the process exits (it used to log "stopped" and live on)', async () => {
    const server = await spawnServer({ dataDir: path.join(dir, 'd'), env: { SPLADEX_LSA_FIT_TIMEOUT_MS: '600000' } });
    try {
      const json = { 'content-type': 'application/json' };
      const put = await fetch(`${server.base}/v1/collections/lsa`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({ dense: { dim: 512, encoder: 'lsa' } }),
      });
      expect(put.status).toBe(201);
      const res = await fetch(`${server.base}/v1/collections/lsa/documents`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ documents: texts(3000, 3) }),
      });
      expect(res.status).toBe(200);
      expect(await pollUntil(async () => server.output().includes('lsa fit started'), 30_000)).toBe(true);
      server.kill('SIGTERM');
      const t0 = Date.now();
      const exit = await Promise.race([server.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000).unref())]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(server.output()).not.toContain('lsa model fitted');
    } finally {
      server.kill('SIGKILL');
    }
  }, 120_000);
});
