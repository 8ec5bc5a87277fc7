/**
 * Search over one consistent view of a collection store: the memtable, the frozen memtable being sealed (if
 * any) and the sealed segments. Each source produces its own top-k (exact memtable search; per segment the
 * selective-filter kernel, the approximate Seismic searcher, or exact term-at-a-time, in segment-search.ts),
 * merged into the global top-k by score descending, then id ascending. `searchView` is synchronous: the view
 * cannot change mid-search. Hit payloads encode (source, ord/slot) as `source · 2^32 + ord` (source 0 memtable,
 * 1 frozen, 2+i segment i) so vectors (and stored fields) can be attached after the merge.
 *
 * A view may be a point in time (store-view.ts): then the memtables are searched through their `MemtableView` and
 * each segment through its deleted bitset of that moment; `options.after` gates every collector (TopK/IdTopK
 * `setAfter`) so a cursor page is the next k after (score, id) of the same ranking. With a search pool
 * (src/segment/search-pool.ts) the resident segments of a live-state search are searched in worker threads by the
 * same per-segment function and merged here the same way; the merge is order-free (score desc, id asc), so 1 and
 * N threads give the same hits and scores. Point-in-time and cursor searches run on this thread.
 * Callers: collection-store.ts, store-view.ts.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { TopK } from '../core/top-k.js';
import type { StoreConfig, StoredFields, StoredFieldSet, StoreHit, StoreSearchOptions, StoreSearchResult } from './store-types.js';
import type { FilterInput } from '../config/request-schemas.js';
import { IdTopK } from '../index/id-top-k.js';
import { weightVector, type Memtable, type MemtableView } from '../segment/memtable.js';
import type { DocWeighting } from '../segment/document-types.js';
import { matchesFilter } from '../filter/metadata-index.js';
import { activeFilter, segmentReader, type LiveSegment } from '../segment/live-segment.js';
import type { SegmentReader } from '../segment/segment-reader.js';
import { searchSegment, type SegmentPartResult, type SegmentSearchOptions } from '../segment/segment-search.js';
import type { SearchPool } from '../segment/search-pool.js';

const SOURCE_STRIDE = 2 ** 32;

/** What a search reads. */
export interface SearchView {
  config: StoreConfig;
  memtable: Memtable;
  frozen: Memtable | null;
  segments: readonly LiveSegment[];
  /** avgdl over live docs, for bm25 weighting of memtable docs and of exactly searched segments. */
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

/** Runs one search over `view` on this thread (see the file comment). */
export function searchView(view: SearchView, query: SparseVector, options: StoreSearchOptions): StoreSearchResult {
  const filter = activeFilter(options.filter);
  const top = new IdTopK(options.k);
  const result = emptyResult();
  if (options.k <= 0 || query.indices.length === 0) return result;
  const after = options.after ?? null;
  if (after !== null) top.setAfter(after.score, after.id);
  searchMemtables(view, query, filter, top, result);
  const merge = new PartMerge(view, top, result);
  const segOptions = segmentOptions(view, options, filter);
  try {
    for (let i = 0; i < view.segments.length; i++) {
      if (liveDocsOf(view, i) > 0) merge.add(i, searchHere(view, i, query, segOptions, after));
    }
  } finally {
    view.segTop.clearAfter();
  }
  return finish(view, merge, result, options);
}

/**
 * `searchView` with the resident segments searched by `pool`'s workers (possibly several at once), the memtables
 * and any parked segment on this thread meanwhile. The view (memtables, segment list, delete bitsets) is taken
 * synchronously before the first await, so the result is the one `searchView` gives at the call, bit for bit.
 * A point-in-time view or a cursor page goes to `searchView`, and so does a search over at most one resident
 * segment that `pool.claimInline` keeps on this thread (an unloaded event loop). Throws BUSY when the pool's queues are full.
 */
export async function searchViewPooled(
  view: SearchView,
  query: SparseVector,
  options: StoreSearchOptions,
  pool: SearchPool,
): Promise<StoreSearchResult> {
  if (view.pit !== undefined || (options.after ?? null) !== null) return searchView(view, query, options);
  const filter = activeFilter(options.filter);
  const top = new IdTopK(options.k);
  const result = emptyResult();
  if (options.k <= 0 || query.indices.length === 0) return result;
  const { segments } = view;
  const pooled: number[] = [];
  const here: number[] = [];
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s.liveDocs === 0) continue;
    (s.resident !== null ? pooled : here).push(i);
  }
  if (options.lane !== undefined) {
    // A batch lane searches here while the lane workers hold their share, then settles the replies they wrote
    // meanwhile, so the lanes waiting on them feed the workers again before this thread searches the next.
    if (pool.laneStaysHere(options.lane)) {
      const r = searchView(view, query, options);
      pool.answerWritten();
      return r;
    }
  } else if (pooled.length <= 1 && pool.claimInline()) {
    // An unloaded event loop answers a lone search over at most one resident segment itself: no trip to a worker
    // and back (search-pool.ts). Over several, idle workers search them side by side.
    return searchView(view, query, options);
  }
  const segOptions = segmentOptions(view, options, filter);
  const pending =
    pooled.length > 0
      ? pool.search(
          pooled.map((i) => segments[i]),
          query,
          segOptions,
          options.lane !== undefined ? pool.laneWorkers : undefined,
        )
      : null;
  searchMemtables(view, query, filter, top, result);
  const merge = new PartMerge(view, top, result);
  for (const i of here) merge.add(i, searchHere(view, i, query, segOptions, null));
  if (pending !== null) {
    const parts = await pending;
    for (let j = 0; j < pooled.length; j++) merge.add(pooled[j], parts[j]);
  }
  return finish(view, merge, result, options);
}

