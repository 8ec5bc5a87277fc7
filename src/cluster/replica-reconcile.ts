/**
 * Reconciles the shard replicas a cluster node hosts with the catalog (cluster-state.ts): starts the replicas
 * placed on this node (shard-replica.ts), restarts failed ones, destroys those of deleted collections or placed
 * elsewhere, and removes local `<collection>_s<shard>` collections left by a collection deleted or re-placed while
 * this node was down (with their applied-sequence files). One pass at a time: cluster-node.ts serialises the
 * passes (on catalog changes, every heartbeat, after re-placement). A replica that fails to start is retried at
 * the next pass.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SpladexService } from '../search/spladex-service.js';
import type { ClusterState, CollectionSpec } from './cluster-state.js';
import type { NatsLink } from './nats-link.js';
import { ShardReplica } from './shard-replica.js';
import { localName, shardSubject, streamName } from './wire.js';

export interface ReconcileContext {
  state: ClusterState;
  link: NatsLink;
  local: SpladexService;
  dataDir: string;
  nodeId: string;
  logger: Logger;
  /** The node's hosted replicas by local name; changed in place. */
  replicas: Map<string, ShardReplica>;
  /** The node is closing: start nothing more. */
  isClosed(): boolean;
}

/** One reconcile pass (see the header). */
export async function reconcileReplicas(ctx: ReconcileContext): Promise<void> {
  const { state, link } = ctx;
  const wanted = new Map<string, { spec: CollectionSpec; shard: number }>();
  for (const spec of state.collections.values()) {
    spec.placement.forEach((nodes, shard) => {
      if (nodes.includes(ctx.nodeId)) wanted.set(localName(spec.name, shard), { spec, shard });
    });
  }
  for (const [name, r] of ctx.replicas) {
    if (wanted.has(name) && r.failed === null) continue;
    ctx.replicas.delete(name);
    if (wanted.has(name)) await r.stop();
    else {
      await r.destroy();
      ctx.logger.info({ replica: name }, 'shard replica removed (collection deleted, or the replica was placed elsewhere)');
    }
  }
  for (const [name, { spec, shard }] of wanted) {
    if (ctx.replicas.has(name) || ctx.isClosed()) continue;
    const r = new ShardReplica({
      link,
      local: ctx.local,
      dataDir: ctx.dataDir,
      stream: streamName(spec.name),
      subject: shardSubject(spec.name, shard),
      localName: name,
      config: spec.config,
      logger: ctx.logger,
    });
    try {
      await r.start();
      ctx.replicas.set(name, r);
    } catch (err) {
      ctx.logger.warn({ replica: name, err }, 'shard replica failed to start; retrying at the next heartbeat');
      await r.stop();
    }
  }
  // Local collections of this node's kind (`<c>_s<n>`) whose cluster collection is gone (deleted while this
  // node was down), or whose shard is no longer placed here (re-placed while it was down: cluster-ops.ts).
  for (const c of ctx.local.listCollections().collections) {
    const m = /^(.+)_s(\d+)$/.exec(c.name);
    if (m === null || ctx.replicas.has(c.name)) continue;
    const spec = state.collections.get(m[1]);
    const placedHere = spec?.placement[Number(m[2])]?.includes(ctx.nodeId) ?? false;
    if (spec !== undefined && placedHere) continue;
    await ctx.local.deleteCollection(c.name).catch(() => undefined);
    await rm(path.join(ctx.dataDir, '.cluster', `${c.name}.applied`), { force: true });
    ctx.logger.info({ replica: c.name }, 'local shard replica removed (collection deleted or replica placed elsewhere)');
  }
}
