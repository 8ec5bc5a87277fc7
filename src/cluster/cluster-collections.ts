/**
 * Cluster collection administration (docs/CLUSTER.md "Collections"): creation, the summed collection info, and
 * optimize over every replica.
 * - Creation validates the name (room for the `_s<shard>` suffix of local replica names) and the config, creates
 *   the collection's JetStream stream (replicas min(3, NATS servers)), then stores the spec with the placement
 *   computed over the live members (placement.ts) in the catalog bucket with a create-if-absent write, so of two
 *   nodes creating one name at once exactly one wins; the same config again answers `created: false`, another
 *   CONFLICT. It answers once every live placed replica has opened (or BUSY after CREATE_WAIT_MS).
 * - Info sums one replica per shard; optimize runs on every live replica.
 * Called by cluster-node.ts, which resolves names and aliases and owns the reconcile loop.
 */
import type { Logger } from 'pino';
import { invalidArgument, SpladexError } from '../core/errors.js';
import { ClusterConfigSchema, COLLECTION_NAME_RE, CollectionConfigSchema } from '../config/index-config.js';
import { parseOrThrow, safeParseWithMessages, zodToSpladexError } from '../config/zod-errors.js';
import type { ClusterState, CollectionSpec } from './cluster-state.js';
import type { ShardCaller } from './fan-out.js';
import type { NatsLink } from './nats-link.js';
import { placeReplicas } from './placement.js';
import { localName, streamName, toBytes } from './wire.js';

/** Cluster collection names leave room for the `_s<shard>` suffix of local replica names (64 chars at most). */
const MAX_CLUSTER_NAME = 58;
/** How long creation waits for every live placed replica to open, ms. */
const CREATE_WAIT_MS = 15_000;

export interface CreateCollectionContext {
  state: ClusterState;
  link: NatsLink;
  caller: ShardCaller;
  logger: Logger;
  /** CONFLICT when `name` is an alias (cluster-aliases.ts). */
  checkNotAlias(name: string): void;
  /** Starts the node's reconcile pass, which opens the replicas placed on it. */
  scheduleReconcile(): void;
  /** The node's GET of a collection, for the answer. */
  getCollection(name: string): Promise<unknown>;
}

/**
 * PUT of a cluster collection. Throws INVALID_ARGUMENT (name, body, config), CONFLICT (an alias of that name, the
 * name with another configuration, or a concurrent creation by another node), BUSY (a replica did not open).
 */
