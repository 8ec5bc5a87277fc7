/**
 * Cluster operations beside the service port (docs/CLUSTER.md "Operations"): the `GET /v1/cluster` report
 * (members, each collection's shard map with every replica's applied sequence and lag, health) and the
 * re-placement of the replicas of members gone for good. Both read the node's view of the buckets
 * (cluster-state.ts); re-placement writes the catalog. Called by cluster-node.ts.
 */
import type { Logger } from 'pino';
import type { ClusterState, CollectionSpec } from './cluster-state.js';
import type { ShardCaller } from './fan-out.js';
import type { NatsLink } from './nats-link.js';
import { replaceGone } from './placement.js';
import { replicaLag } from './shard-replica.js';
import { localName, shardSubject, streamName, toBytes } from './wire.js';

export interface ClusterInfoContext {
  state: ClusterState;
  link: NatsLink;
  caller: ShardCaller;
  nodeId: string;
  /** Whether every shard has a live applying replica (the node's `clusterReady`). */
  healthy: boolean;
}

/** GET /v1/cluster: live figures where a replica answers now, its last heartbeat's otherwise (API.md). */
export async function clusterInfo(ctx: ClusterInfoContext): Promise<unknown> {
  const { state } = ctx;
  const now = Date.now();
  const members = [...state.members.entries()].map(([node, m]) => ({
    node,
    url: m.record.url,
    live: state.isLive(node, now),
    heartbeatAgeMs: now - m.seenMs,
    inflight: m.record.inflight,
  }));
  const collections = await Promise.all(
    [...state.collections.values()].map(async (spec) => ({
      name: spec.name,
      shards: spec.cluster.shards,
      replicas: spec.cluster.replicas,
      stats: spec.cluster.stats,
      shardMap: await Promise.all(spec.placement.map((nodes, shard) => shardInfo(ctx, spec, shard, nodes, now))),
    })),
  );
  return { node: ctx.nodeId, health: ctx.healthy ? 'ok' : 'degraded', members, collections, failovers: ctx.caller.failovers };
}

async function shardInfo(ctx: ClusterInfoContext, spec: CollectionSpec, shard: number, nodes: string[], now: number) {
  const { state } = ctx;
  const head = await ctx.link.head(streamName(spec.name), shardSubject(spec.name, shard));
  const local = localName(spec.name, shard);
  const replicas = await Promise.all(
    nodes.map(async (node) => {
      const r = state.report(node, local);
      // Asked now (the heartbeat's figure is up to HEARTBEAT_MS old); the heartbeat's when it does not answer.
      const asked = state.isLive(node, now)
        ? await ctx.caller
            .callNode<{ applied: number; appliedTimeMs: number }>(
              node,
              { op: 'waitApplied', collection: spec.name, shard, seq: 0, timeoutMs: 0 },
              1000,
            )
            .catch(() => null)
        : null;
      // A dead node's replica: the position of its last heartbeat (what it will resume from).
      const last = asked ?? state.lastReport(node, local) ?? null;
      const lag = last === null ? { lag: null, lagMs: null } : replicaLag(head, { seq: last.applied, timeMs: last.appliedTimeMs ?? 0 });
      return { node, live: state.isLive(node, now), applied: last?.applied ?? null, ...lag, failed: r?.failed ?? null };
    }),
  );
  return { shard, lastSeq: head.seq, replicas };
}

export interface ReplacementContext {
  state: ClusterState;
  nodeId: string;
  /** When this node started, ms since the epoch (a member never seen since counts as dead since then). */
  startedMs: number;
  replaceAfterMs: number;
  logger: Logger;
}

/**
 * One re-placement pass (run every heartbeat; only the live member with the smallest id acts, so one node writes
 * the catalog): a placed member dead longer than `replaceAfterMs` is gone for good, and each of its replicas moves
 * to the live member of highest rendezvous weight that does not hold the shard (placement.ts `replaceGone`); the
 * new host's reconcile starts the replica, which bootstraps by replaying the shard's stream from 1. With no live
 * member free for a shard, its replica keeps waiting for the dead one. Resolves true when the catalog changed.
 */
export async function replaceGoneMembers(ctx: ReplacementContext): Promise<boolean> {
  const { state } = ctx;
  const now = Date.now();
  const live = state.liveMembers(now).map((m) => m.node);
  if (live[0] !== ctx.nodeId) return false;
  const deadMs = (node: string) => now - (state.members.get(node)?.seenMs ?? ctx.startedMs);
  let changed = false;
  for (const spec of [...state.collections.values()]) {
    const gone = new Set(spec.placement.flat().filter((n) => !live.includes(n) && deadMs(n) > ctx.replaceAfterMs));
    if (gone.size === 0) continue;
    const placement = spec.placement.map((nodes, shard) => [...replaceGone(spec.name, shard, nodes, live, gone)]);
    if (JSON.stringify(placement) === JSON.stringify(spec.placement) || !state.collections.has(spec.name)) continue;
    const next: CollectionSpec = { ...spec, placement };
    await state.catalog.put(spec.name, toBytes(next));
    state.collections.set(spec.name, next);
    ctx.logger.info({ collection: spec.name, gone: [...gone], from: spec.placement, to: placement }, 'replicas of a gone member re-placed');
    changed = true;
  }
  return changed;
}
