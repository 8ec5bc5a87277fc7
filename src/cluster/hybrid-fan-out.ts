/**
 * Hybrid (sparse + dense) and dense-only search over the whole cluster, fused once at the coordinator as one
 * process fuses (src/search/hybrid.ts): one process takes the collection's sparse top `max(candidates, k)` and
 * dense top as many, fills in the other score of each candidate, fuses (minmax/zscore normalisation and RRF ranks
 * are over the whole candidate set, so fusing per shard would not be the same) and cuts to k. Here each shard
 * sends its own two tops with both scores (shard-search.ts `hybrid`); a document in the collection's top is in
 * its shard's top, so the merged tops (score descending, id ascending: the store's and the dense top-k's order)
 * are one process's, and each candidate carries the numbers one process computes for it. The fused hits are then
 * hydrated by the shards that hold them (`hydrate`): stored fields, explanations, highlights.
 * For dense parts whose vectors are the same whichever shard holds a document: stored `dense` vectors and ONNX
 * dense encoders. An `lsa` dense part is fitted per shard (its projections differ), so its hybrid search stays
 * inside each shard (docs/CLUSTER.md). Used by cluster-node.ts.
 */
import { HybridSchema, type SearchRequest } from '../config/request-schemas.js';
import type { SearchHit, SearchResponse } from '../search/collection.js';
import { fuse, type FusionCandidate } from '../search/fusion.js';
import type { CollectionSpec } from './cluster-state.js';
import type { ShardCaller } from './fan-out.js';
import { shardOf } from './placement.js';
import type { GlobalStats, HybridCandidate, HybridCandidates, QueryOverride } from './wire.js';

/** How a search uses the collection's dense part: not at all, fused through the fan-out, or inside each shard. */
export type DenseRoute = 'none' | 'fanOut' | 'perShard';

export function denseRoute(spec: CollectionSpec, req: SearchRequest): DenseRoute {
  const dense = (spec.config as { dense?: { encoder?: string } }).dense;
  if (dense === undefined) return 'none';
  const wantsDense = req.dense !== undefined || (req.query !== undefined && dense.encoder !== undefined);
  // `hybrid` without a dense query: the shard answers one process's INVALID_ARGUMENT.
  if (!wantsDense) return req.hybrid !== undefined ? 'perShard' : 'none';
  return dense.encoder === 'lsa' ? 'perShard' : 'fanOut';
}

interface Fused {
  id: string;
  score: number;
  sparse: number;
  dense: number | null;
  fused?: number;
}

/** One hybrid (or dense-only) search through the fan-out; see the file header. */
export async function hybridSearch(
  spec: CollectionSpec,
  caller: ShardCaller,
  req: SearchRequest,
  extra: { stats?: GlobalStats; override?: QueryOverride },
): Promise<SearchResponse> {
  const t0 = performance.now();
  const offset = req.offset ?? 0;
  const k = req.k ?? (spec.config as { search?: { k?: number } }).search?.k ?? 10;
  const shards = spec.placement.map((_n, shard) => shard);
  const parts = await Promise.all(
    shards.map((shard) => caller.call<HybridCandidates>(spec, { op: 'hybrid', collection: spec.name, shard, req, ...extra })),
  );
  const t1 = performance.now();
  const all = parts.flatMap((p) => p.candidates);
  let fused: Fused[];
  if (!parts[0].hasSparse) {
    fused = top(all, 'denseTop', offset + k).map((c) => ({
      id: c.id,
      score: c.denseTop as number,
      sparse: 0,
      dense: c.denseTop as number,
    }));
  } else {
    const params = req.hybrid ?? HybridSchema.parse({});
    const nCand = Math.max(params.candidates, offset + k);
    // In one process's insertion order: the sparse top, then the dense top's other documents (the order feeds
    // the zscore sums, so it is kept).
    const byId = new Map<string, FusionCandidate>();
    for (const c of top(all, 'sparse', nCand)) byId.set(c.id, { id: c.id, sparse: c.sparse as number, dense: c.dense ?? null });
    for (const c of top(all, 'denseTop', nCand)) {
      if (!byId.has(c.id) && c.dot !== undefined) byId.set(c.id, { id: c.id, sparse: c.dot, dense: c.denseTop as number });
    }
    fused = fuse([...byId.values()], params)
      .slice(0, offset + k)
      .map((f) => ({ id: f.id, score: f.fused, sparse: f.sparse, dense: f.dense, fused: f.fused }));
  }
  const hits = await hydrate(spec, caller, req, extra, fused.slice(offset));
  const out: SearchResponse = {
    hits,
    took: { totalMs: ms(performance.now() - t0), encodeMs: 0, searchMs: ms(t1 - t0) },
    stats: {
      docsScored: parts.reduce((a, p) => a + p.work.docsScored, 0),
      blocksScored: parts.reduce((a, p) => a + p.work.blocksScored, 0),
      blocksSkipped: parts.reduce((a, p) => a + p.work.blocksSkipped, 0),
      exact: parts.every((p) => p.work.exact),
    },
    // A warning every shard gives (no query term known anywhere) is the collection's.
    warnings: parts[0].warnings.filter((w) => parts.every((p) => p.warnings.includes(w))),
    // Hybrid pages continue by offset only, as in one process.
    nextCursor: null,
  };
  // As one process: a hybrid search's docsScored is a lower bound of the matches.
  if (req.trackTotal === true) out.total = { value: out.stats.docsScored, relation: 'gte' };
  return out;
}

/** The best `n` candidates carrying `key`, score descending then id ascending. */
function top(all: readonly HybridCandidate[], key: 'sparse' | 'denseTop', n: number): HybridCandidate[] {
  return all
    .filter((c) => c[key] !== undefined)
    .sort((a, b) => (b[key] as number) - (a[key] as number) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, n);
}

/** The kept hits, hydrated by their shards, with the fused score and its parts in `explain`. */
async function hydrate(
  spec: CollectionSpec,
  caller: ShardCaller,
  req: SearchRequest,
  extra: { stats?: GlobalStats; override?: QueryOverride },
  kept: readonly Fused[],
): Promise<SearchHit[]> {
  const byShard = new Map<number, Fused[]>();
  for (const f of kept) {
    const shard = shardOf(f.id, spec.cluster.shards);
    let list = byShard.get(shard);
    if (list === undefined) byShard.set(shard, (list = []));
    list.push(f);
  }
  const hydrated = new Map<string, SearchHit>();
  await Promise.all(
    [...byShard].map(async ([shard, list]) => {
      const hits = await caller.call<SearchHit[]>(spec, {
        op: 'hydrate',
        collection: spec.name,
        shard,
        req,
        ...extra,
        hits: list.map((f) => ({ id: f.id, sparse: f.sparse })),
      });
      for (const h of hits) hydrated.set(h.id, h);
    }),
  );
  return kept.map((f) => {
    const hit = hydrated.get(f.id) ?? { id: f.id, score: f.sparse };
    hit.score = f.score;
    if (hit.explain) {
      if (f.dense !== null) hit.explain.dense = f.dense;
      if (f.fused !== undefined) hit.explain.fused = f.fused;
    }
    return hit;
  });
}

function ms(x: number): number {
  return Math.round(x * 1000) / 1000;
}
