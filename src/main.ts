/**
 * Composition root and process entry of the server (`npm start`, `node dist/main.js`, the Docker image): calls
 * `startServer` (src/server/start-server.ts) with the process environment and turns a failed start into one
 * JSON line on stderr and exit code 1. With SPLADEX_NATS_URL it wraps the service into a cluster node (src/cluster). A signal during the start-up load is a clean stop (exit 0).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClusterNode } from './cluster/cluster-node.js';
import { StoppedBeforeReady, startServer } from './server/start-server.js';

function isEntryModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryModule()) {
  // SPLADEX_NATS_URL turns the process into a cluster node (docs/CLUSTER.md); without it, the single process.
  startServer(process.env, { clusterNode: (parts) => new ClusterNode(parts) }).catch((err: unknown) => {
    // Stopped by a signal while loading: everything is closed; exit with the shutdown's code (0).
    if (err instanceof StoppedBeforeReady) return;
    // The logger may not exist yet (bad environment), so the one failure line goes to stderr as JSON.
    const e = err as { code?: string; message?: string };
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'spladex failed to start', code: e.code, error: e.message })}\n`);
    process.exit(1);
  });
}
