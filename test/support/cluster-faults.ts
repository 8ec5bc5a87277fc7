/**
 * The fault run of issue 17 (acceptance 2), shared by test/cluster-faults.test.ts (short) and
 * scripts/cluster-faults.ts (longer, prints the report): 3 NATS nodes, 3 spladex nodes, a vectors-only collection
 * with 2 shards × 2 replicas under a write load (batches through the live nodes in turn) and a search load; then
 * kill -9 one spladex node, kill -9 one NATS node, restart the NATS node, restart the spladex node, and measure how
 * long the restarted node takes to catch up (every replica of every shard at the stream's last sequence, from
 * GET /v1/cluster). Finally every node is killed and each node's data dir is opened in this process: every
 * acknowledged id must be in every replica that hosts its shard, by id and by a search on its unique marker term.
 * Phases are timed by the load itself (a number of acknowledged batches), never by sleeping for synchronisation.
 */
import path from 'node:path';
import { pino } from 'pino';
import { openSpladexService } from '../../src/search/spladex-service.js';
import { shardOf } from '../../src/cluster/placement.js';
import { startNatsCluster } from './nats-cluster.js';
import { pollUntil } from './server-process.js';
import { callJson, startSpladexCluster } from './spladex-cluster.js';

export interface FaultOptions {
  /** Acknowledged batches to wait for in each phase (before and after each fault). */
  batchesPerPhase: number;
  batchDocs: number;
  log?: (line: string) => void;
}

export interface FaultReport {
  acknowledgedDocs: number;
  writeErrors: number;
  searches: number;
  searchErrors: number;
  longestUnansweredMs: number;
  catchUpMs: number;
  /** Acknowledged ids missing from a replica that hosts their shard (must be 0), by id and by search. */
  lostById: number;
  lostBySearch: number;
  replicasChecked: number;
  totalMs: number;
}

const DIM = 1 << 20;
const SHARDS = 2;

function docOf(n: number) {
  // A unique marker term per document (100 000 + n) plus shared terms, so a search on the marker finds exactly it.
  const shared = [(n * 7) % 1000, 1000 + ((n * 13) % 1000), 2000 + ((n * 31) % 1000)].sort((a, b) => a - b);
  return { id: `f${n}`, vector: { indices: [...shared, 100_000 + n], values: [0.5, 0.4, 0.3, 5] } };
}

