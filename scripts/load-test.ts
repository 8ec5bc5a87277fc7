/**
 * Search load test (issue 6): `npx tsx scripts/load-test.ts [--connections 64] [--duration 60] [--early 10] [--warmup 0]
 * [--corpus ../shared/data/scifact/corpus.jsonl] [--queries ../shared/data/scifact/queries.jsonl] [--k 10]`.
 * Thin wrapper over src/eval/hardening/load.ts; prints QPS, latency percentiles, errors and RSS samples, and
 * exits 1 on any error/timeout/non-2xx or RSS peak growth of 10% or more (second half vs first half; the
 * two-point early-vs-end figure is printed too, see load.ts for why it is not the criterion).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runLoadTest } from '../src/eval/hardening/load.js';

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
console.log(`requests ${r.requests}, QPS ${r.qps.toFixed(1)}, latency p50 ${r.p50Ms} ms, p90 ${r.p90Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms`);
console.log(`errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}, status codes ${JSON.stringify(r.statusCodes)}`);
console.log(`RSS MiB: ${r.rssSamples.map((s) => `${s.atSec}s=${s.mib.toFixed(0)}`).join(' ')}; growth from ${values.early} s to the end ${r.rssGrowthPct.toFixed(1)}%; ` +
    `peak of the second half vs the first ${r.rssPeakGrowthPct.toFixed(1)}%`);
console.log(`machine: ${os.cpus().length} cores, load average before ${load0.map((x) => x.toFixed(1)).join('/')}, after ${load1.map((x) => x.toFixed(1)).join('/')}`);
console.log(r.ok ? 'PASS' : 'FAIL');
process.exit(r.ok ? 0 : 1);
