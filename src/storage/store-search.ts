/**
 * Search over one consistent view of a collection store: the memtable, the frozen memtable being sealed (if
 * any) and the sealed segments. Each source produces its own top-k (exact memtable search; per segment the
 * selective-filter kernel, the approximate Seismic searcher, or exact term-at-a-time), merged into the global
 * top-k by score descending, then id ascending. Synchronous: the caller's view cannot change mid-search.
 * Hit payloads encode (source, ord/slot) as `source · 2^32 + ord` (source 0 memtable, 1 frozen, 2+i segment i)
 * so vectors (and, for point-in-time views, stored fields) can be attached after the merge. A view may be a point
 * in time (store-view.ts): then the memtables are searched through their `MemtableView` and each segment through
 * its deleted bitset of that moment. `options.after` gates every collector (TopK/IdTopK `setAfter`) so a cursor
 * page is the next k after (score, id) of the same ranking. Callers: collection-store.ts, store-view.ts.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { TopK } from '../core/top-k.js';
import type { StoreConfig, StoredFields, StoredFieldSet, StoreHit, StoreSearchOptions, StoreSearchResult } from './store-types.js';
import { IdTopK } from '../index/id-top-k.js';
import type { Memtable, MemtableView } from '../segment/memtable.js';
import { createExactScratch, taatSearch } from '../index/exact-search.js';
import { clearOrds, countBits, matchesFilter } from '../filter/metadata-index.js';
import { filteredExactSearch, SELECTIVE_FILTER_MAX_DOCS } from '../filter/filtered-search.js';
import { activeFilter, segmentExcluded, segmentReader, type LiveSegment } from '../segment/live-segment.js';

const SOURCE_STRIDE = 2 ** 32;

/** What a search reads. */
export interface SearchView {
  config: StoreConfig;
  memtable: Memtable;
  frozen: Memtable | null;
  segments: readonly LiveSegment[];
  /** avgdl over live docs, for bm25 weighting of memtable docs. */
  avgdl: number;
  /** Reusable per-segment collector. */
  segTop: TopK;
  /** Point-in-time parts (store-view.ts); absent = the live state. */
  pit?: PointInTime;
}

/** A view's state at one moment: memtable views, and per segment its deleted bitset and live count then. */
export interface PointInTime {
  memtable: MemtableView;
  frozen: MemtableView | null;
  segDeleted: (Uint32Array | null)[];
  segLive: number[];
}

/** Runs one search over `view` (see the file comment). */
export function searchView(view: SearchView, query: SparseVector, options: StoreSearchOptions): StoreSearchResult {
  const { config, memtable, frozen, segments, avgdl, segTop } = view;
  const filter = activeFilter(options.filter);
  const k = options.k;
  const top = new IdTopK(k);
  const result: StoreSearchResult = { hits: [], docsScored: 0, blocksScored: 0, blocksSkipped: 0, exact: true };
  if (k <= 0 || query.indices.length === 0) return result;
  const types = config.metadataTypes;
  const accept = (md: Record<string, unknown> | undefined) => filter === null || matchesFilter(md, filter, types);
  const pit = view.pit ?? null;
  const after = options.after ?? null;
  if (after !== null) top.setAfter(after.score, after.id);
  const memView = pit === null ? null : pit.memtable;
  result.docsScored += memtable.search(
    query,
    config.weighting,
    avgdl,
    top,
    0,
    filter === null ? null : memtable.excludedBy(accept, memView),
    memView,
  );
  if (frozen !== null) {
    const frozenView = pit === null ? null : pit.frozen;
    result.docsScored += frozen.search(
      query,
      config.weighting,
      avgdl,
      top,
      SOURCE_STRIDE,
      filter === null ? null : frozen.excludedBy(accept, frozenView),
      frozenView,
    );
  }
  try {
    for (let i = 0; i < segments.length; i++) searchSegment(view, i, query, options, filter, top, result);
  } finally {
    segTop.clearAfter();
  }
  result.hits = top.sorted().map((h) => {
    const hit: StoreHit = { id: h.id, score: h.score };
    if (options.withVectors === true) hit.vector = vectorOf(view, h.payload);
    if (options.fields !== undefined) hit.fields = fieldsOf(view, h.payload, options.fields);
    return hit;
  });
  return result;
}