function emptyResult(): StoreSearchResult {
  return { hits: [], docsScored: 0, blocksScored: 0, blocksSkipped: 0, exact: true };
}

/**
 * The per-segment options of a search; `after` is set per segment by `searchHere` (one object per search). bm25:
 * segments searched exactly weight with the view's avgdl, as the memtables do (segment-search.ts).
 */
function segmentOptions(view: SearchView, options: StoreSearchOptions, filter: FilterInput | null): SegmentSearchOptions {
  const w = view.config.weighting;
  const bm25 = w.kind === 'bm25' ? { avgdl: view.avgdl, k1: w.k1, b: w.b } : null;
  return {
    k: options.k,
    exact: options.exact,
    queryCut: options.queryCut,
    heapFactor: options.heapFactor,
    nKnn: options.nKnn,
    filter,
    bm25,
    after: null,
  };
}

function liveDocsOf(view: SearchView, i: number): number {
  return view.pit === undefined ? view.segments[i].liveDocs : view.pit.segLive[i];
}

/** The memtable and the frozen one (through their point-in-time views, if any), searched exactly into `top`. */
function searchMemtables(view: SearchView, query: SparseVector, filter: FilterInput | null, top: IdTopK, result: StoreSearchResult): void {
  const { config, memtable, frozen, avgdl } = view;
  const types = config.metadataTypes;
  // Only a filtered search makes the closure (no allocation per unfiltered search).
  const accept = filter === null ? null : (md: Record<string, unknown> | undefined) => matchesFilter(md, filter, types);
  const pit = view.pit ?? null;
  const memView = pit === null ? null : pit.memtable;
  result.docsScored += memtable.search(
    query,
    config.weighting,
    avgdl,
    top,
    0,
    accept === null ? null : memtable.excludedBy(accept, memView),
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
      accept === null ? null : frozen.excludedBy(accept, frozenView),
      frozenView,
    );
  }
}

/**
 * Segment `i` of the view searched on this thread (segment-search.ts, the same function the workers run), with
 * its deletes as of the view and the cursor gate mapped to its ords (ords are in id order, so "id > after.id" is
 * "ord ≥ the first ord after it").
 */
function searchHere(
  view: SearchView,
  i: number,
  query: SparseVector,
  options: SegmentSearchOptions,
  after: { score: number; id: string } | null,
): SegmentPartResult | null {
  const s = view.segments[i];
  const reader = segmentReader(s);
  if (s.search === null) s.search = { kernels: reader, scratch: null };
  const deleted = view.pit === undefined ? s.bitset : view.pit.segDeleted[i];
  // `options` is this search's own object (segmentOptions), so the gate is set in place: no clone per segment.
  options.after = after === null ? null : { score: after.score, ord: reader.ids.firstOrdAfter(after.id) - 1 };
  return searchSegment(s.search, query, deleted, options, view.segTop);
}

