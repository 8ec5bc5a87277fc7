/**
 * The answering side of shard requests (wire.ts `ShardRequest`) on `spladex.rpc.<node>`: each names a collection
 * and shard; the node answers from its local replica (`<collection>_s<shard>` of its SpladexService) or BUSY when
 * it does not serve it, so the caller fails over. `termStats` and a `search` with `stats` are the two rounds of a
 * `dfs` search: the shard reports, per analyzed query term, its document frequency plus its document count and
 * total document length; the coordinator sums them and sends them back, and the shard builds the query vector with
 * the collection-wide IDF and weights its documents (memtable and, in exact search, sealed) with the collection-wide
 * avgdl, so scores are the single process's (approximate search keeps each segment's build-time weights,
 * docs/CLUSTER.md).
 * `prfInput` serves cluster-wide PRF (prf-fan-out.ts); `count` and `liveIds` serve count and bulk delete (the coordinator publishes the deletes of the live ids).
 * Started by cluster-node.ts.
 */
import { invalidArgument } from '../core/errors.js';
import type { SearchRequest } from '../config/request-schemas.js';
import { analyzeQuery } from '../encoders/lexical/lexical-encoder.js';
import type { SparseVector } from '../core/sparse-vector.js';
import type { SpladexService } from '../search/spladex-service.js';
import { resolveVector } from '../search/vector-input.js';
import { lexicalQueryVector } from '../search/text-binding.js';
import type { ConsumerHandle, NatsLink } from './nats-link.js';
import type { ShardReplica } from './shard-replica.js';
import {
  errorReply,
  fromBytes,
  type GlobalStats,
  localName,
  okReply,
  type PlainVector,
  type PrfInput,
  type ShardRequest,
  type ShardTermStats,
} from './wire.js';

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
      return { applied: replica.applied };
    case 'optimize':
      return o.local.optimize(local, r.body);
    case 'count':
      return o.local.countDocuments(local, r.filter === undefined ? {} : { filter: r.filter });
    case 'liveIds':
      return liveIds(o.local, local, r.ids, r.filter);
    case 'prfInput':
      return prfInput(o.local, local, r.req, r.ids);
    case 'termStats':
      return termStats(o.local, local, r.query);
    case 'search':
      if (r.stats === undefined || r.req.query === undefined) return o.local.search(local, r.req);
      return dfsSearch(o.local, local, r.req, r.stats);
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

/** The query vector (resolved or encoded as the collection's search does) and the stored vectors of `ids`. */
async function prfInput(local: SpladexService, name: string, req: SearchRequest, ids: string[]): Promise<PrfInput> {
  const c = local.openCollectionHandle(name);
  let query: SparseVector | null = null;
  if (req.vector !== undefined) query = resolveVector(req.vector, c.binding.vocab, 'vector').vector;
  else if (req.query !== undefined)
    query = await c.binding.encodeQuery(req.query, { maxTerms: local.limits.maxQueryTerms, field: 'query' });
  return {
    query: query === null ? null : plain(query),
    vectors: ids.map((id) => {
      const d = c.store.get(id);
      return d === undefined ? null : plain(d.vector);
    }),
  };
}

function plain(v: SparseVector): PlainVector {
  return { indices: Array.from(v.indices), values: Array.from(v.values) };
}

function queryCounts(local: SpladexService, text: string): Map<string, number> {
  const counts = analyzeQuery(text, local.limits.maxQueryTerms);
  if (counts === null)
    throw invalidArgument('query', `at most ${local.limits.maxQueryTerms} distinct terms (maxQueryTerms); this text has more`);
  return counts;
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

async function dfsSearch(local: SpladexService, name: string, req: SearchRequest, stats: GlobalStats) {
  const collection = local.openCollectionHandle(name);
  const dict = collection.store.dictionary;
  if (dict === undefined || dict === null) return local.search(name, req);
  const globalStats = {
    numDocs: stats.numDocs,
    avgdl: stats.avgdl,
    df: (id: number) => {
      const term = dict.term(id);
      return term === undefined ? 0 : (stats.df[term] ?? 0);
    },
  };
  const queryVector = lexicalQueryVector(queryCounts(local, req.query as string), dict, globalStats);
  return collection.search(req, { queryVector, avgdl: stats.avgdl });
}
