/**
 * A spladex cluster node (SPLADEX_NATS_URL set): the server's service port (src/server/service-port.ts) over the
 * cluster, wrapping the node's ordinary SpladexService, which holds the shard replicas this node hosts as local
 * collections (`<collection>_s<shard>`, shard-replica.ts). Any node accepts any request:
 * - collections live in the catalog bucket (cluster-state.ts); creating one creates its JetStream stream
 *   (replicas min(3, NATS servers)) and stores the placement computed over the live members (placement.ts;
 *   creation, summed info and optimize in cluster-collections.ts);
 * - writes go through write-path.ts to the stream and are answered after JetStream's ack
 *   (`?refresh=wait_for`: after every live replica of the touched shards applied them);
 * - reads fan out to one live replica per shard (fan-out.ts) and merge; searches run in cluster-search.ts (dfs
 *   statistics for lexical collections with `cluster.stats: "dfs"`, PRF and hybrid rounds, searchAfter paging);
 *   scroll pages with stateless cursors (cluster-paging.ts); PATCH goes through the stream; aliases live in
 *   their own bucket (cluster-aliases.ts).
 * Each node answers shard requests for its replicas on `spladex.rpc.<node>` (shard-rpc.ts), heartbeats its
 * membership every HEARTBEAT_MS and, then, reconciles the replicas placed on it (replica-reconcile.ts) and
 * re-places the replicas of members gone for good (cluster-ops.ts).
 * Built by src/main.ts through startServer's `clusterNode` option.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { isErrorCode, SpladexError, invalidArgument, notFound } from '../core/errors.js';
import { COLLECTION_NAME_RE } from '../config/index-config.js';
import type { ClusterEnv } from '../config/env.js';
import {
  CountRequestSchema,
  deleteRequestSchema,
  type EncodeRequest,
  type Limits,
  patchRequestSchema,
  type ScrollRequest,
  type SearchRequest,
} from '../config/request-schemas.js';
import { parseOrThrow } from '../config/zod-errors.js';
import type { SearchResponse } from '../search/collection.js';
import type { SpladexService } from '../search/spladex-service.js';
import { ClusterAliases } from './cluster-aliases.js';
import { createClusterCollection, optimizeReplicas, summedCollectionInfo } from './cluster-collections.js';
import { clusterInfo, replaceGoneMembers } from './cluster-ops.js';
import { scrollThroughFanOut } from './cluster-paging.js';
import { searchThroughFanOut } from './cluster-search.js';
import { ClusterState, type CollectionSpec, HEARTBEAT_MS, type ReplicaReport } from './cluster-state.js';
import { ShardCaller } from './fan-out.js';
import { reconcileReplicas } from './replica-reconcile.js';
import { openNatsLink, type ConsumerHandle, type NatsLink } from './nats-link.js';
import { shardOf } from './placement.js';
import type { ShardReplica } from './shard-replica.js';
import { serveShardRequests } from './shard-rpc.js';
import { deleteMessages, documentRules, publishShards, routeBatch, toMessages } from './write-path.js';
import { localName, rpcSubject, streamName, type ShardOp, toBytes } from './wire.js';

/** A hosted replica's position for the Prometheus gauges (src/server/metrics.ts). */
export interface ReplicaMetrics {
  collection: string;
  shard: number;
  applied: number;
  lag: number;
  lagMs: number | null;
}

/** How long `?refresh=wait_for` waits for the replicas, ms. */
const WAIT_FOR_MS = 15_000;

export interface ClusterNodeOptions {
  local: SpladexService;
  cluster: ClusterEnv;
  logger: Logger;
  dataDir: string;
}

export class ClusterNode {
  readonly limits: Limits;
  readonly nodeId: string;
  private link: NatsLink | null = null;
  private state: ClusterState | null = null;
  private caller: ShardCaller | null = null;
  private readonly replicas = new Map<string, ShardReplica>();
  private rpc: ConsumerHandle | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private url = '';
  private readonly startedMs = Date.now();
  private ready = false;
  private closed = false;
  /** Shard requests being answered by this node now (reported in the heartbeat). */
  inflight = 0;
  private reconciling: Promise<void> = Promise.resolve();
  private reconcileAgain = false;
  private replacing = false;

  constructor(private readonly o: ClusterNodeOptions) {
    this.limits = o.local.limits;
    this.nodeId =
      o.cluster.nodeId ??
      hostname()
        .replace(/[^A-Za-z0-9_-]/g, '_')
        .slice(0, 64);
  }

  // ---- lifecycle (start-server.ts) ----

  lockDataDir(): Promise<void> {
    return this.o.local.lockDataDir();
  }