/**
 * The per-segment top-k lists merged into the search's top-k (score descending, id ascending). The first list
 * is held back while nothing else has hits: when it stays the only source (the steady state of a collection: one
 * optimized segment and an empty memtable) its hits are taken as the kernel ranked them — ords best first, ties
 * by ord, which is id order, the merge's own order, with float32 scores as the heap rounds them — instead of
 * ranking them again through the heap (string compares per push, a sort and a copy per hit: ~1.5 µs of a qc 1
 * query, measured). Any second source flushes it into the heap first.
 */
class PartMerge {
  private held: SegmentPartResult | null = null;
  private heldAt = -1;

  constructor(
    private readonly view: SearchView,
    readonly top: IdTopK,
    private readonly result: StoreSearchResult,
  ) {}

  /** Segment `i`'s part (null: nothing of it matched). */
  add(i: number, part: SegmentPartResult | null): void {
    if (part === null) return;
    const result = this.result;
    result.docsScored += part.docsScored;
    result.blocksScored += part.blocksScored;
    result.blocksSkipped += part.blocksSkipped;
    if (part.approximate) result.exact = false;
    if (part.ords.length === 0) return;
    if (this.held === null && this.top.length === 0) {
      this.held = part;
      this.heldAt = i;
      return;
    }
    this.flush();
    this.push(i, part);
  }

  /** The only source's part when one segment alone has hits (its ranking is the merged one), else null: read `top`. */
  only(): SegmentPartResult | null {
    return this.top.length === 0 ? this.held : null;
  }

  /** The held part's segment index (with `only`). */
  get onlyAt(): number {
    return this.heldAt;
  }

  private flush(): void {
    if (this.held === null) return;
    this.push(this.heldAt, this.held);
    this.held = null;
  }

  private push(i: number, part: SegmentPartResult): void {
    const reader = segmentReader(this.view.segments[i]);
    const base = (i + 2) * SOURCE_STRIDE;
    const { ords, scores } = part;
    for (let j = 0; j < ords.length; j++) this.top.push(reader.idAt(ords[j]), scores[j], base + ords[j]);
  }
}

function finish(view: SearchView, merge: PartMerge, result: StoreSearchResult, options: StoreSearchOptions): StoreSearchResult {
  const fields = options.fields ?? null;
  const withVectors = options.withVectors === true;
  const only = merge.only();
  if (only !== null) {
    const at = merge.onlyAt;
    const reader = segmentReader(view.segments[at]);
    const base = (at + 2) * SOURCE_STRIDE;
    const hits: StoreHit[] = new Array(only.ords.length);
    for (let j = 0; j < only.ords.length; j++)
      hits[j] = storeHit(view, reader.idAt(only.ords[j]), only.scores[j], base + only.ords[j], fields, withVectors);
    result.hits = hits;
    return result;
  }
  const sorted = merge.top.sorted();
  const hits: StoreHit[] = new Array(sorted.length);
  for (let j = 0; j < sorted.length; j++) hits[j] = storeHit(view, sorted[j].id, sorted[j].score, sorted[j].payload, fields, withVectors);
  result.hits = hits;
  return result;
}

function storeHit(
  view: SearchView,
  id: string,
  score: number,
  payload: number,
  fields: StoredFieldSet | null,
  withVectors: boolean,
): StoreHit {
  const hit: StoreHit = { id, score };
  if (withVectors) hit.vector = vectorOf(view, payload);
  if (fields !== null) hit.fields = fieldsOf(view, payload, fields);
  return hit;
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
  return segmentVector(segmentReader(view.segments[src - 2]), at, view.config.weighting, view.avgdl);
}

/** A sealed doc's weighted vector: bm25 reweighted from its raw tf with `avgdl`, as exact search scores it. */
export function segmentVector(r: SegmentReader, ord: number, weighting: DocWeighting, avgdl: number): SparseVector {
  return weighting.kind === 'bm25' && r.tf !== null ? weightVector(r.rawVector(ord), r.dl[ord], weighting, avgdl) : r.vector(ord);
}
