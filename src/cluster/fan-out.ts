/**
 * The coordinating side of a shard request: pick a live replica of the shard (the one this node has the fewest
 * requests in flight to, then the one its host reports least loaded, then placement order), send the request
 * over NATS request/reply, and on a timeout, "no responders" or an INTERNAL/BUSY answer try the next replica.
 * Any other error code (INVALID_ARGUMENT, NOT_FOUND, …) is the answer and is rethrown as is. `mergeHits` merges
 * shard top-k lists with the single process's order (float32 score descending, then id ascending, id-top-k.ts).
 * Used by cluster-node.ts.
 */
import { SpladexError } from '../core/errors.js';
import type { SearchHit, SearchResponse } from '../search/collection.js';
import type { ClusterState, CollectionSpec } from './cluster-state.js';
import type { NatsLink } from './nats-link.js';
import { localName, rpcSubject, type ShardRequest, toBytes, unwrapReply } from './wire.js';

/** How long one replica may take to answer before the next is tried, ms. */
export const SHARD_TIMEOUT_MS = 2000;

export class ShardCaller {
  private readonly inflight = new Map<string, number>();
  /** Requests that moved on to another replica after a failure (metrics, fault reports). */
  failovers = 0;

  constructor(
    private readonly link: NatsLink,
    private readonly state: ClusterState,
  ) {}

  /**
   * Replicas of `shard`, best first: live ones reporting the replica healthy, then caught up with the log (a
   * replica replaying the stream after a restart or a re-placement holds only a prefix), then by fewest requests
   * in flight from here and the host's reported load, then placement order; members not seen live come last but are still
   * tried (a request to a dead node fails at once with "no responders"). Why not skip them: seen in the fault
   * run, while a NATS node restarted the heartbeats of live nodes were not written for seconds, and skipping
   * "dead" members answered "no live replica" although the replica was serving.
   */
  candidates(spec: CollectionSpec, shard: number): string[] {
    const local = localName(spec.name, shard);
    const score = (n: string) => {
      const live = this.state.isLive(n) ? 0 : 1;
      const r = this.state.report(n, local);
      const healthy = r !== undefined && r.failed === null ? 0 : 1;
      const caughtUp = r?.caughtUp === false ? 1 : 0;
      return [live, healthy, caughtUp, this.inflight.get(n) ?? 0, this.state.members.get(n)?.record.inflight ?? 0];
    };
    return spec.placement[shard]
      .map((n, i) => ({ n, i, s: score(n) }))
      .sort((a, b) => a.s[0] - b.s[0] || a.s[1] - b.s[1] || a.s[2] - b.s[2] || a.s[3] - b.s[3] || a.s[4] - b.s[4] || a.i - b.i)
      .map((x) => x.n);
  }

  /** Sends `req` to one replica of its shard, failing over; BUSY when none answers. */
  async call<T>(spec: CollectionSpec, req: ShardRequest, timeoutMs = SHARD_TIMEOUT_MS): Promise<T> {
    const nodes = this.candidates(spec, req.shard);
    let last: unknown = null;
    for (const node of nodes) {
      try {
        return await this.callNode<T>(node, req, timeoutMs);
      } catch (err) {
        if (!(err instanceof SpladexError) || (err.code !== 'BUSY' && err.code !== 'INTERNAL')) throw err;
        last = err;
        this.failovers++;
      }
    }
    throw new SpladexError(
      'BUSY',
      `shard ${req.shard} of collection "${spec.name}" has no live replica${last instanceof Error ? ` (${last.message})` : ''}`,
      { retryAfterSeconds: 1 },
    );
  }

  /** Sends `req` to `node` itself (no failover). */
  async callNode<T>(node: string, req: ShardRequest, timeoutMs = SHARD_TIMEOUT_MS): Promise<T> {
    this.inflight.set(node, (this.inflight.get(node) ?? 0) + 1);
    try {
      return unwrapReply<T>(await this.link.request(rpcSubject(node), toBytes(req), timeoutMs));
    } finally {
      this.inflight.set(node, (this.inflight.get(node) ?? 1) - 1);
    }
  }
}

/** The best `k` hits of all shards: float32 score descending, then id ascending (the single process's order). */
export function mergeHits(lists: readonly SearchHit[][], k: number): SearchHit[] {
  const all = lists.flat();
  all.sort((a, b) => {
    const d = Math.fround(b.score) - Math.fround(a.score);
    if (d !== 0) return d;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return all.slice(0, k);
}

/** One response from the shard responses of a search: merged hits, summed work, the slowest timings. */
export function mergeResponses(parts: readonly SearchResponse[], k: number, totalMs: number): SearchResponse {
  const warnings = [...new Set(parts.flatMap((p) => p.warnings))];
  return {
    nextCursor: null,
    hits: mergeHits(
      parts.map((p) => p.hits),
      k,
    ),
    took: {
      totalMs: Math.round(totalMs * 1000) / 1000,
      encodeMs: Math.max(0, ...parts.map((p) => p.took.encodeMs)),
      searchMs: Math.max(0, ...parts.map((p) => p.took.searchMs)),
    },
    stats: {
      docsScored: parts.reduce((a, p) => a + p.stats.docsScored, 0),
      blocksScored: parts.reduce((a, p) => a + p.stats.blocksScored, 0),
      blocksSkipped: parts.reduce((a, p) => a + p.stats.blocksSkipped, 0),
      exact: parts.every((p) => p.stats.exact),
    },
    warnings,
  };
}