  async describeOwner(info: { url: string }): Promise<void> {
    this.url = this.o.cluster.advertiseUrl ?? info.url;
    await this.o.local.describeOwner(info);
  }

  /** Opens the local replicas' collections, joins the cluster, starts the replicas placed here. */
  async open(): Promise<void> {
    await this.o.local.open();
    this.link = await openNatsLink(this.o.cluster.natsUrls, `spladex-${this.nodeId}`);
    this.state = await ClusterState.open(this.link, () => this.scheduleReconcile());
    this.caller = new ShardCaller(this.link, this.state);
    this.rpc = serveShardRequests({ link: this.link, subject: rpcSubject(this.nodeId), node: this, local: this.o.local });
    await this.heartbeat();
    this.heartbeatTimer = setInterval(() => {
      void this.heartbeat().catch((err: unknown) => this.o.logger.warn({ err }, 'cluster heartbeat failed'));
      this.scheduleReconcile();
      for (const r of this.replicas.values()) {
        void r.checkProgress().catch((err: unknown) => this.o.logger.warn({ err }, 'replica watchdog failed'));
        void r.refreshHead().catch(() => undefined);
      }
      void this.replaceGone().catch((err: unknown) => this.o.logger.warn({ err }, 're-placement failed'));
    }, HEARTBEAT_MS);
    await this.reconcileNow();
    this.ready = true;
    this.o.logger.info({ node: this.nodeId, url: this.url, nats: this.o.cluster.natsUrls }, 'cluster node joined');
  }

  isReady(): boolean {
    return this.ready && !this.closed;
  }

