/**
 * The shard side of the searches that take more than one fan-out round (PRF and hybrid, issue 17: "PRF and
 * hybrid run their second round through the same fan-out"), answered by shard-rpc.ts from the node's local
 * replica collection. Every step resolves the sparse query the way the single process does (collection.ts
 * `search`): a coordinator override first (PRF's expanded query), else with the collection-wide statistics of a
 * `dfs` round (lexical), else the shard's own encoding; and builds the store options the same way. What one
 * process computes over the whole collection is computed here over the shard and merged by the coordinator:
 * - `prfFeedback`: the first PRF round's best `docs` hits with their weighted vectors (lexical vectors as terms,
 *   their ids being per shard) and the query vector;
 * - `termDf`: document frequencies of the feedback terms (the collection-wide IDF weighs lexical feedback);
 * - `hybrid`: the shard's sparse and dense top candidates with both scores (hybrid-fan-out.ts fuses them);
 * - `hydrate`: the hits the coordinator kept, with their stored fields, explanations and highlights.
 */
import { dot, EMPTY_VECTOR, type SparseVector } from '../core/sparse-vector.js';
import { invalidArgument } from '../core/errors.js';
import type { FilterInput, SearchRequest } from '../config/request-schemas.js';
import { analyzeQuery } from '../encoders/lexical/lexical-encoder.js';
import type { Collection, SearchHit, SearchResponse } from '../search/collection.js';
import { fetchedFields, storedFieldSet } from '../search/search-page.js';
import type { SpladexService } from '../search/spladex-service.js';
import { lexicalQueryVector } from '../search/text-binding.js';
import { resolveVector } from '../search/vector-input.js';
import type { Dictionary, StoreSearchOptions } from '../storage/store-types.js';
import type {
  FeedbackHit,
  GlobalStats,
  HybridCandidate,
  HybridCandidates,
  PlainVector,
  PrfFeedback,
  ShardRequest,
  ShardSearchParts as Parts,
  TermVector,
} from './wire.js';

/** Analyzed query terms with their counts; INVALID_ARGUMENT past maxQueryTerms, as one process answers. */
export function queryCounts(local: SpladexService, text: string): Map<string, number> {
  const counts = analyzeQuery(text, local.limits.maxQueryTerms);
  if (counts === null)
    throw invalidArgument('query', `at most ${local.limits.maxQueryTerms} distinct terms (maxQueryTerms); this text has more`);
  return counts;
}

/** `stats` as the term statistics lexicalQueryVector reads, over this shard's dictionary. */
function globalTermStats(dict: Dictionary, stats: GlobalStats) {
  return {
    numDocs: stats.numDocs,
    avgdl: stats.avgdl,
    df: (id: number) => {
      const term = dict.term(id);
      return term === undefined ? 0 : (stats.df[term] ?? 0);
    },
  };
}

/** Lexical collections answer in terms; the others in ids. */
function lexicalDict(c: Collection): Dictionary | null {
  return c.config.encoder === 'lexical' ? (c.store.dictionary ?? null) : null;
}

/**
 * The sparse query of a shard-side search step, null when the request has none (dense-only): the override, the
 * dfs-weighted lexical query, the given vector or the encoded text, in that order (collection.ts `search`).
 */
export async function sparseQueryOf(local: SpladexService, c: Collection, p: Parts): Promise<SparseVector | null> {
  const dict = lexicalDict(c);
  if (p.override?.terms !== undefined) return dict === null ? EMPTY_VECTOR : fromTerms(p.override.terms, dict);
  if (p.override?.vector !== undefined) return toSparse(p.override.vector);
  if (p.stats !== undefined && dict !== null && p.req.query !== undefined && p.req.vector === undefined) {
    return lexicalQueryVector(queryCounts(local, p.req.query), dict, globalTermStats(dict, p.stats));
  }
  if (p.req.vector !== undefined) return resolveVector(p.req.vector, c.binding.vocab, 'vector').vector;
  if (p.req.query !== undefined && c.binding.acceptsText) {
    return c.binding.encodeQuery(p.req.query, { maxTerms: local.limits.maxQueryTerms, field: 'query' });
  }
  return null;
}

/** The store options one process builds for `req` (collection.ts `search`), with `k` and `withVectors` given. */
export function storeOptions(c: Collection, req: SearchRequest, k: number, withVectors: boolean, avgdl?: number): StoreSearchOptions {
  const target = req.params?.targetRecall ?? c.config.search.targetRecall;
  const tuned = target != null ? c.store.tunedFor(target) : null;
  const o: StoreSearchOptions = {
    k,
    exact: req.params?.exact ?? false,
    queryCut: req.params?.queryCut ?? tuned?.queryCut ?? c.config.search.queryCut,
    heapFactor: req.params?.heapFactor ?? tuned?.heapFactor ?? c.config.search.heapFactor,
    nKnn: req.params?.nKnn ?? c.config.index.nKnn,
    filter: req.filter ?? null,
    withVectors,
    fields: null,
  };
  if (avgdl !== undefined) o.avgdl = avgdl;
  return o;
}

