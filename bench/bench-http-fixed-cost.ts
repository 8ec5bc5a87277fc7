/**
 * The fixed per-query cost through real HTTP (issue 14): `npx tsx bench/bench-http-fixed-cost.ts --data DIR
 * [--threads 1] [--queries 4000] [--query-cut 1] [--heap-factor 0.9]`, DIR a collection that
 * `bench/bench-fixed-cost.ts --data DIR` built (collection `fixed`, one sealed 50k-doc segment). Starts the real
 * server process on it with `SPLADEX_SEARCH_THREADS=<threads>` and sends REST searches with a pre-encoded vector,
 * one at a time on one keep-alive connection, as bench-fixed-cost.ts's `service.search` stage does in process.
 * Prints, per pass after a warm-up pass, the mean and p50 of the server's `took.searchMs` and `took.totalMs` and
 * of the client's round trip, in µs. Run it under `flock /tmp/bench.lock`.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { createSyntheticModel, generateQuery } from '../src/eval/synthetic.js';
import { spawnServer } from '../test/support/server-process.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    threads: { type: 'string', default: '1' },
    queries: { type: 'string', default: '4000' },
    'query-cut': { type: 'string', default: '1' },
    'heap-factor': { type: 'string', default: '0.9' },
  },
});
if (values.data === undefined) throw new Error('--data DIR (a collection built by bench/bench-fixed-cost.ts --data DIR)');
const n = Number(values.queries);
const params = { queryCut: Number(values['query-cut']), heapFactor: Number(values['heap-factor']) };
const model = createSyntheticModel({ seed: 1 });
const bodies = Array.from({ length: n }, (_, i) => {
  const q = generateQuery(model, i);
  return JSON.stringify({ vector: { indices: Array.from(q.indices), values: Array.from(q.values) }, k: 10, params });
});
const server = await spawnServer({ dataDir: values.data, env: { SPLADEX_SEARCH_THREADS: values.threads, SPLADEX_LOG_LEVEL: 'info' } });
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const url = new URL(`${server.base}/v1/collections/fixed/search`);

function post(body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function meanP50(a: number[]): string {
  const s = [...a].sort((x, y) => x - y);
  return `${(a.reduce((x, y) => x + y, 0) / a.length).toFixed(1)} / ${s[s.length >> 1].toFixed(1)}`;
}

try {
  console.log(`threads ${values.threads}, ${n} queries, qc ${params.queryCut}, hf ${params.heapFactor}; mean / p50 µs`);
  for (let pass = 0; pass < 3; pass++) {
    const searchUs: number[] = [];
    const totalUs: number[] = [];
    const tripUs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = JSON.parse(await post(bodies[i])) as { took: { searchMs: number; totalMs: number } };
      tripUs.push((performance.now() - t0) * 1000);
      searchUs.push(r.took.searchMs * 1000);
      totalUs.push(r.took.totalMs * 1000);
    }
    if (pass > 0)
      console.log(`pass ${pass}: took.searchMs ${meanP50(searchUs)}; took.totalMs ${meanP50(totalUs)}; round trip ${meanP50(tripUs)}`);
  }
} finally {
  server.kill('SIGTERM');
  await server.exited;
}
