/**
 * Contract of the per-collection storage engine (implemented in collection-store.ts): WAL + memtable + sealed
 * segments + deletes + id map + collection statistics, over sparse vectors only (no text processing, no
 * encoders, no HTTP). The search service (src/search) is its only caller besides the CLI's bulk path.
 *
 * Invariants: when `upsert`/`delete` resolve, the change is fsynced in the write-ahead log and visible to
 * `search`/`get`; a batch becomes visible all at once; searches run on a consistent snapshot.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { IndexBuildConfig } from '../config/index-config.js';
import type { FilterInput } from '../config/request-schemas.js';
import type { DocWeighting, StoreDocument } from '../segment/document-types.js';

export type { DocWeighting, StoreDocument };

export interface StoreConfig {
  /** Term ids must be < dim. With a growable dictionary this is a generous bound (e.g. 2^31). */
  dim: number;
  weighting: DocWeighting;
  /** true for lexical and `encoder: "none"` collections: the store owns a term dictionary that grows with writes. */
  growableDictionary: boolean;
  /** Length of dense vectors when the collection has a dense part. */
  denseDim?: number;
  build: IndexBuildConfig;
  /** Declared metadata fields (filterable). */
  metadataTypes: Record<string, 'keyword' | 'number'>;
  /** Seal the memtable into a segment once it holds this many docs. */
  memtableMaxDocs: number;
  /** Seal also when the memtable's estimated bytes reach this (memtable.ts `estimateDocBytes`); absent: count only. */
  memtableMaxBytes?: number;
}

/** Stored fields of a document, as `getFields` returns them. */
export interface StoredFields {
  title?: string;
  text?: string;
  metadata?: Record<string, unknown>;
}

/** Which stored fields `getFields` decodes. */
export interface StoredFieldSet {
  title: boolean;
  text: boolean;
  metadata: boolean;
}

/** Term dictionary for growable-vocabulary collections; additions are logged with the next WAL record. */
export interface Dictionary {
  readonly size: number;
  get(term: string): number | undefined;
  getOrAdd(term: string): number;
  term(id: number): string | undefined;
}

export interface StoreSearchOptions {
  k: number;
  exact: boolean;
  queryCut: number;
  heapFactor: number;
  nKnn: number;
  filter?: FilterInput | null;
  /** Attach each hit's weighted document vector (for explain and PRF). */
  withVectors?: boolean;
  /** Cursor pages: only hits ranking strictly after (score, id) — score lower, or equal with a larger id. */
  after?: { score: number; id: string } | null;
  /**
   * Attach each hit's stored fields (this set), read from the source and ord the search already holds (point-in-
   * time views need this; for live searches it also saves looking each hit up again by id, ~1 µs per hit, a
   * sixth of a queryCut-1 search on 50k docs, bench/bench-fixed-cost.ts). Absent or null: none.
   */
  fields?: StoredFieldSet | null;
  /**
   * bm25 only: the avgdl memtable documents are weighted with instead of this store's own (cluster mode's `dfs`
   * search passes the collection-wide avgdl so a shard scores as the whole collection would; sealed segments
   * keep the avgdl baked in at their seal).
   */
  avgdl?: number;
  /**
   * Set for a batch lane's search (spladex-service.ts `runBatch`): how many searches of its batch are still to be
   * taken after it. It goes to the pool's lane workers, or runs on the calling thread while they hold their share
   * or, near the batch's end, at least what is left (search-pool.ts `laneStaysHere`); never through the idle-loop
   * shortcut (`claimInline`). Absent: the pool decides (`claimInline`).
   */
  lane?: number;
}

export interface StoreHit {
  id: string;
  score: number;
  vector?: SparseVector;
  /** The stored fields asked for with `StoreSearchOptions.fields`. */
  fields?: StoredFields;
}

export interface StoreSearchResult {
  hits: StoreHit[];
  docsScored: number;
  blocksScored: number;
  blocksSkipped: number;
  exact: boolean;
}

/** Which parts of the documents `StoreSnapshot.list` returns. */
export interface ListOptions {
  /** Only ids > this (null: from the start). */
  after: string | null;
  limit: number;
  filter?: FilterInput | null;
  fields: StoredFieldSet;
  /** Attach the weighted vector (else an empty one). */
  vectors: boolean;
  /** Attach the dense vector, when stored. */
  dense: boolean;
}

/** A point-in-time view of a store (store-view.ts): its reads see the collection as of the moment it was taken. */
export interface StoreSnapshot {
  search(query: SparseVector, options: StoreSearchOptions): StoreSearchResult;
  /** Live documents of the view passing `filter` (all when absent). */
  count(filter?: FilterInput | null): number;
  /** Up to `limit` live documents with id > `after` passing `filter`, in id order. */
  list(opts: ListOptions): StoreDocument[];
}

export interface TermStats {
  numDocs: number;
  avgdl: number;
  df(termId: number): number;
}

export interface StoreStats {
  documents: number;
  deleted: number;
  segments: number;
  memtableDocuments: number;
  nnz: number;
  avgDocTerms: number;
  bytes: number;
  estimatedRecall: number | null;
  /** Parameters chosen by recall calibration, when any. */
  tuned?: { queryCut: number; heapFactor: number } | null;
}

