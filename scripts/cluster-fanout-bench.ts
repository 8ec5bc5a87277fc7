/**
 * Fan-out cost (issue 17, acceptance 3): the same searches through a 3-node cluster (3 NATS, 3 spladex, a
 * collection of 2 shards × 2 replicas) and on one single process, same machine, same documents (seeded
 * SPLADE-like synthetic vectors, src/eval/synthetic.ts), both optimized (sealed, Seismic-indexed). Also a single
 * process holding half the documents (one shard's size), for the latency-per-shard-size figure of
 * docs/SCALING.md, and bytes on disk per document. Sequential requests over HTTP from this process.
 * Usage: `npx tsx scripts/cluster-fanout-bench.ts [docs=40000] [queries=300]` (wrap in flock /tmp/bench.lock).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSyntheticModel, generateDoc, generateQueries } from '../src/eval/synthetic.js';
import { startNatsCluster } from '../test/support/nats-cluster.js';
import { spawnServer } from '../test/support/server-process.js';
import { callJson, startSpladexCluster } from '../test/support/spladex-cluster.js';

const DOCS = Number(process.argv[2] ?? 40_000);
const QUERIES = Number(process.argv[3] ?? 300);
const model = createSyntheticModel({ seed: 42 });
const config = { encoder: 'none', dim: model.dim };
const toJson = (v: { indices: Uint32Array; values: Float32Array }) => ({ indices: Array.from(v.indices), values: Array.from(v.values) });
const queries = generateQueries(model, QUERIES).map(toJson);

async function load(base: string, name: string, n: number, body: Record<string, unknown>, refresh: string) {
  const created = await callJson(base, 'PUT', `/v1/collections/${name}`, body);
  if (created.status >= 300) throw new Error(JSON.stringify(created.body));
  for (let i = 0; i < n; i += 2000) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + 2000); j++) docs.push({ id: `d${j}`, vector: toJson(generateDoc(model, j)) });
    const r = await callJson(base, 'POST', `/v1/collections/${name}/documents${refresh}`, { documents: docs });
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  }
  const opt = await callJson(base, 'POST', `/v1/collections/${name}/optimize`, {});
  if (opt.status !== 200) throw new Error(JSON.stringify(opt.body));
}

async function latencies(bases: string[], name: string): Promise<{ p50: number; p99: number; mean: number }> {
  const ms: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (const [i, q] of queries.entries()) {
      const t0 = performance.now();
      const r = await callJson(bases[i % bases.length], 'POST', `/v1/collections/${name}/search`, { vector: q, k: 10 });
      if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      if (round === 1) ms.push(performance.now() - t0); // round 0 warms up
    }
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] * 100) / 100;
  return { p50: at(0.5), p99: at(0.99), mean: Math.round((ms.reduce((a, b) => a + b, 0) / ms.length) * 100) / 100 };
}

const singleDir = mkdtempSync(path.join(tmpdir(), 'spladex-bench-single-'));
const nats = await startNatsCluster(3);
const cluster = await startSpladexCluster(nats.url, 3, { SPLADEX_LOG_LEVEL: 'info' });
const single = await spawnServer({ dataDir: singleDir, env: { SPLADEX_LOG_LEVEL: 'info' }, waitReady: true }).catch(async (e) => {
  await cluster.stop();
  await nats.stop();
  throw e;
});
try {
  await load(single.base, 'full', DOCS, config, '');
  await load(single.base, 'half', DOCS / 2, config, '');
  await load(cluster.nodes[0].base, 'c', DOCS, { ...config, cluster: { shards: 2, replicas: 2 } }, '?refresh=wait_for');
  const info = (await callJson(single.base, 'GET', '/v1/collections/full')).body;
  const report = {
    docs: DOCS,
    queries: QUERIES,
    bytesPerDoc: Math.round(info.stats.bytes / info.stats.documents),
    avgDocTerms: info.stats.avgDocTerms,
    singleFull: await latencies([single.base], 'full'),
    singleHalf: await latencies([single.base], 'half'),
    cluster2x2: await latencies(
      cluster.nodes.map((n) => n.base),
      'c',
    ),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  single.kill('SIGKILL');
  await cluster.stop();
  await nats.stop();
  rmSync(singleDir, { recursive: true, force: true });
}
