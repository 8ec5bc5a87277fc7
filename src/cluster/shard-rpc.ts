/**
 * The answering side of shard requests (wire.ts `ShardRequest`) on `spladex.rpc.<node>`: each names a collection
 * and shard; the node answers from its local replica (`<collection>_s<shard>` of its SpladexService) or BUSY when
 * it does not serve it, so the caller fails over. `termStats` and a `search` with `stats` are the two rounds of a
 * `dfs` search: the shard reports, per analyzed query term, its document frequency plus its document count and
 * total document length; the coordinator sums them and sends them back, and the shard builds the query vector with
 * the collection-wide IDF and weights its documents (memtable and, in exact search, sealed) with the collection-wide
 * avgdl, so scores are the single process's (approximate search keeps each segment's build-time weights,
 * docs/CLUSTER.md). The steps of PRF and hybrid through the fan-out (`prfFeedback`, `termDf`, `hybrid`, `hydrate`)
 * are in shard-search.ts; `count` and `liveIds` serve count and bulk delete (the coordinator publishes the deletes
 * of the live ids).
 * Started by cluster-node.ts.
 */
import type { SpladexService } from '../search/spladex-service.js';
import type { ConsumerHandle, NatsLink } from './nats-link.js';
import type { ShardReplica } from './shard-replica.js';
import { hybridCandidates, hydrateHits, prfFeedback, queryCounts, shardSearch, termDf } from './shard-search.js';
import { errorReply, fromBytes, localName, okReply, type ShardRequest, type ShardTermStats } from './wire.js';

/** What the handlers need of the node. */
export interface ShardHost {
  inflight: number;
  replica(local: string): ShardReplica;
}

export interface ShardRpcOptions {
  link: NatsLink;
  subject: string;
  node: ShardHost;
  local: SpladexService;
}

export function serveShardRequests(o: ShardRpcOptions): ConsumerHandle {
  return o.link.serve(o.subject, async (data) => {
    o.node.inflight++;
    try {
      return okReply(await answer(o, fromBytes<ShardRequest>(data)));
    } catch (err) {
      return errorReply(err);
    } finally {
      o.node.inflight--;
    }
  });
}

async function answer(o: ShardRpcOptions, r: ShardRequest): Promise<unknown> {
  const local = localName(r.collection, r.shard);
  const replica = o.node.replica(local);
  switch (r.op) {
    case 'info':
      return o.local.getCollection(local);
    case 'get':
      return o.local.getDocument(local, r.id, r.withVector);
    case 'waitApplied':
      await replica.waitApplied(r.seq, r.timeoutMs);
      if (r.getId !== undefined) {
        const refused = replica.refusal(r.seq);
        return { refused, document: refused === undefined ? o.local.getDocument(local, r.getId, false) : undefined };
      }
      return { applied: replica.applied, appliedTimeMs: replica.appliedTimeMs };
    case 'optimize':
      return o.local.optimize(local, r.body);
    case 'count':
      return o.local.countDocuments(local, r.filter === undefined ? {} : { filter: r.filter });
    case 'liveIds':
      return liveIds(o.local, local, r.ids, r.filter);
    case 'termStats':
      return termStats(o.local, local, r.query);
    case 'search':
      return shardSearch(o.local, local, r);
    case 'prfFeedback':
      return prfFeedback(o.local, local, r);
    case 'termDf':
      return termDf(o.local, local, r.terms);
    case 'hybrid':
      return hybridCandidates(o.local, local, r);
    case 'hydrate':
      return hydrateHits(o.local, local, r);
    case 'scroll':
      return o.local.openCollectionHandle(local).scroll(r.req, { after: r.after });
  }
}

/** Of `ids`, those live on this replica; without ids, the live ids passing `filter` (bulk delete). */
function liveIds(local: SpladexService, name: string, ids: string[] | undefined, filter: unknown): string[] {
  const collection = local.openCollectionHandle(name);
  if (ids !== undefined) return ids.filter((id) => collection.store.get(id) !== undefined);
  // The filter is checked by the shard's collection (its metadata types), as in one process.
  collection.count(filter as never);
  return collection.store.liveIds(filter as never);
}

function termStats(local: SpladexService, name: string, text: string): ShardTermStats {
  const store = local.openCollectionHandle(name).store;
  const dict = store.dictionary;
  const ts = store.termStats();
  const df: Record<string, number> = {};
  for (const term of queryCounts(local, text).keys()) {
    const id = dict?.get(term);
    df[term] = id === undefined ? 0 : ts.df(id);
  }
  // Lexical document lengths are integer term counts, so the product is an integer up to float rounding.
  return { numDocs: ts.numDocs, sumDl: Math.round(ts.avgdl * ts.numDocs), df };
}