export async function runFaults(o: FaultOptions): Promise<FaultReport> {
  const log = o.log ?? (() => undefined);
  const t0 = performance.now();
  const nats = await startNatsCluster(3);
  const nodes = await startSpladexCluster(nats.url, 3).catch(async (err) => {
    await nats.stop();
    throw err;
  });
  const acked: number[] = [];
  let writeErrors = 0;
  let searches = 0;
  let searchErrors = 0;
  let lastAnswer = performance.now();
  let longestUnansweredMs = 0;
  let running = true;
  let ackedBatches = 0;
  const live = () => nodes.nodes.filter((n) => n.proc !== null);
  try {
    const created = await callJson(nodes.nodes[0].base, 'PUT', '/v1/collections/f', {
      encoder: 'none',
      dim: DIM,
      cluster: { shards: SHARDS, replicas: 2 },
    });
    if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
    const placement = created.body.cluster.placement as string[][];
    log(`placement ${JSON.stringify(placement)}`);

    let next = 0;
    const writer = async () => {
      let turn = 0;
      while (running) {
        const batch = Array.from({ length: o.batchDocs }, () => next++);
        const targets = live();
        const target = targets[turn++ % targets.length];
        try {
          const r = await callJson(target.base, 'POST', '/v1/collections/f/documents', { documents: batch.map(docOf) });
          if (r.status === 200 && r.body.errors.length === 0) {
            acked.push(...batch);
            ackedBatches++;
          } else writeErrors++;
        } catch {
          writeErrors++;
        }
      }
    };
    const searcher = async () => {
      let turn = 0;
      while (running) {
        const targets = live();
        const target = targets[turn++ % targets.length];
        const q = docOf(turn);
        try {
          const r = await callJson(target.base, 'POST', '/v1/collections/f/search', { vector: q.vector, k: 5 });
          searches++;
          if (r.status === 200) {
            const now = performance.now();
            longestUnansweredMs = Math.max(longestUnansweredMs, now - lastAnswer);
            lastAnswer = now;
          } else {
            searchErrors++;
            if (searchErrors % 50 === 1) log(`search error ${r.status} from ${target.id}: ${JSON.stringify(r.body).slice(0, 300)}`);
          }
        } catch (err) {
          searches++;
          searchErrors++;
          if (searchErrors % 50 === 1) log(`search failed on ${target.id}: ${(err as Error).message}`);
        }
      }
    };
    const loads = [writer(), writer(), searcher()];
    const phase = async (name: string) => {
      const goal = ackedBatches + o.batchesPerPhase;
      const ok = await pollUntil(async () => ackedBatches >= goal, 60_000, 20);
      if (!ok) throw new Error(`phase ${name}: writes stalled at ${ackedBatches} batches`);
      log(`${name}: ${acked.length} acked docs, ${writeErrors} write errors, ${searchErrors}/${searches} search errors`);
    };
    // The spladex victim hosts a replica of shard 0; the NATS victim is the last node.
    const victim = nodes.nodes.findIndex((n) => placement[0].includes(n.id));
    await phase('warm-up');
    await nodes.kill9(victim);
    await phase(`spladex ${nodes.nodes[victim].id} killed`);
    await nats.kill9(2);
    await phase('nats n2 killed');
    await nats.restart(2);
    await phase('nats n2 restarted');
    const restartT0 = performance.now();
    await nodes.restart(victim);
    await phase(`spladex ${nodes.nodes[victim].id} restarted`);
    running = false;
    await Promise.all(loads);
    let lastInfo: unknown = null;
    const caughtUp = await pollUntil(async () => {
      const c = await callJson(nodes.nodes[victim].base, 'GET', '/v1/cluster');
      lastInfo = c.body;
      const col = c.body.collections.find((x: { name: string }) => x.name === 'f');
      return col.shardMap.every((s: { replicas: { live: boolean; lag: number | null }[] }) =>
        s.replicas.every((r) => r.live && r.lag === 0),
      );
    }, 60_000);
    const catchUpMs = performance.now() - restartT0;
    if (!caughtUp) throw new Error(`the restarted replica did not catch up within 60 s: ${JSON.stringify(lastInfo)}`);
    log(`caught up ${Math.round(catchUpMs)} ms after the restart`);

    // Every replica on its own: stop everything, open each node's data dir here.
    const dirs = nodes.nodes.map((n) => ({ id: n.id, dataDir: n.dataDir }));
    await nodes.stop(false);
    let lostById = 0;
    let lostBySearch = 0;
    let replicasChecked = 0;
    for (const { id, dataDir } of dirs) {
      const svc = await openSpladexService({ dataDir, encodersDir: path.resolve('encoders'), logger: pino({ level: 'silent' }) });
      try {
        for (let s = 0; s < SHARDS; s++) {
          if (!placement[s].includes(id)) continue;
          replicasChecked++;
          for (const n of acked) {
            if (shardOf(`f${n}`, SHARDS) !== s) continue;
            try {
              svc.getDocument(`f_s${s}`, `f${n}`, false);
            } catch {
              lostById++;
            }
            const r = await svc.search(`f_s${s}`, { vector: { indices: [100_000 + n], values: [1] }, k: 1 } as never);
            if (r.hits[0]?.id !== `f${n}`) lostBySearch++;
          }
        }
      } finally {
        await svc.close();
      }
    }
    return {
      acknowledgedDocs: acked.length,
      writeErrors,
      searches,
      searchErrors,
      longestUnansweredMs: Math.round(longestUnansweredMs),
      catchUpMs: Math.round(catchUpMs),
      lostById,
      lostBySearch,
      replicasChecked,
      totalMs: Math.round(performance.now() - t0),
    };
  } finally {
    running = false;
    await nodes.stop();
    await nats.stop();
  }
}
