/**
 * Search load test (issue 6, `scripts/load-test.ts`): indexes a BEIR corpus (SciFact) into a fresh server
 * process, optimizes, then drives POST /search with the BEIR queries through autocannon (N connections, D
 * seconds, queries cycled) while reading the server's RSS from /proc/<pid>/status once a second.
 *
 * Pass (all of): zero errors, zero timeouts, zero non-2xx answers, the server still running, and RSS growth
 * below 10% by both readings of "resident memory grows < 10% between the 10th and the 60th second":
 * - two-point: RSS at the early second (default 10 s) vs RSS when the load ends (D s);
 * - windowed: the peak RSS of the last 10 s (D−10…D) vs the peak of the 10 s around the early second
 *   (early−5…early+5). Peaks compare the tops of V8's heap saw-tooth, so one sample taken just before or just
 *   after a major GC cannot decide the result alone; window means are reported too.
 * A leak shows in both. A heap saw-tooth shows in them only when its top falls in the last 10 s, so the highest
 * RSS after the early second is reported too (not a pass condition: it is not what the acceptance text asks).
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
  /** RSS once a second from the start of the load (second 0) to its end. */
  rssSamples: RssSample[];
  rss: RssGrowth;
  ok: boolean;
}

export interface RssSample {
  atSec: number;
  mib: number;
}

/** The RSS readings the pass criterion uses (MiB and %), see the file comment. */
export interface RssGrowth {
  earlyMib: number;
  endMib: number;
  /** (end − early) / early, %. */
  twoPointPct: number;
  earlyPeakMib: number;
  latePeakMib: number;
  /** (peak of the last 10 s − peak of early±5 s) / the early peak, %. */
  peakPct: number;
  earlyMeanMib: number;
  lateMeanMib: number;
  /** The same with window means, % (reported, not a pass condition). */
  meanPct: number;
  /** Highest sample from the early second on, and its growth over the early sample, % (reported only). */
  runPeakMib: number;
  runPeakPct: number;
}

/** Below this RSS growth (%, by the two-point and the windowed reading) the run passes. */
export const MAX_RSS_GROWTH_PCT = 10;

async function readJsonl<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim() !== '') out.push(JSON.parse(line) as T);
  return out;
}

/**
 * RSS growth readings from once-a-second samples: the sample nearest `earlySec` vs the last one, and window
 * peaks/means (early±5 s vs the last 10 s). NaN where a window has no sample.
 */
export function rssGrowth(samples: readonly RssSample[], earlySec: number, durationSec: number): RssGrowth {
  const pct = (a: number, b: number) => ((b - a) / a) * 100;
  const inWindow = (lo: number, hi: number) => samples.filter((x) => x.atSec >= lo && x.atSec <= hi).map((x) => x.mib);
  const peak = (xs: number[]) => (xs.length === 0 ? Number.NaN : Math.max(...xs));
  const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  let early: RssSample | undefined;
  for (const x of samples) if (early === undefined || Math.abs(x.atSec - earlySec) < Math.abs(early.atSec - earlySec)) early = x;
  const earlyMib = early?.mib ?? Number.NaN;
  const endMib = samples.length > 0 ? samples[samples.length - 1].mib : Number.NaN;
  const earlyWin = inWindow(earlySec - 5, earlySec + 5);
  const lateWin = inWindow(durationSec - 10, durationSec + 1);
  const r = {
    earlyMib,
    endMib,
    twoPointPct: pct(earlyMib, endMib),
    earlyPeakMib: peak(earlyWin),
    latePeakMib: peak(lateWin),
    earlyMeanMib: mean(earlyWin),
    lateMeanMib: mean(lateWin),
  };
  const runPeakMib = peak(samples.filter((x) => x.atSec >= earlySec).map((x) => x.mib));
  return {
    ...r,
    peakPct: pct(r.earlyPeakMib, r.latePeakMib),
    meanPct: pct(r.earlyMeanMib, r.lateMeanMib),
    runPeakMib,
    runPeakPct: pct(earlyMib, runPeakMib),
  };
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
      if (res.status !== 200 || (res.body as { errors: unknown[] }).errors.length > 0)
        throw new Error(`index: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    const opt = await httpJson(server.base, 'POST', '/v1/collections/scifact/optimize', undefined, 300_000);
    if (opt.status !== 200) throw new Error(`optimize: ${opt.status}`);
    const indexSec = (performance.now() - t0) / 1000;
    log(
      `indexed ${docs.length} docs (+ optimize) in ${indexSec.toFixed(1)} s; ${queries.length} queries; ${opts.connections} connections for ${opts.durationSec} s`,
    );

    const requests = queries.map((q) => ({
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: q.text, k: opts.k }),
    }));
    if (opts.warmupSec > 0) {
      const w = await autocannon({
        url: `${server.base}/v1/collections/scifact/search`,
        connections: opts.connections,
        duration: opts.warmupSec,
        timeout: 10,
        requests,
      });
      log(`warm-up: ${w.requests.total} requests in ${opts.warmupSec} s, errors ${w.errors}, non-2xx ${w.non2xx} (not counted below)`);
    }
    const rssSamples: RssSample[] = [];
    const start = performance.now();
    let sampling = true;
    const sample = async () => {
      const rss = await readRssBytes(server.pid);
      if (rss !== null && sampling) rssSamples.push({ atSec: Math.round((performance.now() - start) / 1000), mib: rss / 2 ** 20 });
    };
    await sample();
    const sampler = setInterval(() => void sample(), 1_000);
    const result = await autocannon({
      url: `${server.base}/v1/collections/scifact/search`,
      connections: opts.connections,
      duration: opts.durationSec,
      timeout: 10,
      requests,
    });
    clearInterval(sampler);
    sampling = false;
    // The reading when the load ends is the last sample and stands for second D.
    const end = await readRssBytes(server.pid);
    if (end !== null) rssSamples.push({ atSec: Math.max(opts.durationSec, rssSamples.at(-1)?.atSec ?? 0), mib: end / 2 ** 20 });
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
      rss: rssGrowth(rssSamples, opts.earlySampleSec, opts.durationSec),
      ok: false,
    };
    r.ok =
      r.errors === 0 &&
      r.timeouts === 0 &&
      r.non2xx === 0 &&
      server.child.exitCode === null &&
      r.rss.twoPointPct < MAX_RSS_GROWTH_PCT &&
      r.rss.peakPct < MAX_RSS_GROWTH_PCT;
    return r;
  } finally {
    server.kill('SIGTERM');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}
