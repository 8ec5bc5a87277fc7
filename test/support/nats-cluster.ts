/**
 * A real 3-node (or n-node) nats-server cluster with JetStream on 127.0.0.1 for the cluster tests and scripts:
 * free ports (client, cluster route, monitoring) per node, a temp store dir per node, a config file per node
 * (`jetstream`, `cluster { name, routes }`, `max_payload` 8 MB), readiness polled with a deadline on every node's
 * `/healthz` (JetStream meta leader elected) and then on the JetStream API through a client connection. `kill9`
 * and `restart` act on one node (same ports, same store dir, so it rejoins with its data). `stop` kills every
 * node and removes the temp dirs. Needs `nats-server` on PATH (Debian package; .ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { reapLater } from './child-reaper.js';
import { pollUntil } from './server-process.js';

/** Whether a nats-server binary is installed (tests skip with a message otherwise). */
export function natsServerAvailable(): boolean {
  return spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A free TCP port on 127.0.0.1 (bound and released; the window for a race is tiny on a test machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface NatsNode {
  name: string;
  port: number;
  clusterPort: number;
  httpPort: number;
  storeDir: string;
  configFile: string;
  child: ChildProcess | null;
  output: string;
}

export interface NatsCluster {
  /** `nats://127.0.0.1:<port>` of every node, comma-separated (the SPLADEX_NATS_URL form). */
  readonly url: string;
  readonly urls: string[];
  /** Kills node `i` with SIGKILL and resolves once it has exited. */
  kill9(i: number): Promise<void>;
  /** Starts node `i` again (same ports and store) and waits until the whole cluster is JetStream-ready. */
  restart(i: number): Promise<void>;
  /** Waits (deadline `timeoutMs`) until every running node reports JetStream healthy. */
  waitReady(timeoutMs?: number): Promise<void>;
  output(i: number): string;
  /** Kills every node and removes the temp dirs; idempotent. */
  stop(): Promise<void>;
}

/** Starts `size` nats-server nodes as one JetStream cluster and waits until JetStream answers. */
export async function startNatsCluster(size = 3, timeoutMs = 30_000): Promise<NatsCluster> {
  const root = mkdtempSync(path.join(tmpdir(), 'spladex-nats-'));
  const nodes: NatsNode[] = [];
  for (let i = 0; i < size; i++) {
    nodes.push({
      name: `n${i}`,
      port: await freePort(),
      clusterPort: await freePort(),
      httpPort: await freePort(),
      storeDir: path.join(root, `n${i}`),
      configFile: path.join(root, `n${i}.conf`),
      child: null,
      output: '',
    });
  }
  for (const n of nodes) {
    const routes = nodes.filter((o) => o !== n).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`);
    writeFileSync(
      n.configFile,
      [
        `server_name: ${n.name}`,
        `listen: 127.0.0.1:${n.port}`,
        `http: 127.0.0.1:${n.httpPort}`,
        'max_payload: 8MB',
        `jetstream { store_dir: "${n.storeDir}" }`,
        `cluster { name: spladex, listen: 127.0.0.1:${n.clusterPort}, routes: [${routes.join(', ')}] }`,
        '',
      ].join('\n'),
    );
  }
  const startNode = (n: NatsNode) => {
    const child = spawn('nats-server', ['-c', n.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (c: Buffer) => {
      n.output = (n.output + c.toString('utf8')).slice(-200_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    n.child = reapLater(child);
  };
  const running = () => nodes.filter((n) => n.child !== null && n.child.exitCode === null && n.child.signalCode === null);
  const urls = nodes.map((n) => `nats://127.0.0.1:${n.port}`);

  const waitReady = async (ms = timeoutMs) => {
    const healthy = await pollUntil(async () => {
      const up = running();
      let leaderSeesAll = false;
      for (const n of up) {
        if ((await fetch(`http://127.0.0.1:${n.httpPort}/healthz`)).status !== 200) return false;
        // Every running peer current in the meta group (only the leader lists them), so R3 assets can be placed.
        const jsz = (await (await fetch(`http://127.0.0.1:${n.httpPort}/jsz`)).json()) as {
          meta_cluster?: { leader?: string; replicas?: { current: boolean; offline?: boolean }[] };
        };
        const meta = jsz.meta_cluster;
        if (meta?.leader === undefined || meta.leader === '') return false;
        if (meta.leader === n.name) {
          leaderSeesAll = (meta.replicas ?? []).filter((r) => r.current && r.offline !== true).length + 1 >= up.length;
        }
      }
      if (!leaderSeesAll) return false;
      return true;
    }, ms);
    if (!healthy)
      throw new Error(
        `nats cluster not healthy within ${ms} ms:\n${running()
          .map((n) => n.output.slice(-1500))
          .join('\n')}`,
      );
    // /healthz can pass before the meta leader answers API requests: ask the JetStream API itself.
    const apiUp = await pollUntil(async () => {
      const nc = await connect({ servers: running().map((n) => `nats://127.0.0.1:${n.port}`), timeout: 1000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        await jsm.getAccountInfo();
        return true;
      } finally {
        await nc.close();
      }
    }, ms);
    if (!apiUp) throw new Error(`JetStream API not answering within ${ms} ms`);
  };

  for (const n of nodes) startNode(n);
  let stopped = false;
  const cluster: NatsCluster = {
    url: urls.join(','),
    urls,
    async kill9(i) {
      const child = nodes[i].child;
      if (child === null || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async restart(i) {
      startNode(nodes[i]);
      await waitReady();
    },
    waitReady,
    output: (i) => nodes[i].output,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(nodes.map((_n, i) => cluster.kill9(i)));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await waitReady();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
