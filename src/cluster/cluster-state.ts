/**
 * What a node knows of the cluster, from two JetStream key-value buckets it watches:
 * - `spladex_members`: one key per node, re-put every HEARTBEAT_MS with its URL, load and the replicas it serves
 *   (applied sequence, pending, failure). A member is live while its last heartbeat, as seen here, is younger
 *   than DEAD_AFTER_MS, by this node's clock (receipt time, so server clock skew does not matter; a dead node's
 *   last record read at start-up counts as live for DEAD_AFTER_MS, and requests to it fail over at once: no
 *   responders). The bucket's TTL (MEMBER_TTL_MS) drops the keys of nodes gone for good.
 * - `spladex_collections`: one key per collection, its `CollectionSpec` (config, shards, replicas and the
 *   placement computed at creation, then kept: placement.ts);
 * - `spladex_aliases`: one key per alias, `{collection}` (cluster-aliases.ts).
 * `onChange` fires after every change of either, so the node reconciles the replicas it hosts.
 */
import type { ClusterConfig } from '../config/index-config.js';
import type { ConsumerHandle, KvBucket, NatsLink } from './nats-link.js';
import { fromBytes, toBytes } from './wire.js';

export const HEARTBEAT_MS = 500;
export const DEAD_AFTER_MS = 2500;
const MEMBER_TTL_MS = 60_000;
/** A members watch without an event for this long (3 of this node's own heartbeats) is recreated, ms. */
const WATCH_STALL_MS = 1500;

/** A replica as its host reports it in the heartbeat. */
export interface ReplicaReport {
  applied: number;
  pending: number;
  failed: string | null;
  /** Store time of the applied message, ms (0: unknown); absent from nodes of before the lag report. */
  appliedTimeMs?: number;
  /** Behind the log as of the heartbeat (shard-replica.ts `lag`); absent from nodes of before the lag report. */
  lag?: number;
  lagMs?: number | null;
  /** Reached the log's head since it started (shard-replica.ts); absent from older nodes (taken as true). */
  caughtUp?: boolean;
}

export interface MemberRecord {
  node: string;
  url: string;
  startedMs: number;
  /** Shard requests this node is answering now (the fan-out prefers the least loaded). */
  inflight: number;
  /** By local replica name (`<collection>_s<shard>`). */
  replicas: Record<string, ReplicaReport>;
}

export interface CollectionSpec {
  name: string;
  /** The collection config without `cluster` (what each replica's local collection is created with). */
  config: Record<string, unknown>;
  encoder: string;
  cluster: ClusterConfig;
  /** Node ids per shard, best first. */
  placement: string[][];
  createdMs: number;
}

export class ClusterState {
  readonly members = new Map<string, { record: MemberRecord; seenMs: number }>();
  readonly collections = new Map<string, CollectionSpec>();
  /** Alias → collection (`spladex_aliases`, cluster-aliases.ts). */
  readonly aliases = new Map<string, string>();
  private handles: ConsumerHandle[] = [];
  private lastMemberEventMs = Date.now();
  private restarting = false;

  private constructor(
    readonly memberBucket: KvBucket,
    readonly catalog: KvBucket,
    readonly aliasBucket: KvBucket,
    private readonly onChange: () => void,
  ) {}

  static async open(link: NatsLink, onChange: () => void): Promise<ClusterState> {
    const replicas = Math.min(3, link.serverCount);
    const memberBucket = await link.bucket('spladex_members', { ttlMs: MEMBER_TTL_MS, replicas });
    const catalog = await link.bucket('spladex_collections', { replicas });
    const aliasBucket = await link.bucket('spladex_aliases', { replicas });
    const state = new ClusterState(memberBucket, catalog, aliasBucket, onChange);
    await state.startWatches();
    return state;
  }

  private async startWatches(): Promise<void> {
    this.lastMemberEventMs = Date.now();
    this.handles.push(
      await this.memberBucket.watch((e) => {
        this.lastMemberEventMs = Date.now();
        if (e.value === null) this.members.delete(e.key);
        else this.members.set(e.key, { record: fromBytes<MemberRecord>(e.value), seenMs: Date.now() });
        this.onChange();
      }),
    );
    this.handles.push(
      await this.catalog.watch((e) => {
        if (e.value === null) this.collections.delete(e.key);
        else this.collections.set(e.key, fromBytes<CollectionSpec>(e.value));
        this.onChange();
      }),
    );
    this.handles.push(
      await this.aliasBucket.watch((e) => {
        if (e.value === null) this.aliases.delete(e.key);
        else this.aliases.set(e.key, fromBytes<{ collection: string }>(e.value).collection);
      }),
    );
  }

  /**
   * Watchdog, called every heartbeat: this node's own heartbeat is a member event every HEARTBEAT_MS, so a members
   * watch silent for WATCH_STALL_MS has lost its server; both watches are recreated (they replay current values).
   * Seen in the fault run: after a NATS node was killed, the watches stayed silent, every member looked dead and
   * searches answered "no live replica" until the end of the run.
   */
  async checkWatches(): Promise<void> {
    if (this.restarting || Date.now() - this.lastMemberEventMs < WATCH_STALL_MS) return;
    this.restarting = true;
    try {
      const old = this.handles;
      this.handles = [];
      for (const h of old) await h.stop().catch(() => undefined);
      await this.startWatches();
    } finally {
      this.restarting = false;
    }
  }

  isLive(node: string, now = Date.now()): boolean {
    const m = this.members.get(node);
    return m !== undefined && now - m.seenMs < DEAD_AFTER_MS;
  }

  liveMembers(now = Date.now()): MemberRecord[] {
    const out: MemberRecord[] = [];
    for (const m of this.members.values()) if (now - m.seenMs < DEAD_AFTER_MS) out.push(m.record);
    return out.sort((a, b) => (a.node < b.node ? -1 : 1));
  }

  /** The last replica report of `local` on `node` received, live or not (GET /v1/cluster's lag of a dead node). */
  lastReport(node: string, local: string): ReplicaReport | undefined {
    return this.members.get(node)?.record.replicas[local];
  }

  /** The replica report of `local` on `node`, when that node is live and reports it. */
  report(node: string, local: string): ReplicaReport | undefined {
    return this.isLive(node) ? this.members.get(node)?.record.replicas[local] : undefined;
  }

  async heartbeat(record: MemberRecord): Promise<void> {
    await this.memberBucket.put(record.node, toBytes(record));
  }

  async close(): Promise<void> {
    for (const h of this.handles) await h.stop();
    this.handles = [];
  }
}
