/**
 * A real server process started as production starts it, `node --max-old-space-size=… main`, with 2 search
 * threads: it answered every search that reached a search worker (and every optimize, whose seal runs in a worker)
 * with 500 "Initiated Worker with invalid execArgv flags: --max-old-space-size=…", because workers were started
 * with the parent's flags and V8 flags are refused there (src/core/worker-thread.ts). The CLI's bulk index with
 * `--optimize` seals in the same workers.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { httpJson } from './support/http.js';
import { serverForTests } from './support/server-for-tests.js';

function vector(rng: Rng): { indices: number[]; values: number[] } {
  const m = new Map<number, number>();
  for (let j = 0; j < 12; j++) m.set(rng.nextU32() % 500, 0.1 + (rng.nextU32() % 1000) / 1000);
  const indices = [...m.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => m.get(i) as number) };
}

describe('node --max-old-space-size with search threads', () => {
  const running = serverForTests('spladex-flags-', {
    entry: ['--max-old-space-size=2048', '--import', 'tsx', 'src/main.ts'],
    env: { SPLADEX_SEARCH_THREADS: '2', SPLADEX_LOG_LEVEL: 'info' },
  });

  it('optimizes and answers batch searches from its search workers (each was a 500)', async () => {
    const server = running();
    const put = await httpJson(server.base, 'PUT', '/v1/collections/v', {
      encoder: 'none',
      dim: 500,
      index: { approximateThreshold: 200 },
    });
    expect(put.status).toBe(201);
    const rng = new Rng(5);
    const documents = Array.from({ length: 1000 }, (_, i) => ({ id: `d${i}`, vector: vector(rng) }));
    expect((await httpJson(server.base, 'POST', '/v1/collections/v/documents', { documents })).status).toBe(200);
    const opt = await httpJson(server.base, 'POST', '/v1/collections/v/optimize');
    expect(opt.status, JSON.stringify(opt.body)).toBe(200);
    const searches = Array.from({ length: 40 }, () => ({ vector: vector(rng), k: 5, params: { exact: true } }));
    const batch = await httpJson(server.base, 'POST', '/v1/collections/v/search/batch', { searches });
    expect(batch.status, JSON.stringify(batch.body).slice(0, 500)).toBe(200);
    const results = (batch.body as { results: Array<{ hits: Array<{ id: string; score: number }> }> }).results;
    expect(results).toHaveLength(40);
    // The same searches one by one (a lone search on an unloaded loop may stay on this thread) answer the same.
    for (const [i, q] of searches.entries()) {
      const one = await httpJson(server.base, 'POST', '/v1/collections/v/search', q);
      expect(one.status).toBe(200);
      expect((one.body as { hits: unknown }).hits).toEqual(results[i].hits);
    }
    expect(results.every((r) => r.hits.length === 5)).toBe(true);
    expect(server.output()).not.toMatch(/invalid execArgv/);
  }, 120_000);
});

describe('node --max-old-space-size with the CLI', () => {
  it('spladex index --optimize seals in its worker (it failed to start one)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spladex-flags-cli-'));
    try {
      const input = path.join(dir, 'docs.jsonl');
      const rng = new Rng(9);
      writeFileSync(input, Array.from({ length: 300 }, (_, i) => JSON.stringify({ _id: `d${i}`, vector: vector(rng) })).join('\n'));
      const args = ['--max-old-space-size=1024', '--import', 'tsx', 'src/cli/main.ts', 'index', 'v', '--input', input, '--optimize'];
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          args,
          { env: { ...process.env, SPLADEX_DATA_DIR: path.join(dir, 'data') }, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      expect(r.stderr).not.toMatch(/invalid execArgv/);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/indexed 300 documents/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