export async function createClusterCollection(
  ctx: CreateCollectionContext,
  name: string,
  body: unknown,
): Promise<{ created: boolean; collection: unknown }> {
  const { state, link } = ctx;
  if (!COLLECTION_NAME_RE.test(name) || name.length > MAX_CLUSTER_NAME) {
    throw invalidArgument(
      'name',
      `"${name}" must match ${COLLECTION_NAME_RE.source} with at most ${MAX_CLUSTER_NAME} characters in cluster mode`,
    );
  }
  const raw = (body ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidArgument('body', 'must be an object');
  const { cluster: clusterRaw, ...rest } = raw;
  const cluster = parseOrThrow(ClusterConfigSchema, clusterRaw ?? {});
  const parsed = safeParseWithMessages(CollectionConfigSchema, rest);
  if (!parsed.success) throw zodToSpladexError(parsed.error);
  const config = parsed.data as unknown as Record<string, unknown>;
  ctx.checkNotAlias(name);
  const existing = state.collections.get(name) ?? null;
  if (existing !== null) return sameOrConflict(ctx, existing, config, cluster);
  const members = state.liveMembers().map((m) => m.node);
  const spec: CollectionSpec = {
    name,
    config,
    encoder: parsed.data.encoder,
    cluster,
    placement: placeReplicas(name, cluster.shards, cluster.replicas, members),
    createdMs: Date.now(),
  };
  await link.ensureStream(streamName(name), [`spladex.docs.${name}.*`], Math.min(3, link.serverCount));
  if (!(await state.catalog.create(name, toBytes(spec)))) {
    const raced = state.collections.get(name);
    if (raced !== undefined) return sameOrConflict(ctx, raced, config, cluster);
    throw new SpladexError('CONFLICT', `collection "${name}" is being created by another node; retry`);
  }
  state.collections.set(name, spec);
  ctx.scheduleReconcile();
  await waitOpened(ctx, spec);
  ctx.logger.info(
    { collection: name, shards: cluster.shards, replicas: cluster.replicas, placement: spec.placement },
    'cluster collection created',
  );
  return { created: true, collection: await ctx.getCollection(name) };
}

async function sameOrConflict(ctx: CreateCollectionContext, existing: CollectionSpec, config: Record<string, unknown>, cluster: unknown) {
  if (stableJson(existing.config) === stableJson(config) && stableJson(existing.cluster) === stableJson(cluster)) {
    return { created: false, collection: await ctx.getCollection(existing.name) };
  }
  throw new SpladexError('CONFLICT', `collection "${existing.name}" exists with another configuration`);
}

/** Polls (deadline CREATE_WAIT_MS) until every live placed replica answers; BUSY naming the first that does not. */
async function waitOpened(ctx: CreateCollectionContext, spec: CollectionSpec): Promise<void> {
  const { state, caller } = ctx;
  const deadline = Date.now() + CREATE_WAIT_MS;
  for (let s = 0; s < spec.cluster.shards; s++) {
    for (const node of spec.placement[s]) {
      for (;;) {
        if (!state.isLive(node)) break;
        try {
          await caller.callNode(node, { op: 'info', collection: spec.name, shard: s }, 1000);
          break;
        } catch (err) {
          if (Date.now() > deadline)
            throw new SpladexError('BUSY', `replica ${localName(spec.name, s)} on ${node} did not open (${(err as Error).message})`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  }
}

/** `{name, config, stats}` with stats summed over one replica per shard, plus `cluster` (placement). */
export async function summedCollectionInfo(spec: CollectionSpec, caller: ShardCaller): Promise<unknown> {
  const name = spec.name;
  const parts = await Promise.all(
    spec.placement.map((_n, shard) => caller.call<{ stats: Record<string, number | null> }>(spec, { op: 'info', collection: name, shard })),
  );
  const stats: Record<string, number | null> = {};
  for (const key of ['documents', 'deleted', 'segments', 'memtableDocuments', 'nnz', 'bytes']) {
    stats[key] = parts.reduce((a, p) => a + Number(p.stats[key] ?? 0), 0);
  }
  const docs = stats.documents as number;
  stats.avgDocTerms =
    docs > 0 ? parts.reduce((a, p) => a + Number(p.stats.avgDocTerms ?? 0) * Number(p.stats.documents ?? 0), 0) / docs : 0;
  stats.estimatedRecall = parts.every((p) => p.stats.estimatedRecall != null)
    ? Math.min(...parts.map((p) => Number(p.stats.estimatedRecall)))
    : null;
  return { name, config: { ...spec.config, cluster: spec.cluster }, stats, cluster: { placement: spec.placement } };
}

/** Optimizes every live replica of every shard; segments summed over one replica per shard, `tookMs` wall time. */
export async function optimizeReplicas(
  spec: CollectionSpec,
  state: ClusterState,
  caller: ShardCaller,
  body?: unknown,
): Promise<{ segments: number; tookMs: number }> {
  const name = spec.name;
  const t0 = performance.now();
  const perShard = await Promise.all(
    spec.placement.map(async (nodes, shard) => {
      const live = nodes.filter((n) => state.isLive(n));
      const rs = await Promise.all(
        live.map((n) => caller.callNode<{ segments: number }>(n, { op: 'optimize', collection: name, shard, body }, 10 * 60_000)),
      );
      return rs[0]?.segments ?? 0;
    }),
  );
  return { segments: perShard.reduce((a, b) => a + b, 0), tookMs: Math.round((performance.now() - t0) * 1000) / 1000 };
}

/** JSON with sorted keys, for comparing configs. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : val,
  );
}
