/**
 * Search over one consistent view of a collection store: the memtable, the frozen memtable being sealed (if
 * any) and the sealed segments. Each source produces its own top-k (exact memtable search; per segment the
 * selective-filter kernel, the approximate Seismic searcher, or exact term-at-a-time), merged into the global
 * top-k by score descending, then id ascending. Synchronous: the caller's view cannot change mid-search.
 * Hit payloads encode (source, ord/slot) as `source · 2^32 + ord` (source 0 memtable, 1 frozen, 2+i segment i)
 * so vectors can be attached after the merge. Callers: collection-store.ts.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { TopK } from '../core/top-k.js';
import type { StoreConfig, StoredFields, StoredFieldSet, StoreHit, StoreSearchOptions, StoreSearchResult } from './store-types.js';
import { IdTopK } from '../index/id-top-k.js';
import type { Memtable } from '../segment/memtable.js';
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
  result.docsScored += memtable.search(query, config.weighting, avgdl, top, 0, filter === null ? null : memtable.excludedBy(accept));
  if (frozen !== null) {
    result.docsScored += frozen.search(
      query,
      config.weighting,
      avgdl,
      top,
      SOURCE_STRIDE,
      filter === null ? null : frozen.excludedBy(accept),
    );
  }
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s.liveDocs === 0) continue;
    const base = (i + 2) * SOURCE_STRIDE;
    const reader = segmentReader(s);
    const n = reader.numDocs;
    // The segment's kernels speak its local term ids (term-remap.ts); terms it lacks match none of its docs.
    const local = reader.localQuery(query);
    if (local.indices.length === 0) continue;
    const excluded = filter === null ? s.bitset : segmentExcluded(s, filter);
    if (s.scratch === null) s.scratch = createExactScratch(n, reader.postings.numTerms);
    if (filter !== null && excluded !== null) {
      const accepted = n - countBits(excluded, n);
      if (accepted === 0) continue;
      if (accepted <= SELECTIVE_FILTER_MAX_DOCS) {
        // Selective filter: score exactly the accepted docs (exact, and cheaper than any traversal).
        const r = filteredExactSearch(reader.forward, local, clearOrds(excluded, n), k, s.scratch.dense, segTop);
        result.docsScored += r.docsScored;
        for (let j = 0; j < r.ords.length; j++) top.push(reader.idAt(r.ords[j]), r.scores[j], base + r.ords[j]);
        continue;
      }
    }
    const approx = reader.approximate;
    if (!options.exact && approx !== null) {
      const r = approx.search(local, { k, queryCut: options.queryCut, heapFactor: options.heapFactor, nKnn: options.nKnn, excluded });
      result.docsScored += r.docsScored;
      result.blocksScored += r.blocksScored;
      result.blocksSkipped += r.blocksSkipped;
      result.exact = false;
      for (let j = 0; j < r.ords.length; j++) top.push(reader.idAt(r.ords[j]), r.scores[j], base + r.ords[j]);
      continue;
    }
    segTop.reset(k);
    result.docsScored += taatSearch(reader.postings, local, excluded, s.scratch, segTop);
    const { keys, scores } = segTop.drain();
    for (let j = 0; j < keys.length; j++) top.push(reader.idAt(keys[j]), scores[j], base + keys[j]);
  }
  const fields = options.fields ?? null;
  result.hits = top.sorted().map((h) => {
    const hit: StoreHit = { id: h.id, score: h.score };
    if (options.withVectors === true) hit.vector = vectorOf(view, h.payload);
    if (fields !== null) hit.fields = fieldsOf(view, h.payload, fields);
    return hit;
  });
  return result;
}

/** The stored fields `want` of the doc behind a hit payload. */
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
