/**
 * Pseudo-relevance feedback over the whole cluster (issue 17: "PRF ... run their second round through the same
 * fan-out"): the feedback documents are the collection's best `prf.docs` hits, as in one process, not each
 * shard's. Each shard runs the first round (k = max(k, docs), as one process) and sends its best `docs` hits with
 * their weighted vectors and the query vector (shard-search.ts `prfFeedback`); the coordinator merges them (score
 * descending, id ascending), builds the expanded query once with the single process's applyPrf
 * (src/search/prf.ts), and the caller runs the second round as an ordinary fan-out with the expanded query as an
 * override (a hybrid second round too). Two round trips for vectors-only and model collections, whose term ids
 * are the same on every shard.
 * Lexical collections (with `stats: "dfs"`, the default) exchange vectors keyed by term, since dictionaries are
 * per shard; one more round asks every shard for the document frequencies of the feedback terms, so feedback is
 * weighed by the collection-wide IDF, as one process weighs it by its own. Used by cluster-node.ts.
 */
import type { SearchRequest } from '../config/request-schemas.js';
import type { SparseVector } from '../core/sparse-vector.js';
import { bm25Idf } from '../encoders/lexical/bm25.js';
import { applyPrf } from '../search/prf.js';
import type { StoreHit } from '../storage/store-types.js';
import type { CollectionSpec } from './cluster-state.js';
import type { ShardCaller } from './fan-out.js';
import { plain, toSparse } from './shard-search.js';
import type { FeedbackHit, GlobalStats, PlainVector, PrfFeedback, QueryOverride, TermVector } from './wire.js';

/**
 * Whether `req` on `spec` takes the cluster-wide PRF path: not for lexical collections without dfs statistics or
 * without query text (their term ids and IDFs are the shard's own), nor for a search whose hybrid part runs inside
 * each shard (`perShardDense`); there PRF runs inside each shard (docs/CLUSTER.md).
 */
export function prfThroughFanOut(spec: CollectionSpec, req: SearchRequest, perShardDense: boolean): boolean {
  if (req.prf === undefined || perShardDense) return false;
  if (spec.encoder !== 'lexical') return true;
  return spec.cluster.stats === 'dfs' && req.query !== undefined && req.vector === undefined;
}

/**
 * The expanded query of `req` (prf set) as an override for the second round; `stats` are the dfs statistics of a
 * lexical collection. Undefined when the request has no sparse query (nothing to expand).
 */
export async function prfExpandedQuery(
  spec: CollectionSpec,
  caller: ShardCaller,
  req: SearchRequest,
  stats: GlobalStats | undefined,
): Promise<QueryOverride | undefined> {
  const prf = req.prf as NonNullable<SearchRequest['prf']>;
  const k = req.k ?? (spec.config as { search?: { k?: number } }).search?.k ?? 10;
  const first: SearchRequest = {
    ...req,
    prf: undefined,
    offset: undefined,
    trackTotal: undefined,
    explain: undefined,
    highlight: undefined,
  };
  const shards = spec.placement.map((_n, shard) => shard);
  const parts = await Promise.all(
    shards.map((shard) =>
      caller.call<PrfFeedback>(spec, {
        op: 'prfFeedback',
        collection: spec.name,
        shard,
        req: first,
        stats,
        k: Math.max(k, prf.docs),
        docs: prf.docs,
      }),
    ),
  );
  if (parts[0].query === null) return undefined;
  const feedback = mergeFeedback(parts.flatMap((p) => p.hits)).slice(0, prf.docs);
  if (spec.encoder !== 'lexical') {
    const hits: StoreHit[] = feedback.map((h) => ({ id: h.id, score: h.score, vector: toSparse(h.vector as PlainVector) }));
    const expanded = await applyPrf(toSparse(parts[0].query as PlainVector), hits, prf);
    return { vector: plain(expanded) };
  }
  return { terms: await lexicalExpansion(spec, caller, parts, feedback, prf, stats as GlobalStats) };
}

/** Feedback hits of every shard in the single process's order: float32 score descending, then id ascending. */
function mergeFeedback(hits: FeedbackHit[]): FeedbackHit[] {
  return hits.sort((a, b) => Math.fround(b.score) - Math.fround(a.score) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Lexical expansion over terms: the query vector is the union of the shards' (each drops terms its dictionary
 * lacks; a term's dfs weight is the same on every shard), terms get local ids here, feedback terms their
 * collection-wide document frequency, and applyPrf runs with bm25 IDF importance over the collection's N.
 */
async function lexicalExpansion(
  spec: CollectionSpec,
  caller: ShardCaller,
  parts: readonly PrfFeedback[],
  feedback: readonly FeedbackHit[],
  prf: NonNullable<SearchRequest['prf']>,
  stats: GlobalStats,
): Promise<TermVector> {
  const ids = new Map<string, number>();
  const idOf = (t: string) => {
    let id = ids.get(t);
    if (id === undefined) ids.set(t, (id = ids.size));
    return id;
  };
  const queryWeights = new Map<number, number>();
  for (const p of parts) {
    const q = p.query as TermVector;
    q.terms.forEach((t, i) => queryWeights.set(idOf(t), q.values[i]));
  }
  const hits: StoreHit[] = feedback.map((h) => {
    const v = h.vector as TermVector;
    return { id: h.id, score: h.score, vector: sparseOf(new Map(v.terms.map((t, i) => [idOf(t), v.values[i]]))) };
  });
  const terms = [...ids.keys()];
  const dfParts = await Promise.all(
    spec.placement.map((_n, shard) => caller.call<number[]>(spec, { op: 'termDf', collection: spec.name, shard, terms })),
  );
  const df = terms.map((_t, i) => dfParts.reduce((a, p) => a + p[i], 0));
  const importance = (id: number) => (df[id] > 0 ? bm25Idf(stats.numDocs, df[id]) : 0);
  const expanded = await applyPrf(sparseOf(queryWeights), hits, prf, importance);
  return { terms: Array.from(expanded.indices, (id) => terms[id]), values: Array.from(expanded.values) };
}

/** A sparse vector from id → weight, sorted by id. */
function sparseOf(m: Map<number, number>): SparseVector {
  const indices = Uint32Array.from([...m.keys()]).sort();
  return { indices, values: Float32Array.from(indices, (id) => m.get(id) as number) };
}
