/**
 * Search load test (issue 6): `npx tsx scripts/load-test.ts [--connections 64] [--duration 60] [--early 10] [--warmup 0]
 * [--corpus ../shared/data/scifact/corpus.jsonl] [--queries ../shared/data/scifact/queries.jsonl] [--k 10]`.
 * Thin wrapper over test/support/load.ts; prints QPS, latency percentiles, errors, RSS once a second and
 * the load average. Exits 0 (PASS) only with zero errors, timeouts and non-2xx answers and RSS growth below 10%
 * both from the early second (--early) to the end (two-point) and from the peak of early±5 s to the peak of the
 * last 10 s (windowed); window means and the highest RSS after --early are printed too. Otherwise it prints FAIL
 * and exits 1.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runLoadTest } from '../test/support/load.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '60' },
    early: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '0' },
    k: { type: 'string', default: '10' },
    corpus: { type: 'string', default: '../shared/data/scifact/corpus.jsonl' },
    queries: { type: 'string', default: '../shared/data/scifact/queries.jsonl' },
  },
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
const load0 = os.loadavg();
const r = await runLoadTest({
  corpus: values.corpus,
  queries: values.queries,
  connections: Number(values.connections),
  durationSec: Number(values.duration),
  earlySampleSec: Number(values.early),
  k: Number(values.k),
  warmupSec: Number(values.warmup),
  log: (l) => console.log(l),
});
const load1 = os.loadavg();
console.log(
  `requests ${r.requests}, QPS ${r.qps.toFixed(1)}, latency p50 ${r.p50Ms} ms, p90 ${r.p90Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms`,
);
console.log(`errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}, status codes ${JSON.stringify(r.statusCodes)}`);
const g = r.rss;
console.log(`RSS MiB each second: ${r.rssSamples.map((s) => s.mib.toFixed(0)).join(' ')}`);
console.log(
  `RSS two-point: ${g.earlyMib.toFixed(0)} MiB at ${values.early} s -> ${g.endMib.toFixed(0)} MiB at ${values.duration} s = ${g.twoPointPct.toFixed(1)}%; ` +
    `windowed peaks: ${g.earlyPeakMib.toFixed(0)} -> ${g.latePeakMib.toFixed(0)} MiB = ${g.peakPct.toFixed(1)}% (means ${g.earlyMeanMib.toFixed(0)} -> ${g.lateMeanMib.toFixed(0)} MiB = ${g.meanPct.toFixed(1)}%); ` +
    `highest after ${values.early} s: ${g.runPeakMib.toFixed(0)} MiB = ${g.runPeakPct.toFixed(1)}% (reported only)`,
);
console.log(
  `machine: ${os.cpus().length} cores, load average before ${load0.map((x) => x.toFixed(1)).join('/')}, after ${load1.map((x) => x.toFixed(1)).join('/')}`,
);
console.log(r.ok ? 'PASS' : 'FAIL');
process.exit(r.ok ? 0 : 1);