export interface OptimizeOptions {
  /**
   * Sample queries, as the store's `search` receives them (ids in the collection's vocabulary, query weights), for
   * the recall calibration of the final build instead of doc-derived ones. Empty or absent: doc-derived.
   */
  calibrationQueries?: SparseVector[];
}

export interface CollectionStore {
  readonly config: StoreConfig;
  /** null when the collection's vocabulary is fixed by its encoder. */
  readonly dictionary: Dictionary | null;
  /** Inserts or replaces documents (by id). Durable and visible when resolved. */
  upsert(docs: readonly StoreDocument[]): Promise<void>;
  /** Deletes by id; resolves to how many existed. Durable when resolved. */
  delete(ids: readonly string[]): Promise<number>;
  /** A live document with its *weighted* vector, or undefined. */
  get(id: string): StoreDocument | undefined;
  /**
   * Only the asked stored fields of a live document (no vector, no dense copy), or undefined. Search hydration
   * uses this: `get` would copy each hit's vector and decode its text when the response shows only titles.
   */
  getFields(id: string, want: StoredFieldSet): StoredFields | undefined;
  search(query: SparseVector, options: StoreSearchOptions): StoreSearchResult;
  /**
   * `search`, with the sealed segments searched by the store's search worker pool when it has one (else the same
   * synchronous search); the same hits and scores either way, on the view current at the call. BUSY when the
   * pool's queues are full.
   */
  searchAsync(query: SparseVector, options: StoreSearchOptions): Promise<StoreSearchResult>;
  /** Exact dense scores etc. need stored dense vectors: undefined when the doc has none. */
  getDense(id: string): Float32Array | undefined;
  /**
   * Ids of the live documents (one snapshot) that pass `filter` (all live documents when absent or null), in no
   * particular order. Used by the search layer to rebuild derived dense state (dense tables, LSA fits) and to
   * restrict dense top-k to a filter. Filter semantics as in `search` (metadata-index.ts).
   */
  liveIds(filter?: FilterInput | null): string[];
  /**
   * A point-in-time view of the live documents (store-view.ts): searches, counts and id-ordered listings of it
   * see the collection as it is now, whatever is written later. O(segments) to take; hold it as long as needed.
   */
  snapshot(): StoreSnapshot;
  /** Live documents passing `filter` (all live documents when absent or null); deleted ones never count. */
  count(filter?: FilterInput | null): number;
  termStats(): TermStats;
  stats(): StoreStats;
  /**
   * Search parameters calibrated at seal time for `targetRecall` (recall@10 vs the exact oracle on the sample
   * queries given to the last optimize that built the segment, else on held-out documents used as queries), from
   * the largest segment carrying an approximate index; null when none does.
   */
  tunedFor(targetRecall: number): { queryCut: number; heapFactor: number; estimatedRecall: number } | null;
  /**
   * The calibration table `tunedFor` reads (that of the largest calibrated segment) with the live documents of that
   * segment; null when no segment carries one.
   */
  calibration(): StoreCalibration | null;
  /**
   * Seals the memtable and merges all segments into one. With `calibrationQueries` the merged segment's
   * calibration is computed on them (a single segment is rebuilt for it when large enough for an approximate index).
   */
  optimize(opts?: OptimizeOptions): Promise<{ segments: number; tookMs: number }>;
  /**
   * Writes a consistent copy of the store into `targetDir` (must not exist) while it keeps serving: after any
   * seal or merge in flight, the WAL is rotated (the snapshot point: every write acknowledged before it is in
   * the copy, every later one is not), then the manifest's files are hard-linked and the WAL generations up to
   * the point copied (store-snapshot.ts). STORAGE_FULL when the volume fills.
   */
  writeSnapshot(targetDir: string): Promise<StoreSnapshotFiles>;
  close(): Promise<void>;
}

/** Timings a store reports as it works (metrics); every callback is optional and must not throw. */
export interface StoreObserver {
  /** One WAL group commit (write + fdatasync), seconds. */
  walSync?(seconds: number): void;
  /** One memtable seal (segment build + swap + manifest), seconds, and the documents sealed. */
  seal?(seconds: number, documents: number): void;
  /** One merge (background or optimize), seconds, and the live documents of the merged segment. */
  merge?(seconds: number, documents: number): void;
}

/** A segment's recall calibration as the API shows it (collection stats `calibration`). */
export interface StoreCalibration {
  /** Live documents of the calibrated segment the table comes from. */
  documents: number;
  /** Rows by target ascending: the setting chosen for each target and its measured mean recall@10. */
  rows: { targetRecall: number; queryCut: number; heapFactor: number; estimatedRecall: number }[];
}

/** What a store snapshot holds, for the caller's SNAPSHOT.json. */
export interface StoreSnapshotFiles {
  /** WAL generation the store switched to at the snapshot point (every earlier record is in the snapshot). */
  walGeneration: number;
  /** Live documents at the snapshot point. */
  documents: number;
  /** ISO-8601 time of the snapshot point. */
  at: string;
  /** Files written, relative to the target directory (`/` separated). */
  files: string[];
}