/** Checks the filter against the shard's declared metadata (INVALID_ARGUMENT as one process answers). */
function checkFilter(c: Collection, filter: FilterInput | undefined): void {
  if (filter !== undefined) c.count(filter);
}

/** An ordinary shard search, with the coordinator's override or dfs statistics when given. */
export async function shardSearch(local: SpladexService, name: string, p: Parts): Promise<SearchResponse> {
  if (p.after !== undefined) return searchAfterOnShard(local, name, p, p.after);
  if (p.override === undefined && (p.stats === undefined || p.req.query === undefined)) return local.search(name, p.req);
  const c = local.openCollectionHandle(name);
  if (p.override === undefined && lexicalDict(c) === null) return local.search(name, p.req);
  const queryVector = (await sparseQueryOf(local, c, p)) ?? EMPTY_VECTOR;
  return c.search(p.req, p.stats === undefined ? { queryVector } : { queryVector, avgdl: p.stats.avgdl });
}

/**
 * The shard's next k after (score, id) on its current state, hydrated (collection.ts `searchAfter`, without
 * its pinned view: cluster cursors are stateless, cluster-paging.ts).
 */
async function searchAfterOnShard(
  local: SpladexService,
  name: string,
  p: Parts,
  after: { score: number; id: string },
): Promise<SearchResponse> {
  const t0 = performance.now();
  const c = local.openCollectionHandle(name);
  checkFilter(c, p.req.filter);
  // PRF through the fan-out sends its expanded query; PRF inside each shard (lexical with stats "shard") has no
  // cursor across shards.
  if (p.req.prf !== undefined && p.override === undefined) {
    throw invalidArgument('searchAfter', 'not with prf on a lexical collection with stats "shard" in cluster mode: page by offset');
  }
  const query = (await sparseQueryOf(local, c, p)) ?? EMPTY_VECTOR;
  const shown = storedFieldSet(p.req.include);
  const options = storeOptions(c, p.req, p.req.k ?? c.config.search.k, p.req.explain === true, p.stats?.avgdl);
  options.after = after;
  const want = fetchedFields(shown, p.req.highlight?.fields);
  options.fields = want;
  const r = await c.store.searchAsync(query, options);
  const t1 = performance.now();
  return {
    hits: r.hits.map((h) => c.hydrate(h, p.req, shown, want, query)),
    took: { totalMs: ms(performance.now() - t0), encodeMs: 0, searchMs: ms(t1 - t0) },
    stats: { docsScored: r.docsScored, blocksScored: r.blocksScored, blocksSkipped: r.blocksSkipped, exact: r.exact },
    warnings: [],
    nextCursor: null,
  };
}

