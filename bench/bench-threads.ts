/**
 * Search throughput by search-thread count (issue 14, "Every core"), over real HTTP against the real server
 * process: `npx tsx bench/bench-threads.ts [--docs 200000] [--threads 1,2] [--batch 256] [--batch-sec 10]
 * [--batch-clients 1] [--connections 64] [--duration 10] [--queries 1000] [--k 10] [--repeat 1] [--data DIR]
 * [--dist DIR] [--interleave]`. Prints one
 * table row per thread count and round; with `--repeat N` the thread counts alternate N times (1, 2, 1, 2, …) so
 * that load from other processes falls on each alike, and two last tables give each count's best round (the one
 * least disturbed) with the ratios of the bests, and the median over rounds of each round's own ratio (its runs are
 * a minute apart, so a drift of the machine's speed between rounds cancels). `--dist DIR` runs the server and the CLI from built `DIR/main.js` and `DIR/cli/main.js` instead of
 * the sources through tsx.
 *
 * The collection is synthetic (src/eval/synthetic.ts, seed 1: `d0..d<docs-1>` vectors-only), bulk-indexed once
 * with `spladex index` into `--data` (default /tmp/spladex-bench-threads-<docs>; kept, so re-runs only measure)
 * and optimized into one approximate segment. For each thread count the server starts with
 * `SPLADEX_SEARCH_THREADS=<n>` and answers, after a warm-up pass:
 * - batch: `--batch-clients` clients (default one), each on its own keep-alive connection sending `POST
 *   /search/batch` of `--batch` pre-encoded query vectors back to back for `--batch-sec` seconds; QPS = queries
 *   answered per second. With one client the workers wait at every batch boundary (the answer goes out, the next
 *   body comes in and is scanned: ~3.5 ms before the handler for a 256-search batch, ~8 ms when it was parsed
 *   whole, measured; its searches are parsed as they are searched, server/lazy-batch.ts); a second client fills
 *   those gaps. Beside the QPS, the server process's CPU time (all threads, Linux /proc) per query answered in
 *   the batch phase: one core's worth per query at 1 thread; at 2 it shows what the pool adds per query, and
 *   whether both cores were kept busy (the server cores column: its CPU time over the phase's wall time); and the
 *   cores the hypervisor took from this VM meanwhile (/proc/stat steal: a round with stolen cores ran on less
 *   machine, and its ratio means little);
 * - concurrent: autocannon with `--connections` connections on `POST /search` (one query each, cycling through
 *   the queries) for `--duration` seconds; QPS, p50/p99 latency and non-2xx answers.
 * `--interleave` keeps one server per thread count up for the whole run (each on its own copy of the data,
 * `<data>-copy<i>`, made once and kept) instead of starting one per round: a round then costs no restart and no
 * warm-up, so many short rounds (`--repeat 9 --batch-sec 3 --duration 3`) fit where three long ones did, and the
 * median of their ratios moves less with the machine's drift (on this VM the same 1-thread server read 321 to 473
 * µs of CPU per query within one hour).
 * Run it under `flock /tmp/bench.lock` on a shared machine; other load on the cores shows in the numbers.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createSyntheticModel, generateQuery, syntheticDocs, writeVectorsJsonl } from '../src/eval/synthetic.js';
import { REPO_ROOT, type ServerProcess, spawnServer } from '../test/support/server-process.js';

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '200000' },
    threads: { type: 'string', default: '1,2' },
    batch: { type: 'string', default: '256' },
    'batch-clients': { type: 'string', default: '1' },
    'batch-sec': { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '10' },
    queries: { type: 'string', default: '1000' },
    k: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    data: { type: 'string' },
    dist: { type: 'string' },
    interleave: { type: 'boolean', default: false },
  },
});
const numDocs = Number(values.docs);
const dataDir = values.data ?? path.join(os.tmpdir(), `spladex-bench-threads-${numDocs}`);
const batchSize = Number(values.batch);
const k = Number(values.k);
const COLLECTION = 'syn';
/** /proc's clock ticks per second (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;
const serverEntry = values.dist === undefined ? undefined : [path.resolve(values.dist, 'main.js')];
const cliEntry = values.dist === undefined ? ['--import', 'tsx', 'src/cli/main.ts'] : [path.resolve(values.dist, 'cli', 'main.js')];

await ensureCollection();
const model = createSyntheticModel({ seed: 1 });
const bodies = Array.from({ length: Number(values.queries) }, (_, i) => {
  const q = generateQuery(model, i);
  return { vector: { indices: Array.from(q.indices), values: Array.from(q.values) }, k };
});

const threadCounts = values.threads.split(',').map(Number);
const rounds = Number(values.repeat);
const rows: string[] = [];
const best = new Map<number, { batch: number; conc: number }>();
/** Per thread count, each round's QPS over the first count's QPS of that round (adjacent runs, the same machine state). */
const ratios = new Map<number, { batch: number[]; conc: number[] }>();
// --interleave: one server per thread count for the whole run, each on its own copy of the data (a data
// directory is opened by one process at a time), so a round costs no restarts and its runs are seconds apart.
const kept = values.interleave ? await Promise.all(threadCounts.map((t, i) => startWarm(t, i === 0 ? dataDir : dataCopy(i)))) : null;
try {
  for (let round = 1; round <= rounds; round++) {
    let batchBase = 0;
    let connBase = 0;
    for (let ti = 0; ti < threadCounts.length; ti++) {
      const threads = threadCounts[ti];
      const load = os.loadavg()[0];
      const server = kept === null ? await startWarm(threads, dataDir) : kept[ti];
      try {
        const cpu0 = processCpuUs(server.pid);
        const steal0 = stolenUs();
        const { qps: batch, answered, wallUs } = await batchQps(server.base, Number(values['batch-sec']));
        const cpu1 = processCpuUs(server.pid);
        const steal1 = stolenUs();
        const cpuUs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
        const cpuPerQuery = cpuUs === null ? '—' : (cpuUs / answered).toFixed(0);
        const cores = cpuUs === null ? '—' : (cpuUs / wallUs).toFixed(2);
        const stolen = steal0 === null || steal1 === null ? '—' : ((steal1 - steal0) / wallUs).toFixed(2);
        const conc = await concurrentQps(server.base);
        if (batchBase === 0) batchBase = batch;
        if (connBase === 0) connBase = conc.qps;
        const b = best.get(threads) ?? { batch: 0, conc: 0 };
        best.set(threads, { batch: Math.max(b.batch, batch), conc: Math.max(b.conc, conc.qps) });
        const r = ratios.get(threads) ?? { batch: [], conc: [] };
        r.batch.push(batch / batchBase);
        r.conc.push(conc.qps / connBase);
        ratios.set(threads, r);
        rows.push(
          `| ${round} | ${threads} | ${load.toFixed(1)} | ${batch.toFixed(0)} | ${(batch / batchBase).toFixed(2)}× | ${cpuPerQuery} | ${cores} | ${stolen} | ${conc.qps.toFixed(0)} | ` +
            `${(conc.qps / connBase).toFixed(2)}× | ${conc.p50} / ${conc.p99} | ${conc.bad} |`,
        );
      } finally {
        if (kept === null) await stop(server);
      }
    }
  }
} finally {
  if (kept !== null) await Promise.all(kept.map(stop));
}
console.log(
  `\n${numDocs} synthetic docs (${dataDir}), ${bodies.length} queries, k ${k}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
);
console.log(
  `| round | threads | load before | batch QPS (${batchSize}/request, ${values['batch-clients']} client(s)) | vs 1st | server CPU µs/query (batch) | server cores (batch) | stolen cores (batch) | ${values.connections}-connection QPS | vs 1st | p50 / p99 ms | errors+non-2xx |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
if (rounds > 1) {
  const first = best.get(threadCounts[0]) as { batch: number; conc: number };
  console.log(
    `\nbest of ${rounds} rounds\n| threads | batch QPS | vs 1st | ${values.connections}-connection QPS | vs 1st |\n|---|---|---|---|---|`,
  );
  for (const t of threadCounts) {
    const b = best.get(t) as { batch: number; conc: number };
    console.log(
      `| ${t} | ${b.batch.toFixed(0)} | ${(b.batch / first.batch).toFixed(2)}× | ${b.conc.toFixed(0)} | ${(b.conc / first.conc).toFixed(2)}× |`,
    );
  }
  // The machine's speed drifts between rounds (±20% here): a round's own ratio compares runs a minute apart.
  console.log(`\nmedian of the ${rounds} rounds' own ratios\n| threads | batch | ${values.connections}-connection |\n|---|---|---|`);
  for (const t of threadCounts) {
    const r = ratios.get(t) as { batch: number[]; conc: number[] };
    console.log(`| ${t} | ${median(r.batch).toFixed(2)}× | ${median(r.conc).toFixed(2)}× |`);
  }
}

/** A server with `threads` search threads on `dir`, past its warm-up (workers started, segment opened in each). */
async function startWarm(threads: number, dir: string): Promise<ServerProcess> {
  const server = await spawnServer({
    dataDir: dir,
    entry: serverEntry,
    env: { SPLADEX_SEARCH_THREADS: String(threads), SPLADEX_LOG_LEVEL: 'info' },
  });
  try {
    await batchQps(server.base, 2, true);
  } catch (e) {
    await stop(server);
    throw e;
  }
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  server.kill('SIGTERM');
  await server.exited;
}

/**
 * The `i`-th copy of the bench collection's data directory (for `--interleave`), made once beside it and kept,
 * like the collection itself.
 */
function dataCopy(i: number): string {
  const dir = `${dataDir}-copy${i}`;
  const marker = path.join(dir, '.bench-threads-copy');
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    cpSync(dataDir, dir, { recursive: true, filter: (src) => path.basename(src) !== 'LOCK' });
    writeFileSync(marker, `${new Date().toISOString()}\n`);
  }
  return dir;
}

