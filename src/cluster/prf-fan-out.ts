/**
 * Pseudo-relevance feedback over the whole cluster (issue 17: "PRF ... run their second round through the same
 * fan-out"): the first round is an ordinary fan-out search; its merged top `prf.docs` hits are the feedback
 * documents of the collection, as in one process. Each shard sends the vectors of the feedback documents it holds
 * (and the query vector, resolved or encoded the way its collection does); the expanded query is built once here
 * with the single process's applyPrf (src/search/prf.ts) and the second round fans out as a vector search. Exact
 * searches therefore equal one process's. Only for collections whose term ids are the same on every shard
 * (encoder "none" and model vocabularies) and without a dense part: lexical dictionaries are per shard, and
 * hybrid fusion still runs inside each shard (docs/CLUSTER.md). Used by cluster-node.ts.
 */
import type { SearchRequest } from '../config/request-schemas.js';
import type { SparseVector } from '../core/sparse-vector.js';
import type { SearchResponse } from '../search/collection.js';
import { applyPrf } from '../search/prf.js';
import type { StoreHit } from '../storage/store-types.js';
import type { CollectionSpec } from './cluster-state.js';
import type { ShardCaller } from './fan-out.js';
import { shardOf } from './placement.js';
import type { PlainVector, PrfInput } from './wire.js';

/** Whether `req` on `spec` takes the cluster-wide PRF path (otherwise PRF runs inside each shard). */
export function prfThroughFanOut(spec: CollectionSpec, req: SearchRequest): boolean {
  return (
    req.prf !== undefined &&
    spec.encoder !== 'lexical' &&
    (spec.config as { dense?: unknown }).dense === undefined &&
    req.dense === undefined &&
    req.hybrid === undefined &&
    req.searchAfter === undefined
  );
}

/**
 * The second-round request: `req` with the expanded query as its vector and no `prf`. `search` runs one fan-out
 * round (merge included).
 */
export async function prfSecondRound(
  spec: CollectionSpec,
  caller: ShardCaller,
  req: SearchRequest,
  search: (r: SearchRequest) => Promise<SearchResponse>,
): Promise<SearchRequest> {
  const prf = req.prf as NonNullable<SearchRequest['prf']>;
  const k = req.k ?? (spec.config as { search?: { k?: number } }).search?.k ?? 10;
  // The single process's first round: the store's best max(k, docs) hits with their vectors.
  const first = await search({
    ...req,
    prf: undefined,
    offset: undefined,
    trackTotal: undefined,
    explain: undefined,
    highlight: undefined,
    k: Math.max(k, prf.docs),
  });
  const feedback = first.hits.slice(0, prf.docs);
  const idsByShard: string[][] = spec.placement.map(() => []);
  for (const h of feedback) idsByShard[shardOf(h.id, spec.cluster.shards)].push(h.id);
  const parts = await Promise.all(
    idsByShard.map((ids, shard) => caller.call<PrfInput>(spec, { op: 'prfInput', collection: spec.name, shard, req, ids })),
  );
  const query = parts[0].query;
  if (query === null) return { ...req, prf: undefined };
  const vectors = new Map<string, PlainVector>();
  parts.forEach((p, shard) => {
    idsByShard[shard].forEach((id, i) => {
      const v = p.vectors[i];
      if (v !== null) vectors.set(id, v);
    });
  });
  const hits: StoreHit[] = [];
  for (const h of feedback) {
    const v = vectors.get(h.id);
    // A feedback document deleted since the first round has no vector and is skipped (applyPrf skips those too).
    hits.push(v === undefined ? { id: h.id, score: h.score } : { id: h.id, score: h.score, vector: toSparse(v) });
  }
  const expanded = await applyPrf(toSparse(query), hits, prf);
  return { ...req, prf: undefined, vector: { indices: [...expanded.indices], values: [...expanded.values] } };
}

function toSparse(v: PlainVector): SparseVector {
  return { indices: Uint32Array.from(v.indices), values: Float32Array.from(v.values) };
}