  /** Every shard of every collection has a live replica that is applying its stream. */
  clusterReady(): boolean {
    if (!this.isReady() || this.state === null) return false;
    for (const spec of this.state.collections.values()) {
      for (let s = 0; s < spec.cluster.shards; s++) {
        const local = localName(spec.name, s);
        if (!spec.placement[s].some((n) => this.state?.report(n, local)?.failed === null)) return false;
      }
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    await this.reconciling.catch(() => undefined);
    await this.rpc?.stop();
    for (const r of this.replicas.values()) await r.stop();
    this.replicas.clear();
    await this.state?.close();
    await this.link?.close();
    await this.o.local.close();
  }

  private async heartbeat(): Promise<void> {
    if (this.state === null || this.closed) return;
    const replicas: Record<string, ReplicaReport> = {};
    for (const [name, r] of this.replicas)
      replicas[name] = {
        applied: r.applied,
        appliedTimeMs: r.appliedTimeMs,
        pending: r.pending,
        failed: r.failed,
        caughtUp: r.caughtUp,
        ...r.lag(),
      };
    await this.state.heartbeat({ node: this.nodeId, url: this.url, startedMs: this.startedMs, inflight: this.inflight, replicas });
  }

  // ---- replicas hosted here ----

  /** The replica `local` if this node hosts it and it is applying; BUSY otherwise (the caller fails over). */
  replica(local: string): ShardReplica {
    const r = this.replicas.get(local);
    if (r === undefined || r.failed !== null) throw new SpladexError('BUSY', `node ${this.nodeId} does not serve replica ${local}`);
    return r;
  }

  /** Re-placement of members gone for good (cluster-ops.ts), one pass at a time. */
  private async replaceGone(): Promise<void> {
    if (this.state === null || this.closed || this.replacing) return;
    this.replacing = true;
    try {
      const { state, nodeId, startedMs } = this;
      const changed = await replaceGoneMembers({
        state,
        nodeId,
        startedMs,
        replaceAfterMs: this.o.cluster.replaceAfterMs,
        logger: this.o.logger,
      });
      if (changed) this.scheduleReconcile();
    } finally {
      this.replacing = false;
    }
  }

  private scheduleReconcile(): void {
    if (this.closed || this.state === null) return;
    this.reconcileAgain = true;
    this.reconciling = this.reconciling.then(async () => {
      if (!this.reconcileAgain) return;
      this.reconcileAgain = false;
      await this.reconcileNow().catch((err: unknown) => this.o.logger.warn({ err }, 'cluster reconcile failed'));
    });
  }

  /** Starts the replicas placed here, restarts failed ones, drops those of deleted collections (replica-reconcile.ts). */
  private async reconcileNow(): Promise<void> {
    const state = this.state;
    const link = this.link;
    if (state === null || link === null || this.closed) return;
    await reconcileReplicas({
      state,
      link,
      local: this.o.local,
      dataDir: this.o.dataDir,
      nodeId: this.nodeId,
      logger: this.o.logger,
      replicas: this.replicas,
      isClosed: () => this.closed,
    });
  }

  // ---- the service port ----

  private need(): { state: ClusterState; link: NatsLink; caller: ShardCaller } {
    if (this.state === null || this.link === null || this.caller === null) throw new SpladexError('BUSY', 'not joined to the cluster yet');
    return { state: this.state, link: this.link, caller: this.caller };
  }

  /** The collection `name` names: a collection, or the target of an alias (every read and write route). */
  private spec(name: string): CollectionSpec {
    const { state } = this.need();
    const spec = state.collections.get(name) ?? state.collections.get(state.aliases.get(name) ?? '');
    if (spec === undefined) {
      if (!COLLECTION_NAME_RE.test(name)) throw invalidArgument('name', `"${name}" must match ${COLLECTION_NAME_RE.source}`);
      throw notFound(`collection "${name}" not found`);
    }
    return spec;
  }

  /** Creation through the catalog and the stream (cluster-collections.ts); `created: false` for the same config. */
  async createCollection(name: string, body: unknown): Promise<{ created: boolean; collection: unknown }> {
    const { state, link, caller } = this.need();
    return createClusterCollection(
      {
        state,
        link,
        caller,
        logger: this.o.logger,
        checkNotAlias: (n) => this.aliasTable().checkNotAlias(n),
        scheduleReconcile: () => this.scheduleReconcile(),
        getCollection: (n) => this.getCollection(n),
      },
      name,
      body,
    );
  }

  async listCollections(): Promise<{ collections: unknown[] }> {
    const { state } = this.need();
    const out: unknown[] = [];
    for (const spec of [...state.collections.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const info = await this.getCollection(spec.name).catch(() => null);
      const stats = (info as { stats?: { documents: number; segments: number } } | null)?.stats;
      out.push({ name: spec.name, documents: stats?.documents ?? 0, encoder: spec.encoder, segments: stats?.segments ?? 0 });
    }
    return { collections: out };
  }

  /** `{name, config, stats}` with stats summed over one replica per shard, plus `cluster` (placement). */
  async getCollection(nameOrAlias: string): Promise<unknown> {
    const spec = this.spec(nameOrAlias);
    return summedCollectionInfo(spec, this.need().caller);
  }

  async deleteCollection(name: string): Promise<void> {
    const aliases = this.aliasTable();
    aliases.checkNotAlias(name);
    const pointing = aliases.aliasesOf(name);
    if (pointing.length > 0) {
      throw new SpladexError(
        'CONFLICT',
        `collection "${name}" is the target of alias(es) ${pointing.map((a) => `"${a}"`).join(', ')}; delete or switch them first`,
      );
    }
    this.spec(name);
    const { state, link } = this.need();
    await state.catalog.delete(name);
    state.collections.delete(name);
    await link.deleteStream(streamName(name));
    this.scheduleReconcile();
    this.o.logger.info({ collection: name }, 'cluster collection deleted');
  }

  /** Optimizes every live replica of every shard (cluster-collections.ts). */
  async optimize(nameOrAlias: string, body?: unknown): Promise<{ segments: number; tookMs: number }> {
    const spec = this.spec(nameOrAlias);
    const { state, caller } = this.need();
    return optimizeReplicas(spec, state, caller, body);
  }

  async upsertDocuments(nameOrAlias: string, docs: unknown[], options?: { refresh?: 'wait_for' }) {
    const spec = this.spec(nameOrAlias);
    const name = spec.name;
    if (docs.length > this.limits.maxDocsPerRequest) {
      throw invalidArgument('documents', `at most ${this.limits.maxDocsPerRequest} documents per request`);
    }
    const { rules, config } = documentRules(spec, this.limits);
    const batch = routeBatch(docs, spec, rules, config);
    const messages = new Map<number, Uint8Array[]>();
    for (const [shard, list] of batch.byShard) messages.set(shard, toMessages(list));
    const seqs = await publishShards(this.need().link, name, messages);
    if (options?.refresh === 'wait_for') await this.waitApplied(spec, seqs);
    return { indexed: batch.distinctIds, errors: batch.errors };
  }

  /** Waits until every live placed replica of each shard in `seqs` has applied its sequence. */
  private async waitApplied(spec: CollectionSpec, seqs: Map<number, number>): Promise<void> {
    const { state, caller } = this.need();
    await Promise.all(
      [...seqs].flatMap(([shard, seq]) =>
        spec.placement[shard]
          // Live replicas that have reached the log's head (one replaying the stream is waited for by nobody,
          // as Elasticsearch's wait_for skips initializing copies; the fan-out prefers caught-up replicas).
          .filter((n) => state.isLive(n) && state.report(n, localName(spec.name, shard))?.caughtUp !== false)
          .map((n) =>
            caller
              .callNode(n, { op: 'waitApplied', collection: spec.name, shard, seq, timeoutMs: WAIT_FOR_MS }, WAIT_FOR_MS + 1000)
              .catch((err: unknown) => {
                // A replica that died meanwhile no longer counts (Elasticsearch's wait_for does the same).
                if (state.isLive(n)) throw err;
              }),
          ),
      ),
    );
  }

  async getDocument(nameOrAlias: string, id: string, withVector: boolean): Promise<unknown> {
    const spec = this.spec(nameOrAlias);
    const name = spec.name;
    return this.need().caller.call(spec, { op: 'get', collection: name, shard: shardOf(id, spec.cluster.shards), id, withVector });
  }

  async deleteDocument(nameOrAlias: string, id: string, options?: { refresh?: 'wait_for' }): Promise<void> {
    await this.getDocument(nameOrAlias, id, false);
    const spec = this.spec(nameOrAlias);
    const name = spec.name;
    const shard = shardOf(id, spec.cluster.shards);
    const op: ShardOp = { op: 'delete', ids: [id] };
    const seqs = await publishShards(this.need().link, name, new Map([[shard, [toBytes(op)]]]));
    if (options?.refresh === 'wait_for') await this.waitApplied(spec, seqs);
  }

  /**
   * PATCH: the patch goes to the document's shard through the stream like an upsert, and each replica merges it
   * into its own state at that place in the log (the single process's read-merge-upsert, document-ops.ts), so a
   * patch right after an acknowledged write sees that write. Answered once one replica has applied it: with the
   * refusal every replica gives (NOT_FOUND, a bad merge), or the stored document; with `wait_for`, once every
   * live replica has.
   */
  async patchDocument(nameOrAlias: string, id: string, body: unknown, options?: { refresh?: 'wait_for' }): Promise<unknown> {
    const spec = this.spec(nameOrAlias);
    const patch = parseOrThrow(patchRequestSchema(this.limits), body);
    const shard = shardOf(id, spec.cluster.shards);
    const op: ShardOp = { op: 'patch', id, patch };
    const seqs = await publishShards(this.need().link, spec.name, new Map([[shard, [toBytes(op)]]]));
    const seq = seqs.get(shard) as number;
    const r = await this.need().caller.call<{ refused?: { code: string; message: string }; document?: unknown }>(
      spec,
      { op: 'waitApplied', collection: spec.name, shard, seq, timeoutMs: WAIT_FOR_MS, getId: id },
      WAIT_FOR_MS + 1000,
    );
    if (r.refused !== undefined) {
      // The replica names its local collection; the client named the cluster's.
      const message = r.refused.message.split(`"${localName(spec.name, shard)}"`).join(`"${spec.name}"`);
      throw new SpladexError(isErrorCode(r.refused.code) ? r.refused.code : 'INTERNAL', message);
    }
    if (options?.refresh === 'wait_for') await this.waitApplied(spec, seqs);
    return r.document;
  }

  /** Live documents (passing `filter`) summed over one replica per shard. */
  async countDocuments(nameOrAlias: string, body: unknown = {}): Promise<{ count: number }> {
    const spec = this.spec(nameOrAlias);
    const name = spec.name;
    const { filter } = parseOrThrow(CountRequestSchema, body ?? {});
    const parts = await Promise.all(
      spec.placement.map((_n, shard) => this.need().caller.call<{ count: number }>(spec, { op: 'count', collection: name, shard, filter })),
    );
    return { count: parts.reduce((a, p) => a + p.count, 0) };
  }

  /**
   * Bulk delete: each shard's replica names which of the ids (or which ids passing the filter) it holds live; those
   * are published to the shard's stream as delete messages, answered after JetStream's ack like every write.
   * `deleted` counts the ids live when asked (a concurrent write may change that before the deletes apply).
   */
  async deleteDocuments(nameOrAlias: string, body: unknown, options?: { refresh?: 'wait_for' }): Promise<{ deleted: number }> {
    const spec = this.spec(nameOrAlias);
    const name = spec.name;
    const { caller, link } = this.need();
    const req = parseOrThrow(deleteRequestSchema(this.limits), body);
    if ((req.ids === undefined) === (req.filter === undefined)) throw invalidArgument('ids', 'give exactly one of ids or filter');
    const byShard = new Map<number, string[]>();
    for (const id of new Set(req.ids ?? [])) {
      const shard = shardOf(id, spec.cluster.shards);
      let list = byShard.get(shard);
      if (list === undefined) byShard.set(shard, (list = []));
      list.push(id);
    }
    const shards = req.ids !== undefined ? [...byShard.keys()] : spec.placement.map((_n, shard) => shard);
    const live = await Promise.all(
      shards.map(async (shard) => {
        const ids = await caller.call<string[]>(spec, {
          op: 'liveIds',
          collection: name,
          shard,
          ids: byShard.get(shard),
          filter: req.filter,
        });
        return [shard, ids] as const;
      }),
    );
    const messages = new Map<number, Uint8Array[]>();
    let deleted = 0;
    for (const [shard, ids] of live) {
      deleted += ids.length;
      if (ids.length > 0) messages.set(shard, deleteMessages(ids, this.limits.maxDocsPerRequest));
    }
    const seqs = await publishShards(link, name, messages);
    if (options?.refresh === 'wait_for') await this.waitApplied(spec, seqs);
    return { deleted };
  }

  /** A search through the fan-out (cluster-search.ts): dfs statistics, PRF and hybrid rounds, paging. */
  async search(name: string, req: SearchRequest): Promise<SearchResponse> {
    return searchThroughFanOut(this.spec(name), this.need().caller, req);
  }

  async searchBatch(name: string, reqs: SearchRequest[]): Promise<SearchResponse[]> {
    const out: SearchResponse[] = [];
    for (let i = 0; i < reqs.length; i++) {
      try {
        out.push(await this.search(name, reqs[i]));
      } catch (err) {
        if (err instanceof SpladexError && err.code === 'INVALID_ARGUMENT') {
          throw new SpladexError('INVALID_ARGUMENT', `searches[${i}].${err.message}`, { cause: err });
        }
        throw err;
      }
    }
    return out;
  }

  /** Encoding runs on this node's encoders; a cluster collection's lexical statistics are not consulted. */
  encode(req: EncodeRequest): Promise<unknown> {
    if (req.collection !== undefined) {
      throw invalidArgument('collection', 'not supported in cluster mode: encode without a collection');
    }
    return this.o.local.encode(req);
  }

  /** The local service's numbers plus the lag of every replica hosted here (Prometheus gauges per shard). */
  metricsSnapshot(): ReturnType<SpladexService['metricsSnapshot']> & { replicas: ReplicaMetrics[] } {
    const snap = this.o.local.metricsSnapshot();
    const replicas: ReplicaMetrics[] = [];
    for (const [name, r] of this.replicas) {
      const m = /^(.+)_s(\d+)$/.exec(name);
      if (m !== null) replicas.push({ collection: m[1], shard: Number(m[2]), applied: r.applied, ...r.lag() });
    }
    return { ...snap, replicas };
  }

  // ---- aliases (cluster-aliases.ts) ----

  private aliasTable(): ClusterAliases {
    return new ClusterAliases(this.need().state);
  }

  listAliases(): { aliases: { alias: string; collection: string }[] } {
    return this.aliasTable().list();
  }

  putAlias(alias: string, collection: string): Promise<{ alias: string; collection: string; previous: string | null }> {
    return this.aliasTable().put(alias, collection);
  }

  deleteAlias(alias: string): Promise<void> {
    return this.aliasTable().delete(alias);
  }

  // ---- single-process features a cluster node does not offer yet (docs/CLUSTER.md "Not yet in cluster mode") ----

  /** One scroll page in id order through the fan-out, with a stateless cursor (cluster-paging.ts). */
  listDocuments(nameOrAlias: string, req: ScrollRequest): Promise<{ documents: Record<string, unknown>[]; nextCursor: string | null }> {
    return scrollThroughFanOut(this.spec(nameOrAlias), this.need().caller, req);
  }

  createSnapshot(_name: string): Promise<never> {
    return Promise.reject(notInCluster('snapshots'));
  }

  listSnapshots(_name: string): Promise<never> {
    return Promise.reject(notInCluster('snapshots'));
  }

  restoreSnapshot(_name: string): Promise<never> {
    return Promise.reject(notInCluster('restore'));
  }

  addObserver(observer: Parameters<SpladexService['addObserver']>[0]): () => void {
    return this.o.local.addObserver(observer);
  }

  /** GET /v1/cluster (cluster-ops.ts). */
  clusterInfo(): Promise<unknown> {
    const { state, link, caller } = this.need();
    return clusterInfo({ state, link, caller, nodeId: this.nodeId, healthy: this.clusterReady() });
  }
}

function notInCluster(what: string): SpladexError {
  return new SpladexError('INVALID_ARGUMENT', `${what}: not supported in cluster mode yet (docs/CLUSTER.md)`);
}
