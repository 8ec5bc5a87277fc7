/**
 * spladex cluster nodes as real server processes (src/main.ts through server-process.ts) joined to a NATS
 * cluster (nats-cluster.ts): each node has its own temp data dir, SPLADEX_NODE_ID `s<i>`, an ephemeral port, and
 * SPLADEX_NATS_URL naming every NATS server. `kill9(i)` and `restart(i)` (same data dir, same node id, a new
 * port) act on one node; `stop()` kills every node and removes the data dirs. Used by the cluster tests and
 * scripts/cluster-faults.ts, scripts/cluster-fanout-bench.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pollUntil, spawnServer, type ServerProcess } from './server-process.js';

export interface SpladexNode {
  id: string;
  dataDir: string;
  proc: ServerProcess | null;
  base: string;
}

export interface SpladexCluster {
  nodes: SpladexNode[];
  kill9(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  /** Kills every node; removes the data dirs unless `removeDirs` is false (a later `stop()` removes them). */
  stop(removeDirs?: boolean): Promise<void>;
}

/** Starts `size` cluster nodes on `natsUrl` and resolves once every one answers /health. */
export async function startSpladexCluster(natsUrl: string, size = 3, env: Record<string, string> = {}): Promise<SpladexCluster> {
  const root = mkdtempSync(path.join(tmpdir(), 'spladex-cluster-'));
  const nodes: SpladexNode[] = [];
  for (let i = 0; i < size; i++) nodes.push({ id: `s${i}`, dataDir: path.join(root, `s${i}`), proc: null, base: '' });
  const start = async (n: SpladexNode) => {
    // /ready waits for every shard to have a live replica; a restarted node is wanted up before that.
    const proc = await spawnServer({
      dataDir: n.dataDir,
      waitReady: false,
      env: { SPLADEX_LOG_LEVEL: 'info', ...env, SPLADEX_NATS_URL: natsUrl, SPLADEX_NODE_ID: n.id },
    });
    const up = await pollUntil(async () => (await fetch(`${proc.base}/v1/cluster`)).status === 200, 30_000);
    if (!up) {
      proc.kill('SIGKILL');
      throw new Error(`node ${n.id} did not join:\n${proc.output().slice(-3000)}`);
    }
    // Only now does the node count as up (a load balancer would not route to it before either).
    n.proc = proc;
    n.base = proc.base;
  };
  let stopped = false;
  const cluster: SpladexCluster = {
    nodes,
    async kill9(i) {
      const p = nodes[i].proc;
      if (p === null) return;
      p.kill('SIGKILL');
      await p.exited;
      nodes[i].proc = null;
    },
    async restart(i) {
      await start(nodes[i]);
    },
    async stop(removeDirs = true) {
      await Promise.all(nodes.map((_n, i) => cluster.kill9(i)));
      if (!removeDirs || stopped) return;
      stopped = true;
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map(start));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** JSON over HTTP: `{status, body}`. */
export async function callJson(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}