/** Searches segment `i` of `view` into `top` (see the file comment). */
function searchSegment(
  view: SearchView,
  i: number,
  query: SparseVector,
  options: StoreSearchOptions,
  filter: ReturnType<typeof activeFilter>,
  top: IdTopK,
  result: StoreSearchResult,
): void {
  const { segments, segTop } = view;
  const k = options.k;
  const pit = view.pit ?? null;
  const after = options.after ?? null;
  const s = segments[i];
  const deleted = pit === null ? s.bitset : pit.segDeleted[i];
  if ((pit === null ? s.liveDocs : pit.segLive[i]) === 0) return;
  const base = (i + 2) * SOURCE_STRIDE;
  const reader = segmentReader(s);
  const n = reader.numDocs;
  // The segment's kernels speak its local term ids (term-remap.ts); terms it lacks match none of its docs.
  const local = reader.localQuery(query);
  if (local.indices.length === 0) return;
  // Ords are in id order, so "id > after.id" is "ord ≥ the first ord after it" (TopK's gate is on ords).
  const afterOrd = after === null ? -1 : reader.ids.firstOrdAfter(after.id) - 1;
  if (after !== null) segTop.setAfter(after.score, afterOrd);
  else segTop.clearAfter();
  const excluded = filter === null ? deleted : segmentExcluded(s, filter, deleted);
  if (s.scratch === null) s.scratch = createExactScratch(n, reader.postings.numTerms);
  if (filter !== null && excluded !== null) {
    const accepted = n - countBits(excluded, n);
    if (accepted === 0) return;
    if (accepted <= SELECTIVE_FILTER_MAX_DOCS) {
      // Selective filter: score exactly the accepted docs (exact, and cheaper than any traversal).
      const r = filteredExactSearch(reader.forward, local, clearOrds(excluded, n), k, s.scratch.dense, segTop);
      result.docsScored += r.docsScored;
      for (let j = 0; j < r.ords.length; j++) top.push(reader.idAt(r.ords[j]), r.scores[j], base + r.ords[j]);
      return;
    }
  }
  const approx = reader.approximate;
  if (!options.exact && approx !== null) {
    const r = approx.search(local, {
      k,
      queryCut: options.queryCut,
      heapFactor: options.heapFactor,
      nKnn: options.nKnn,
      excluded,
      after: after === null ? null : { score: after.score, ord: afterOrd },
    });
    result.docsScored += r.docsScored;
    result.blocksScored += r.blocksScored;
    result.blocksSkipped += r.blocksSkipped;
    result.exact = false;
    for (let j = 0; j < r.ords.length; j++) top.push(reader.idAt(r.ords[j]), r.scores[j], base + r.ords[j]);
    return;
  }
  segTop.reset(k);
  result.docsScored += taatSearch(reader.postings, local, excluded, s.scratch, segTop);
  const { keys, scores } = segTop.drain();
  for (let j = 0; j < keys.length; j++) top.push(reader.idAt(keys[j]), scores[j], base + keys[j]);
}

/** The stored fields behind a hit payload, as of the view (memtable slots and segment ords never change). */
function fieldsOf(view: SearchView, payload: number, want: StoredFieldSet): StoredFields {
  const src = Math.floor(payload / SOURCE_STRIDE);
  const at = payload - src * SOURCE_STRIDE;
  if (src <= 1) {
    const m = src === 0 ? view.memtable : (view.frozen as Memtable);
    const f = m.fieldsOf(at);
    const out: StoredFields = {};
    if (want.title && f.title !== undefined) out.title = f.title;
    if (want.text && f.text !== undefined) out.text = f.text;
    if (want.metadata && f.metadata !== undefined) out.metadata = f.metadata;
    return out;
  }
  return segmentReader(view.segments[src - 2]).fieldsOf(at, (want.title ? 1 : 0) | (want.text ? 2 : 0) | (want.metadata ? 4 : 0));
}

/** The weighted vector behind a hit payload. */
function vectorOf(view: SearchView, payload: number): SparseVector {
  const src = Math.floor(payload / SOURCE_STRIDE);
  const at = payload - src * SOURCE_STRIDE;
  if (src === 0) return view.memtable.weightedVector(at, view.config.weighting, view.avgdl);
  if (src === 1 && view.frozen !== null) return view.frozen.weightedVector(at, view.config.weighting, view.avgdl);
  return segmentReader(view.segments[src - 2]).vector(at);
}