/**
 * CPU time the server process has used, all its threads, µs (Linux /proc; null elsewhere). Over the batch phase
 * it tells a saturated machine (1 thread: one core's worth per query; 2 threads: what the pool adds per query)
 * from idle cores.
 */
function processCpuUs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * CPU time the hypervisor gave to others while this VM wanted it (Linux /proc/stat "steal", all CPUs), µs; null
 * elsewhere. Over the batch phase, in cores: a round where it is not ~0 ran on less machine than the others.
 */
function stolenUs(): number | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    return cpu[0] === 'cpu' && cpu.length > 8 ? (Number(cpu[8]) * 1e6) / CLOCK_TICKS : null;
  } catch {
    return null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Bulk-indexes the synthetic collection once (make-vectors + `spladex index`, as a user would). */
async function ensureCollection(): Promise<void> {
  const marker = path.join(dataDir, '.bench-threads-built');
  if (existsSync(marker)) return;
  await rm(dataDir, { recursive: true, force: true });
  const input = `${dataDir}.jsonl`;
  const t0 = performance.now();
  await writeVectorsJsonl(input, syntheticDocs(createSyntheticModel({ seed: 1 }), numDocs), { format: 'indices' });
  const r = spawnSync(process.execPath, [...cliEntry, 'index', COLLECTION, '--input', input, '--data', dataDir, '--optimize'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`spladex index exited with ${r.status}`);
  await rm(input, { force: true });
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  console.log(`indexed ${numDocs} docs in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

/**
 * Queries per second answered through back-to-back batch requests for `seconds`. The client shares the server's
 * cores, so it does as little as a client can: the batch bodies are serialised once, before the clock starts
 * (as autocannon's are), and sent over one keep-alive connection with node:http; each answer is read whole and its
 * status checked, and the first one is parsed to check it holds one result per search; returns the QPS, the
 * queries answered and the wall time they took, µs. `warmUp`: a 503 (the server
 * still opening its segments) is waited out instead of failing the run.
 */
async function batchQps(base: string, seconds: number, warmUp = false): Promise<{ qps: number; answered: number; wallUs: number }> {
  const nBodies = Math.ceil(bodies.length / batchSize);
  const payloads = Array.from({ length: nBodies }, (_, j) => {
    const searches = [];
    for (let i = 0; i < batchSize; i++) searches.push(bodies[(j * batchSize + i) % bodies.length]);
    return Buffer.from(JSON.stringify({ searches }));
  });
  const clients = Math.max(1, Number(values['batch-clients']));
  const t0 = performance.now();
  // Client c starts at payload c, so concurrent clients do not send the same batch in step.
  const answered = await Promise.all(Array.from({ length: clients }, (_, c) => batchClient(base, payloads, c, t0, seconds, warmUp)));
  const total = answered.reduce((a, b) => a + b, 0);
  const wallUs = (performance.now() - t0) * 1000;
  return { qps: total / (wallUs / 1e6), answered: total, wallUs };
}

/** One batch client (see `batchQps`): the queries it had answered when `seconds` had passed since `t0`. */
async function batchClient(base: string, payloads: Buffer[], first: number, t0: number, seconds: number, warmUp: boolean): Promise<number> {
  const nBodies = payloads.length;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(`${base}/v1/collections/${COLLECTION}/search/batch`);
  const post = (body: Buffer): Promise<{ status: number; text: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let answered = 0;
  let checked = false;
  try {
    for (let j = first % nBodies; performance.now() - t0 < seconds * 1000; j = (j + 1) % nBodies) {
      const res = await post(payloads[j]);
      // The warm-up may meet the server still opening its segments (503 BUSY, event-loop lag): wait and resend.
      if (warmUp && res.status === 503) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (res.status !== 200) throw new Error(`batch search: ${res.status} ${res.text.toString('utf8').slice(0, 300)}`);
      if (!checked) {
        const n = (JSON.parse(res.text.toString('utf8')) as { results: unknown[] }).results.length;
        if (n !== batchSize) throw new Error(`batch search answered ${n} results for ${batchSize} searches`);
        checked = true;
      }
      answered += batchSize;
    }
  } finally {
    agent.destroy();
  }
  return answered;
}

async function concurrentQps(base: string): Promise<{ qps: number; p50: number; p99: number; bad: number }> {
  const r = await autocannon({
    url: `${base}/v1/collections/${COLLECTION}/search`,
    connections: Number(values.connections),
    duration: Number(values.duration),
    timeout: 10,
    requests: bodies.map((b) => ({ method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) })),
  });
  return { qps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.errors + r.timeouts + r.non2xx };
}
