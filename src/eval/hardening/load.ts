/**
 * Search load test (issue 6, `scripts/load-test.ts`): indexes a BEIR corpus (SciFact) into a fresh server
 * process, optimizes, then drives POST /search with the BEIR queries through autocannon (N connections, D
 * seconds, queries cycled) while sampling the server's RSS from /proc/<pid>/status every 5 s. Pass: zero errors,
 * timeouts and non-2xx answers, and RSS peak growth below 10%: the highest sample in the second half of the run
 * against the highest in the first half (after the early sample). The two-point figure (early sample vs the end)
 * is reported too, but it reads the V8 heap's saw-tooth: measured over 150 s at 64 connections, RSS swung
 * 240 → 300 → 242 → 300 MiB between major GCs, so a two-point difference said +25% or −7% depending on phase.
 * Both the server and autocannon share the machine's cores; results are only comparable on the same box.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { httpJson } from './http.js';
import { readRssBytes, spawnServer } from './server-process.js';

export interface LoadOptions {
  corpus: string;
  queries: string;
  connections: number;
  durationSec: number;
  /** RSS sample time for the growth check, seconds after the load starts. */
  earlySampleSec: number;
  k: number;
  /** Unmeasured load before the measured run, seconds (0 = none): lets the V8 heap reach its working size. */
  warmupSec: number;
  log?: (line: string) => void;
}

export interface LoadResult {
  documents: number;
  indexSec: number;
  queries: number;
  requests: number;
  qps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  rssSamples: { atSec: number; mib: number }[];
  rssGrowthPct: number;
  /** Highest RSS sample in the second half vs the first half (after the early sample), %. */
  rssPeakGrowthPct: number;
  ok: boolean;
}

async function readJsonl<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim() !== '') out.push(JSON.parse(line) as T);
  return out;
}

/** Peak RSS of the second half of the run against the peak of the first half (from `earlySec`), in %. */
export function peakGrowth(samples: readonly { atSec: number; mib: number }[], earlySec: number, durationSec: number): number {
  const mid = durationSec / 2;
  const first = samples.filter((s) => s.atSec >= earlySec && s.atSec <= mid).map((s) => s.mib);
  const second = samples.filter((s) => s.atSec > mid).map((s) => s.mib);
  if (first.length === 0 || second.length === 0) return Number.NaN;
  return ((Math.max(...second) - Math.max(...first)) / Math.max(...first)) * 100;
}

export async function runLoadTest(opts: LoadOptions): Promise<LoadResult> {
  const log = opts.log ?? (() => undefined);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-load-'));
  const server = await spawnServer({ dataDir, env: { SPLADEX_LOG_LEVEL: 'info' } });
  try {
    const docs = await readJsonl<{ _id: string; title?: string; text?: string }>(opts.corpus);
    const queries = await readJsonl<{ _id: string; text: string }>(opts.queries);
    const t0 = performance.now();
    const put = await httpJson(server.base, 'PUT', '/v1/collections/scifact', {});
    if (put.status !== 201) throw new Error(`create: ${put.status} ${JSON.stringify(put.body)}`);
    for (let i = 0; i < docs.length; i += 500) {
      const batch = docs.slice(i, i + 500).map((d) => ({ id: d._id, title: d.title ?? '', text: d.text ?? '' }));
      const res = await httpJson(server.base, 'POST', '/v1/collections/scifact/documents', { documents: batch }, 120_000);
      if (res.status !== 200 || (res.body as { errors: unknown[] }).errors.length > 0) throw new Error(`index: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    const opt = await httpJson(server.base, 'POST', '/v1/collections/scifact/optimize', undefined, 300_000);
    if (opt.status !== 200) throw new Error(`optimize: ${opt.status}`);
    const indexSec = (performance.now() - t0) / 1000;
    log(`indexed ${docs.length} docs (+ optimize) in ${indexSec.toFixed(1)} s; ${queries.length} queries; ${opts.connections} connections for ${opts.durationSec} s`);

    const requests = queries.map((q) => ({
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: q.text, k: opts.k }),
    }));
    if (opts.warmupSec > 0) {
      const w = await autocannon({ url: `${server.base}/v1/collections/scifact/search`, connections: opts.connections, duration: opts.warmupSec, timeout: 10, requests });
      log(`warm-up: ${w.requests.total} requests in ${opts.warmupSec} s, errors ${w.errors}, non-2xx ${w.non2xx} (not counted below)`);
    }
    const rssSamples: { atSec: number; mib: number }[] = [];
    const start = performance.now();
    const sample = async () => {
      const rss = await readRssBytes(server.pid);
      if (rss !== null) rssSamples.push({ atSec: Math.round((performance.now() - start) / 1000), mib: rss / 2 ** 20 });
    };
    await sample();
    const sampler = setInterval(() => void sample(), 5_000);
    let early: number | null = null;
    const earlyTimer = setTimeout(() => {
      void readRssBytes(server.pid).then((r) => (early = r));
    }, opts.earlySampleSec * 1000);
    const result = await autocannon({
      url: `${server.base}/v1/collections/scifact/search`,
      connections: opts.connections,
      duration: opts.durationSec,
      timeout: 10,
      requests,
    });
    clearInterval(sampler);
    clearTimeout(earlyTimer);
    const end = await readRssBytes(server.pid);
    if (end !== null) rssSamples.push({ atSec: Math.round((performance.now() - start) / 1000), mib: end / 2 ** 20 });
    const earlyBytes = early ?? end ?? 0;
    const rssGrowthPct = end !== null && earlyBytes > 0 ? ((end - earlyBytes) / earlyBytes) * 100 : Number.NaN;
    const statusCodes: Record<string, number> = {};
    for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (v as { count: number }).count;
    const r: LoadResult = {
      documents: docs.length,
      indexSec,
      queries: queries.length,
      requests: result.requests.total,
      qps: result.requests.average,
      p50Ms: result.latency.p50,
      p90Ms: result.latency.p90,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      statusCodes,
      rssSamples,
      rssGrowthPct,
      rssPeakGrowthPct: peakGrowth(rssSamples, opts.earlySampleSec, opts.durationSec),
      ok: false,
    };
    r.ok = r.errors === 0 && r.timeouts === 0 && r.non2xx === 0 && r.rssPeakGrowthPct < 10 && server.child.exitCode === null;
    return r;
  } finally {
    server.kill('SIGTERM');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}