function ms(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The first PRF round on this shard: its best `docs` hits of a k = max(k, docs) search, with vectors. */
export async function prfFeedback(
  local: SpladexService,
  name: string,
  p: Extract<ShardRequest, { op: 'prfFeedback' }>,
): Promise<PrfFeedback> {
  const c = local.openCollectionHandle(name);
  checkFilter(c, p.req.filter);
  const query = await sparseQueryOf(local, c, p);
  if (query === null) return { query: null, hits: [] };
  const dict = lexicalDict(c);
  const r = await c.store.searchAsync(query, storeOptions(c, p.req, p.k, true, p.stats?.avgdl));
  const hits: FeedbackHit[] = r.hits.slice(0, p.docs).map((h) => {
    const v = h.vector ?? EMPTY_VECTOR;
    return { id: h.id, score: h.score, vector: dict === null ? plain(v) : toTerms(v, dict) };
  });
  return { query: dict === null ? plain(query) : toTerms(query, dict), hits };
}

/** Live document frequency of each term on this shard (0 when unknown). */
export function termDf(local: SpladexService, name: string, terms: readonly string[]): number[] {
  const store = local.openCollectionHandle(name).store;
  const dict = store.dictionary;
  const ts = store.termStats();
  return terms.map((t) => {
    const id = dict?.get(t);
    return id === undefined ? 0 : ts.df(id);
  });
}

/**
 * The shard's hybrid candidates (hybrid.ts `searchHybrid` before fusion): its sparse top `max(candidates, k)`
 * with the dense similarity of each, and its dense top as many with the sparse score computed from the stored
 * vector; dense-only (no sparse query): its dense top k.
 */
export async function hybridCandidates(
  local: SpladexService,
  name: string,
  p: Extract<ShardRequest, { op: 'hybrid' }>,
): Promise<HybridCandidates> {
  const c = local.openCollectionHandle(name);
  const dense = c.dense;
  if (dense === null) throw invalidArgument('dense', 'this collection has no dense part (declare "dense" at creation)');
  checkFilter(c, p.req.filter);
  const denseQuery = await denseQueryOf(c, p.req);
  if (denseQuery === null)
    throw invalidArgument('hybrid', 'needs a dense query: send "dense", or query text to a collection with a dense encoder');
  const k = (p.req.offset ?? 0) + (p.req.k ?? c.config.search.k);
  const filter = p.req.filter;
  const hasFilter =
    filter !== undefined && ((filter.must?.length ?? 0) > 0 || (filter.mustNot?.length ?? 0) > 0 || (filter.should?.length ?? 0) > 0);
  const allowed = hasFilter ? new Set(c.store.liveIds(filter)) : null;
  const sparseQuery = await sparseQueryOf(local, c, p);
  const warnings: string[] = [];
  if (sparseQuery === null) {
    const top = await dense.topK(denseQuery, k, allowed);
    return {
      candidates: top.map((h) => ({ id: h.id, denseTop: h.score })),
      hasSparse: false,
      work: { docsScored: top.length, blocksScored: 0, blocksSkipped: 0, exact: true },
      warnings,
    };
  }
  if (sparseQuery.indices.length === 0) warnings.push('the query has no terms known to this collection');
  const nCand = Math.max(p.req.hybrid?.candidates ?? 100, k);
  const sparse =
    sparseQuery.indices.length > 0
      ? await c.store.searchAsync(sparseQuery, storeOptions(c, p.req, nCand, false, p.stats?.avgdl))
      : { hits: [], docsScored: 0, blocksScored: 0, blocksSkipped: 0, exact: true };
  const denseTop = await dense.topK(denseQuery, nCand, allowed);
  const byId = new Map<string, HybridCandidate>();
  for (const h of sparse.hits) byId.set(h.id, { id: h.id, sparse: h.score, dense: dense.score(denseQuery, h.id) });
  for (const h of denseTop) {
    const doc = c.store.get(h.id);
    if (doc === undefined) continue;
    const cand = byId.get(h.id) ?? { id: h.id };
    cand.dot = Math.fround(dot(sparseQuery, doc.vector));
    cand.denseTop = h.score;
    byId.set(h.id, cand);
  }
  return {
    candidates: [...byId.values()],
    hasSparse: true,
    work: {
      docsScored: sparse.docsScored + denseTop.length,
      blocksScored: sparse.blocksScored,
      blocksSkipped: sparse.blocksSkipped,
      exact: sparse.exact,
    },
    warnings,
  };
}

/** The dense query of a hybrid request: given (its length checked), or the query text through the dense encoder. */
async function denseQueryOf(c: Collection, req: SearchRequest): Promise<Float32Array | null> {
  const dense = c.dense;
  if (dense === null) return null;
  if (req.dense !== undefined) {
    if (req.dense.length !== dense.dim) throw invalidArgument('dense', `expected ${dense.dim} values, got ${req.dense.length}`);
    return Float32Array.from(req.dense);
  }
  return req.query !== undefined ? dense.encodeQuery(req.query) : null;
}

/** The kept hits of this shard hydrated as one process does (score = the sparse score; the coordinator sets the fused one). */
export async function hydrateHits(local: SpladexService, name: string, p: Extract<ShardRequest, { op: 'hydrate' }>): Promise<SearchHit[]> {
  const c = local.openCollectionHandle(name);
  const query = (await sparseQueryOf(local, c, p)) ?? EMPTY_VECTOR;
  const shown = storedFieldSet(p.req.include);
  const want = fetchedFields(shown, p.req.highlight?.fields);
  return p.hits.map((h) => {
    const vector = p.req.explain === true ? c.store.get(h.id)?.vector : undefined;
    return c.hydrate(
      vector === undefined ? { id: h.id, score: h.sparse } : { id: h.id, score: h.sparse, vector },
      p.req,
      shown,
      want,
      query,
    );
  });
}

export function plain(v: SparseVector): PlainVector {
  return { indices: Array.from(v.indices), values: Array.from(v.values) };
}

export function toSparse(v: PlainVector): SparseVector {
  return { indices: Uint32Array.from(v.indices), values: Float32Array.from(v.values) };
}

function toTerms(v: SparseVector, dict: Dictionary): TermVector {
  const terms: string[] = [];
  const values: number[] = [];
  for (let i = 0; i < v.indices.length; i++) {
    const t = dict.term(v.indices[i]);
    if (t === undefined) continue;
    terms.push(t);
    values.push(v.values[i]);
  }
  return { terms, values };
}

/** A term-keyed vector in this shard's ids, sorted; terms this shard has never seen are dropped (they score 0 here). */
function fromTerms(tv: TermVector, dict: Dictionary): SparseVector {
  const pairs: [number, number][] = [];
  tv.terms.forEach((t, i) => {
    const id = dict.get(t);
    if (id !== undefined) pairs.push([id, tv.values[i]]);
  });
  pairs.sort((a, b) => a[0] - b[0]);
  return { indices: Uint32Array.from(pairs.map((x) => x[0])), values: Float32Array.from(pairs.map((x) => x[1])) };
}
