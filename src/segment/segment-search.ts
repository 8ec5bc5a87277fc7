/**
 * The search of one sealed segment, as one function both threads run: store-search.ts on the main thread (one
 * search thread, or a segment not handed to the pool) and search-worker.ts in each search worker. Same kernels,
 * same inputs, same code ⇒ the same ords and scores bit for bit, so the merged top-k does not depend on which
 * thread searched which segment.
 *
 * Per segment: the query is translated to the segment's local term ids (term-remap.ts; terms it lacks match none
 * of its docs); a filter becomes an excluded bitset (docs failing it, OR deleted); a selective filter scores the
 * accepted docs directly (filtered-search.ts), otherwise the Seismic searcher runs (`exact: false` and the
 * segment has one) or exact term-at-a-time search. bm25 segments searched exactly weight each posting from its
 * raw tf with the search's avgdl (`options.bm25`; the selective-filter kernel too), so exact BM25 does not depend on when a doc was sealed; the Seismic path scores with
 * the weights baked at the segment's build (its blocks and summaries are built from them). `deletes` is the delete bitset the caller took for this query
 * (never mutated afterwards: live-segment.ts `publishedDeletes` copies on write), so a worker sees exactly the
 * deletes the main thread saw when it dispatched the query.
 */
import type { FilterInput } from '../config/request-schemas.js';
import { vectorScratch, type SparseVector, type VectorScratch } from '../core/sparse-vector.js';
import type { TopK } from '../core/top-k.js';
import { clearOrds, countBits, evaluateFilter } from '../filter/metadata-index.js';
import { filteredExactSearch, SELECTIVE_FILTER_MAX_DOCS } from '../filter/filtered-search.js';
import { createExactScratch, taatSearch, taatSearchBm25, type Bm25Params, type ExactScratch } from '../index/exact-search.js';
import { buildLocalMap, toLocalQuery } from './term-remap.js';
import type { SegmentKernels } from './segment-reader.js';

/** Per-query knobs of a segment search (the store's search options minus what only the merge needs). */
export interface SegmentSearchOptions {
  k: number;
  exact: boolean;
  queryCut: number;
  heapFactor: number;
  nKnn: number;
  /** An active filter (at least one clause), or null. */
  filter: FilterInput | null;
  /** bm25 collections: k1, b and the avgdl exact search weights with (the store's, or cluster `dfs`'s); else absent. */
  bm25?: Bm25Params | null;
  /**
   * Cursor pages (store-view.ts): only hits ranking after (score, ord) — ords are in id order, so the caller maps
   * the cursor's id to this segment's ord. Absent or null: no gate.
   */
  after?: { score: number; ord: number } | null;
}

/** One segment's top-k: ords best first (ties: ord ascending) and their scores, plus work counters. */
export interface SegmentPartResult {
  ords: Int32Array;
  scores: Float32Array;
  docsScored: number;
  blocksScored: number;
  blocksSkipped: number;
  /** Whether the Seismic searcher answered (the merged result is then not exact). */
  approximate: boolean;
}

/** A segment's per-thread search state: its kernels and lazily allocated exact-search scratch. */
export interface SegmentSearchState {
  kernels: SegmentKernels;
  scratch: ExactScratch | null;
  /** Collection → local term id table (term-remap.ts `buildLocalMap`; null: binary search), built on first use. */
  localMap?: Int32Array | null;
  /** Where the query's remap is written (term-remap.ts), made on first use: the local query lives one search. */
  localQuery?: VectorScratch;
}

/**
 * Searches one segment (see the file comment); null when nothing of it can match (no shared term, or a filter
 * that accepts none of its docs). `segTop` is the thread's reusable collector.
 */
export function searchSegment(
  state: SegmentSearchState,
  query: SparseVector,
  deletes: Uint32Array | null,
  options: SegmentSearchOptions,
  segTop: TopK,
): SegmentPartResult | null {
  const { kernels } = state;
  const n = kernels.forward.numDocs;
  if (state.localMap === undefined) state.localMap = kernels.terms === null ? null : buildLocalMap(kernels.terms);
  if (state.localQuery === undefined) state.localQuery = vectorScratch();
  const local = toLocalQuery(kernels.terms, query, state.localMap, state.localQuery);
  if (local.indices.length === 0) return null;
  const { filter, k } = options;
  const after = options.after ?? null;
  if (after !== null) segTop.setAfter(after.score, after.ord);
  else segTop.clearAfter();
  const excluded = filter === null ? deletes : excludedBy(kernels, filter, deletes);
  if (state.scratch === null) state.scratch = createExactScratch(n, kernels.postings.numTerms);
  // At the avgdl of the build, the baked weights are these weights (the same float32 expression): the plain kernel.
  const bm25 = options.bm25 ?? null;
  const raw = bm25 === null || bm25.avgdl === kernels.avgdl ? null : kernels.bm25;
  if (filter !== null && excluded !== null) {
    const accepted = n - countBits(excluded, n);
    if (accepted === 0) return null;
    if (accepted <= SELECTIVE_FILTER_MAX_DOCS) {
      // Selective filter: score exactly the accepted docs (exact, and cheaper than any traversal).
      const reweigh = raw !== null && bm25 !== null && kernels.tf !== null ? { tf: kernels.tf, dl: raw.dl, params: bm25 } : null;
      const r = filteredExactSearch(kernels.forward, local, clearOrds(excluded, n), k, state.scratch.dense, segTop, reweigh);
      return { ords: r.ords, scores: r.scores, docsScored: r.docsScored, blocksScored: 0, blocksSkipped: 0, approximate: false };
    }
  }
  const approx = kernels.approximate;
  if (!options.exact && approx !== null) {
    const r = approx.search(local, {
      k,
      queryCut: options.queryCut,
      heapFactor: options.heapFactor,
      nKnn: options.nKnn,
      excluded,
      after,
    });
    return {
      ords: r.ords,
      scores: r.scores,
      docsScored: r.docsScored,
      blocksScored: r.blocksScored,
      blocksSkipped: r.blocksSkipped,
      approximate: true,
    };
  }
  segTop.reset(k);
  const docsScored =
    raw !== null && bm25 !== null
      ? taatSearchBm25(kernels.postings, raw, bm25, local, excluded, state.scratch, segTop)
      : taatSearch(kernels.postings, local, excluded, state.scratch, segTop);
  const { keys, scores } = segTop.drain();
  return { ords: keys, scores, docsScored, blocksScored: 0, blocksSkipped: 0, approximate: false };
}

/** Docs failing `filter`, OR deleted: a fresh bitset (live-segment.ts `segmentExcluded` over the kernels). */
export function excludedBy(kernels: SegmentKernels, filter: FilterInput, deletes: Uint32Array | null): Uint32Array {
  const n = kernels.forward.numDocs;
  const md = kernels.metadata ?? { numDocs: n, keyword: new Map(), number: new Map() };
  const x = evaluateFilter(md, filter, n);
  if (deletes !== null) for (let w = 0; w < x.length; w++) x[w] |= deletes[w];
  return x;
}
