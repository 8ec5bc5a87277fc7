/**
 * Hybrid and dense-only retrieval for a collection with a dense part (DESIGN.md §5). Candidates = sparse
 * top-`candidates` (the store's search, filter applied inside) ∪ dense top-`candidates` (the dense part's top-k
 * restricted to the filter's ids); the missing score of each candidate is computed exactly (sparse: dot product
 * with the stored weighted vector, rounded to float32 as the kernels do; dense: exact similarity), then fused
 * (fusion.ts) and cut to k. `candidates` is raised to k when smaller, so alpha = 1 returns the sparse top-k.
 * Dense-only (no sparse query): the dense top-k, score = similarity.
 * Callers: collection.ts `search` (after encoding and PRF).
 */
import { dot, type SparseVector } from '../core/sparse-vector.js';
import type { FilterInput, HybridParams } from '../config/request-schemas.js';
import type { CollectionStore, StoreSearchOptions } from '../storage/store-types.js';
import type { DensePart } from './dense-part.js';
import { fuse, type FusionCandidate } from './fusion.js';

/** One hybrid hit: the final score plus both parts (for explain) and the weighted vector when asked. */
export interface HybridHit {
  id: string;
  score: number;
  sparse: number;
  dense: number | null;
  /** Fused score; absent for dense-only search. */
  fused?: number;
  vector?: SparseVector;
}

/** Hits plus the work counters of the sparse part (as the store reports them). */
export interface HybridResult {
  hits: HybridHit[];
  docsScored: number;
  blocksScored: number;
  blocksSkipped: number;
  exact: boolean;
}

/** Everything one hybrid (or dense-only) search needs. */
export interface HybridInput {
  store: CollectionStore;
  dense: DensePart;
  /** null for dense-only search. */
  sparseQuery: SparseVector | null;
  denseQuery: Float32Array;
  /** The sparse search options (k = final k; filter; withVectors for explain). */
  options: StoreSearchOptions;
  hybrid: HybridParams;
}

function hasClauses(f: FilterInput | null | undefined): f is FilterInput {
  return f != null && ((f.must?.length ?? 0) > 0 || (f.mustNot?.length ?? 0) > 0 || (f.should?.length ?? 0) > 0);
}

/** Runs hybrid (or dense-only) retrieval; see the file header. */
export async function searchHybrid(input: HybridInput): Promise<HybridResult> {
  const { store, dense, sparseQuery, denseQuery, options, hybrid } = input;
  const k = options.k;
  const allowed = hasClauses(options.filter) ? new Set(store.liveIds(options.filter)) : null;
  const withVectors = options.withVectors === true;

  if (sparseQuery === null) {
    const top = await dense.topK(denseQuery, k, allowed);
    const hits: HybridHit[] = top.map((h) => {
      const hit: HybridHit = { id: h.id, score: h.score, sparse: 0, dense: h.score };
      if (withVectors) hit.vector = store.get(h.id)?.vector;
      return hit;
    });
    return { hits, docsScored: top.length, blocksScored: 0, blocksSkipped: 0, exact: true };
  }

  const nCand = Math.max(hybrid.candidates, k);
  // Field by field, not `{ ...options, k }`: V8 allocates object-spread clones in the old generation (collection.ts).
  const { exact, queryCut, heapFactor, nKnn, filter, lane } = options;
  const sparse =
    sparseQuery.indices.length > 0
      ? await store.searchAsync(sparseQuery, { k: nCand, exact, queryCut, heapFactor, nKnn, filter, withVectors, lane })
      : { hits: [], docsScored: 0, blocksScored: 0, blocksSkipped: 0, exact: true };
  const denseTop = await dense.topK(denseQuery, nCand, allowed);

  const byId = new Map<string, FusionCandidate & { vector?: SparseVector }>();
  for (const h of sparse.hits) {
    const c: FusionCandidate & { vector?: SparseVector } = { id: h.id, sparse: h.score, dense: dense.score(denseQuery, h.id) };
    if (h.vector !== undefined) c.vector = h.vector;
    byId.set(h.id, c);
  }
  for (const h of denseTop) {
    if (byId.has(h.id)) continue;
    const doc = store.get(h.id);
    if (doc === undefined) continue;
    const c: FusionCandidate & { vector?: SparseVector } = { id: h.id, sparse: Math.fround(dot(sparseQuery, doc.vector)), dense: h.score };
    if (withVectors) c.vector = doc.vector;
    byId.set(h.id, c);
  }
  const fused = fuse([...byId.values()], hybrid).slice(0, k);
  const hits = fused.map((f) => {
    const hit: HybridHit = { id: f.id, score: f.fused, sparse: f.sparse, dense: f.dense, fused: f.fused };
    const v = byId.get(f.id)?.vector;
    if (withVectors && v !== undefined) hit.vector = v;
    return hit;
  });
  return {
    hits,
    docsScored: sparse.docsScored + denseTop.length,
    blocksScored: sparse.blocksScored,
    blocksSkipped: sparse.blocksSkipped,
    exact: sparse.exact,
  };
}
