/**
 * Search through the cluster's fan-out (docs/CLUSTER.md "Search"): one request becomes
 * - for lexical collections with `cluster.stats: "dfs"` (the default) and query text, a first round gathering every
 *   shard's document frequencies and lengths (`termStats`), summed into collection-wide BM25 statistics;
 * - for PRF, its first round and expansion (prf-fan-out.ts), then one more round with the expanded query;
 * - one final round: hybrid and dense fused at this node (hybrid-fan-out.ts), or every shard's best offset + k
 *   merged by score (fan-out.ts), a full page carrying the stateless `searchAfter` cursor of its last hit
 *   (cluster-paging.ts).
 * Stateless: every round reads the shards' current state. Used by cluster-node.ts (search, searchBatch).
 */
import { invalidArgument } from '../core/errors.js';
import { CollectionConfigSchema } from '../config/index-config.js';
import type { SearchRequest } from '../config/request-schemas.js';
import { searchFingerprint } from '../search/search-page.js';
import type { SearchResponse } from '../search/collection.js';
import { searchAfterPosition, searchCursor } from './cluster-paging.js';
import type { CollectionSpec } from './cluster-state.js';
import { mergeResponses, type ShardCaller } from './fan-out.js';
import { denseRoute, hybridSearch } from './hybrid-fan-out.js';
import { prfExpandedQuery, prfThroughFanOut } from './prf-fan-out.js';
import type { GlobalStats, QueryOverride, ShardTermStats } from './wire.js';

/**
 * One search through the fan-out: dfs statistics first (lexical), PRF's first round and expansion (prf-fan-out.ts),
 * then one round: hybrid fused at this node (hybrid-fan-out.ts), or every shard's best offset + k merged.
 * `took.totalMs` covers every round. Throws INVALID_ARGUMENT for a `searchAfter` cursor of another request or on
 * a hybrid/dense search; shard errors as the fan-out gives them (BUSY when no replica of a shard answers).
 */
export async function searchThroughFanOut(spec: CollectionSpec, caller: ShardCaller, req: SearchRequest): Promise<SearchResponse> {
  const t0 = performance.now();
  const fingerprint = searchFingerprint(req);
  const after = req.searchAfter === undefined ? undefined : searchAfterPosition(req.searchAfter, fingerprint);
  const route = denseRoute(spec, req);
  const stats = await dfsStats(spec, caller, req);
  let round = req;
  let override: QueryOverride | undefined;
  if (prfThroughFanOut(spec, req, route === 'perShard')) {
    override = await prfExpandedQuery(spec, caller, req, stats);
    round = { ...req, prf: undefined };
  }
  // Hybrid pages continue by offset only, as in one process (the dense part has no cursor gate).
  if (after !== undefined && route === 'fanOut') throw invalidArgument('searchAfter', 'hybrid and dense searches page by offset');
  const out =
    route === 'fanOut'
      ? await hybridSearch(spec, caller, round, { stats, override })
      : await searchRound(spec, caller, round, { stats, override, after, fingerprint: route === 'none' ? fingerprint : undefined });
  out.took.totalMs = Math.round((performance.now() - t0) * 1000) / 1000;
  return out;
}

/** Collection-wide lexical statistics for a `dfs` search of query text (one round to every shard). */
async function dfsStats(spec: CollectionSpec, caller: ShardCaller, req: SearchRequest): Promise<GlobalStats | undefined> {
  if (spec.encoder !== 'lexical' || spec.cluster.stats !== 'dfs' || req.query === undefined || req.vector !== undefined) return undefined;
  const parts = await Promise.all(
    spec.placement.map((_n, shard) =>
      caller.call<ShardTermStats>(spec, { op: 'termStats', collection: spec.name, shard, query: req.query as string }),
    ),
  );
  return sumTermStats(parts);
}

/**
 * One fan-out round: every shard's best offset + k (or next k after a cursor's position), merged; with
 * `fingerprint` a full page carries the stateless cursor of its last hit (cluster-paging.ts).
 */
async function searchRound(
  spec: CollectionSpec,
  caller: ShardCaller,
  req: SearchRequest,
  o: { stats?: GlobalStats; override?: QueryOverride; after?: { score: number; id: string }; fingerprint?: string },
): Promise<SearchResponse> {
  const name = spec.name;
  const t0 = performance.now();
  const shards = spec.placement.map((_n, shard) => shard);
  // A page at `offset` is hits offset … offset + k − 1 of the merged ranking: every shard sends its best offset + k.
  // A cursor page ignores offset, as in one process.
  const offset = o.after === undefined ? (req.offset ?? 0) : 0;
  const k = req.k ?? CollectionConfigSchema.parse(spec.config).search.k;
  const shardReq: SearchRequest = { ...req, offset: undefined, searchAfter: undefined, k: offset + k };
  const { stats, override, after } = o;
  const parts = await Promise.all(
    shards.map((shard) =>
      caller.call<SearchResponse>(spec, { op: 'search', collection: name, shard, req: shardReq, stats, override, after }),
    ),
  );
  const merged = mergeResponses(parts, offset + k, performance.now() - t0);
  const total = req.trackTotal === true ? sumTotals(parts) : undefined;
  const hits = merged.hits.slice(offset);
  const last = hits[hits.length - 1];
  const nextCursor = o.fingerprint !== undefined && hits.length === k ? searchCursor(o.fingerprint, last) : null;
  return { ...merged, hits, nextCursor, ...(total === undefined ? {} : { total }) };
}

function sumTermStats(parts: readonly ShardTermStats[]): GlobalStats {
  let numDocs = 0;
  let sumDl = 0;
  const df: Record<string, number> = {};
  for (const p of parts) {
    numDocs += p.numDocs;
    sumDl += p.sumDl;
    for (const [t, n] of Object.entries(p.df)) df[t] = (df[t] ?? 0) + n;
  }
  return { numDocs, avgdl: numDocs > 0 ? sumDl / numDocs : 0, df };
}

/** The shards' `total`s added up: exact only when every shard's is exact. */
function sumTotals(parts: readonly SearchResponse[]): { value: number; relation: 'eq' | 'gte' } {
  let value = 0;
  let relation: 'eq' | 'gte' = 'eq';
  for (const p of parts) {
    value += p.total?.value ?? 0;
    if (p.total === undefined || p.total.relation === 'gte') relation = 'gte';
  }
  return { value, relation };
}
