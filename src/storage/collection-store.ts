/**
 * The per-collection storage engine (contract: store-types.ts): write-ahead log + memtable + sealed segments +
 * per-segment delete bitmaps + manifest + term statistics, in one data directory:
 *
 *   LOCK                         OS lock of the writer process, with its pid as information (lock.ts)
 *   MANIFEST.json                live segments, their delete files, dictionary file, WAL generation (manifest.ts)
 *   wal-<gen>.log                write-ahead log generations >= manifest.walGeneration (wal.ts, wal-codec.ts)
 *   seg-<id>/                    immutable segments (segment-writer.ts / segment-reader.ts)
 *   del-seg-<id>-<gen>.bin       roaring bitmap of deleted ords (section file kind "deletes", section `roaring`)
 *   dict-<gen>.bin               growable term dictionary (dictionary.ts)
 *
 * Invariants:
 * - An external id is live in at most one place (memtable, frozen memtable, or one segment ord).
 * - A write is applied in memory only after its WAL record is fsynced, in log order (WalWriter's apply hook).
 * - Everything in memory that is not in the manifest's files is in WAL generations >= manifest.walGeneration,
 *   so a crash at any point loses nothing acknowledged: restart = manifest's files + replay (idempotent).
 * - Seal (store-seal-merge.ts, with merge and persist): rotate the WAL (the memtable is frozen at the exact switch
 *   point), build the segment in a worker, swap it in synchronously (deletes that hit the frozen memtable meanwhile
 *   are carried over by id), then write delete files + dictionary + manifest, then drop old WAL generations and
 *   unreferenced files. Seals and merges are serialised through one promise chain; searches run synchronously on
 *   whatever state is current, which is always consistent because every swap happens within one synchronous block.
 * - bm25 collections: memtable docs are weighted at search time with the current avgdl (or cluster `dfs`'s), and so
 *   are sealed docs in exact search, `get` and explain (raw tf and dl kept per segment): exact BM25 does not depend
 *   on when documents were sealed. A seal bakes the avgdl of that moment into the segment's `values`, which only
 *   its approximate (Seismic) index uses; a merge rebakes with the avgdl of the merge.
 * - Bulk loads (`deferApproximate`) open segments parked: only their ids stay in memory (enough for replaces and
 *   deletes by id), so ingest memory is bounded by the memtable, not by the data loaded; a search, get or delete
 *   that reaches a parked segment reads it whole, once (live-segment.ts).
 * - Search (store-search.ts): exact over memtables; per segment the approximate Seismic path when
 *   `!options.exact` and the segment has one (approximate.ts), else exact term-at-a-time; metadata filters
 *   become excluded bitsets (metadata-index.ts), selective ones are scored directly (filtered-search.ts).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SparseVector } from '../core/sparse-vector.js';
import type { FilterInput } from '../config/request-schemas.js';
import type {
  CollectionStore,
  OptimizeOptions,
  StoreConfig,
  StoreDocument,
  StoredFields,
  StoredFieldSet,
  StoreSearchOptions,
  StoreSearchResult,
  StoreCalibration,
  StoreObserver,
  StoreStats,
  TermStats,
} from './store-types.js';
import { corruptIndex, invalidArgument, SpladexError } from '../core/errors.js';
import { TopK } from '../core/top-k.js';
import { Memtable } from '../segment/memtable.js';
import { TermDictionary } from './dictionary.js';
import { DfTable } from '../segment/term-stats.js';
import { checkWalGenerations, WalWriter, parseWalName, replayWal, walPath } from './wal.js';
import { encodeDeleteRecord, encodeUpsertRecord, type WalRecord } from './wal-codec.js';
import { loadManifest, removeUnreferencedFiles, saveManifest, type Manifest } from './manifest.js';
import { writeStoreSnapshot, type StoreSnapshotFiles } from './store-snapshot.js';
import { acquireDirLock, type DirLock } from './lock.js';
import type { SealMode } from '../segment/seal-runner.js';
import { activeFilter, markDeleted, openLiveSegment, segmentExcluded, segmentReader, type LiveSegment } from '../segment/live-segment.js';
import { mergeSegments, sealNow } from './store-seal-merge.js';
import { calibratedSegment, liveAvgdl, liveDocCount, storeCalibration, storeStats } from './store-stats.js';
import { searchView, searchViewPooled, segmentVector, type SearchView } from './store-search.js';
import { StoreView } from './store-view.js';
import type { SearchPool } from '../segment/search-pool.js';
import { matchesFilter } from '../filter/metadata-index.js';

/** The store plus an explicit seal (e.g. the CLI's end of a bulk load, without optimize's full merge). */
export interface SealableCollectionStore extends CollectionStore {
  /** Seals the memtable into a segment now (after queued seals/merges); resolves when durable. */
  seal(): Promise<void>;
}

export interface OpenCollectionStoreOptions {
  /** Collection data directory (created when missing). */
  dir: string;
  config: StoreConfig;
  logger: Logger;
  /** Where segment builds run: a worker thread (default) or inline on the caller's thread. */
  sealMode?: SealMode;
  /**
   * Bulk loads: seals and background merges build exact-only segments (cheap: no Seismic build per seal), and
   * `optimize()` builds the approximate index once, on the merged segment. Off for a serving store.
   */
  deferApproximate?: boolean;
  /** Timings for metrics (WAL syncs, seals, merges). */
  observer?: StoreObserver;
  /**
   * Search worker pool (src/segment/search-pool.ts, one per service) that `searchAsync` hands resident segments
   * to; absent or null: every search runs on the caller's thread.
   */
  searchPool?: SearchPool | null;
}

/** Segment count at which a background merge starts, and how many of the smallest segments it merges. */
const MERGE_TRIGGER_SEGMENTS = 8;
const MERGE_FANIN = 4;

/**
 * Opens (creating when missing) the collection store in `dir`: takes the directory lock, loads the manifest's
 * segments (verifying every checksum), replays the WAL. Throws BUSY when another live process holds the lock
 * and CORRUPT_INDEX naming the file when anything on disk is damaged (a torn WAL tail is repaired, not fatal).
 */
export async function openCollectionStore(opts: OpenCollectionStoreOptions): Promise<SealableCollectionStore> {
  await mkdir(opts.dir, { recursive: true });
  const lock = await acquireDirLock(opts.dir);
  try {
    const store = new SegmentedStore(opts, lock);
    await store.load();
    return store;
  } catch (err) {
    await lock.release();
    throw err;
  }
}

class SegmentedStore implements SealableCollectionStore {
  readonly config: StoreConfig;
  dictionary: TermDictionary | null;
  readonly dir: string;
  readonly logger: Logger;
  readonly sealMode: SealMode;
  readonly deferApproximate: boolean;
  private readonly lock: DirLock;
  readonly observer: StoreObserver;
  memtable = new Memtable();
  frozen: Memtable | null = null;
  /** WAL generation that starts right after the frozen memtable's records. */
  frozenNextGen = 0;
  segments: LiveSegment[] = [];
  private readonly df = new DfTable();
  manifest!: Manifest;
  wal!: WalWriter;
  private chain: Promise<unknown> = Promise.resolve();
  private sealQueued = false;
  private mergeQueued = false;
  private closed = false;
  persistedDictSize = 0;
  private readonly segTop = new TopK(10);
  /**
   * The view `snapshot` last made, handed out again while the store is unchanged. Weakly held: once no cursor
   * keeps it, it goes, and with it the readers of segments merged away since (a view keeps them readable).
   */
  private lastView: WeakRef<StoreView> | null = null;
  readonly searchPool: SearchPool | null;

  constructor(opts: OpenCollectionStoreOptions, lock: DirLock) {
    this.config = opts.config;
    this.dir = opts.dir;
    this.logger = opts.logger;
    this.sealMode = opts.sealMode ?? 'worker';
    this.deferApproximate = opts.deferApproximate ?? false;
    this.searchPool = opts.searchPool ?? null;
    this.lock = lock;
    this.observer = opts.observer ?? {};
    this.dictionary = opts.config.growableDictionary ? new TermDictionary() : null;
  }

  // ---------------------------------------------------------------- open

  async load(): Promise<void> {
    const t0 = performance.now();
    let m = await loadManifest(this.dir);
    if (m === undefined) {
      m = { format: 1, walGeneration: 1, nextSegmentId: 1, nextFileGeneration: 1, dictionary: null, segments: [], config: this.config };
      // The WAL first: a manifest must never name a generation that does not exist (a crash in between leaves
      // a WAL without a manifest, which this branch handles again).
      if (!(await readdir(this.dir)).some((n) => parseWalName(n) === m!.walGeneration))
        await (await WalWriter.open(this.dir, m.walGeneration)).close();
      await saveManifest(this.dir, m);
    }
    this.manifest = m;
    if (this.dictionary !== null && m.dictionary !== null) {
      this.dictionary = await TermDictionary.load(join(this.dir, m.dictionary));
      this.persistedDictSize = this.dictionary.size;
    }
    // One at a time: a parked open holds a segment's forward index only while counting it.
    for (const s of m.segments)
      this.segments.push(await openLiveSegment(this.dir, s.name, s.deletes, { resident: !this.deferApproximate, df: this.df }));
    await this.removeUnreferenced();
    const gens = (await readdir(this.dir))
      .map(parseWalName)
      .filter((g): g is number => g !== undefined && g >= m.walGeneration)
      .sort((a, b) => a - b);
    checkWalGenerations(this.dir, m.walGeneration, gens);
    let replayed = 0;
    let lastSize = -1;
    for (const g of gens) {
      const path = walPath(this.dir, g);
      const r = await replayWal(path, this.logger, (rec) => this.applyRecord(rec, path));
      replayed += r.records;
      lastSize = r.sizeBytes;
    }
    this.wal = await WalWriter.open(this.dir, gens[gens.length - 1], lastSize);
    const walSync = this.observer.walSync;
    if (walSync !== undefined) this.wal.onSync = (seconds) => walSync(seconds);
    this.logger.info(
      {
        dir: this.dir,
        segments: this.segments.length,
        documents: this.liveDocs(),
        walRecords: replayed,
        ms: Math.round(performance.now() - t0),
      },
      'collection store opened',
    );
    this.maybeScheduleSeal();
  }

  private applyRecord(rec: WalRecord, file: string): void {
    if (rec.kind === 'upsert') {
      if (rec.terms.length > 0) {
        if (this.dictionary === null) throw corruptIndex(file, 'dictionary terms in a collection without a dictionary');
        this.dictionary.applyLogged(rec.dictFirstId, rec.terms, file);
      }
      this.applyUpsert(rec.docs);
    } else this.applyDelete(rec.ids);
  }

  // ---------------------------------------------------------------- writes

  async upsert(docs: readonly StoreDocument[]): Promise<void> {
    this.checkOpen();
    for (let i = 0; i < docs.length; i++) this.validate(docs[i], i);
    if (docs.length === 0) return;
    // Back-pressure: while a seal is in flight and the new memtable is full again, wait for the seal (and any
    // merge queued behind it) so memory stays bounded by about two memtables, whatever the ingest rate.
    // One wait per call: a failed seal leaves `frozen` set, and the next seal retries it. A seal still queued
    // behind a background merge counts too: without it, writes during a merge of large segments grew the
    // memtable without bound (40 docs of 1 MB metadata: 21 in a memtable limited to 4 MiB).
    if ((this.frozen !== null || this.sealQueued) && this.memtableFull()) await this.chain;
    // Dictionary terms are taken when the record is written (log order), and given back if the write fails
    // (disk full): the next record carries them, so no acknowledged record refers to an unlogged term.
    const dictionary = this.dictionary;
    let firstId = -1;
    const encode = (): Buffer => {
      const pending = dictionary?.takePending() ?? { firstId: 0, terms: [] };
      firstId = pending.firstId;
      return encodeUpsertRecord(docs, pending.firstId, pending.terms);
    };
    const rollback = () => {
      if (dictionary !== null && firstId >= 0) dictionary.untakePending(firstId);
    };
    await this.wal.append(encode, () => this.applyUpsert(docs), rollback);
    this.maybeScheduleSeal();
  }

  async delete(ids: readonly string[]): Promise<number> {
    this.checkOpen();
    if (ids.length === 0) return 0;
    return this.wal.append(encodeDeleteRecord(ids), () => this.applyDelete(ids));
  }

  private validate(d: StoreDocument, i: number): void {
    if (typeof d.id !== 'string' || d.id.length === 0) throw invalidArgument(`documents[${i}].id`, 'must be a non-empty string');
    const ix = d.vector.indices;
    if (ix.length > 0 && ix[ix.length - 1] >= this.config.dim) {
      throw invalidArgument(`documents[${i}].vector`, `term id ${ix[ix.length - 1]} is not < ${this.config.dim}`);
    }
    if (d.dense !== undefined && d.dense.length !== (this.config.denseDim ?? -1)) {
      throw invalidArgument(
        `documents[${i}].dense`,
        `length ${d.dense.length} does not match the collection's ${this.config.denseDim ?? 'absent'} dense dim`,
      );
    }
  }

  private applyUpsert(docs: readonly StoreDocument[]): void {
    for (const d of docs) {
      this.removeLive(d.id);
      this.memtable.insert(d);
      this.df.addAll(d.vector.indices, 1);
    }
  }

  private applyDelete(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) if (this.removeLive(id)) n++;
    return n;
  }

  /** Deletes the live copy of `id` wherever it is; returns whether there was one. */
  private removeLive(id: string): boolean {
    for (const m of this.frozen === null ? [this.memtable] : [this.memtable, this.frozen]) {
      const slot = m.slotOfId(id);
      if (slot !== undefined) {
        this.df.addAll(m.rawVector(slot).indices, -1);
        m.delete(id);
        return true;
      }
    }
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      const ord = s.ids.ordOf(id);
      if (ord >= 0 && !s.deleted.has(ord)) {
        this.deleteOrd(s, ord);
        return true;
      }
    }
    return false;
  }

  private deleteOrd(s: LiveSegment, ord: number): void {
    this.df.addAll(segmentReader(s).termIdsOf(ord), -1);
    markDeleted(s, ord);
  }

  // ---------------------------------------------------------------- reads

  get(id: string): StoreDocument | undefined {
    const avgdl = this.avgdl();
    for (const m of this.frozen === null ? [this.memtable] : [this.memtable, this.frozen]) {
      const slot = m.slotOfId(id);
      if (slot === undefined) continue;
      const f = m.fieldsOf(slot);
      const doc: StoreDocument = { id, vector: m.weightedVector(slot, this.config.weighting, avgdl) };
      if (f.title !== undefined) doc.title = f.title;
      if (f.text !== undefined) doc.text = f.text;
      if (f.metadata !== undefined) doc.metadata = f.metadata;
      if (f.dense !== undefined) doc.dense = f.dense;
      return doc;
    }
    const loc = this.findInSegments(id);
    if (loc === undefined) return undefined;
    const r = segmentReader(loc.s);
    const doc: StoreDocument = { id, vector: segmentVector(r, loc.ord, this.config.weighting, avgdl), ...r.fieldsOf(loc.ord) };
    const dense = r.denseOf(loc.ord);
    if (dense !== undefined) doc.dense = dense;
    return doc;
  }

  getFields(id: string, want: StoredFieldSet): StoredFields | undefined {
    for (const m of this.frozen === null ? [this.memtable] : [this.memtable, this.frozen]) {
      const slot = m.slotOfId(id);
      if (slot === undefined) continue;
      const f = m.fieldsOf(slot);
      const out: StoredFields = {};
      if (want.title && f.title !== undefined) out.title = f.title;
      if (want.text && f.text !== undefined) out.text = f.text;
      if (want.metadata && f.metadata !== undefined) out.metadata = f.metadata;
      return out;
    }
    const loc = this.findInSegments(id);
    if (loc === undefined) return undefined;
    return segmentReader(loc.s).fieldsOf(loc.ord, (want.title ? 1 : 0) | (want.text ? 2 : 0) | (want.metadata ? 4 : 0));
  }

  getDense(id: string): Float32Array | undefined {
    for (const m of this.frozen === null ? [this.memtable] : [this.memtable, this.frozen]) {
      const slot = m.slotOfId(id);
      if (slot !== undefined) return m.fieldsOf(slot).dense;
    }
    const loc = this.findInSegments(id);
    return loc === undefined ? undefined : segmentReader(loc.s).denseOf(loc.ord);
  }

  liveIds(filter?: FilterInput | null): string[] {
    this.checkOpen();
    const f = activeFilter(filter);
    const out: string[] = [];
    const types = this.config.metadataTypes;
    for (const m of this.frozen === null ? [this.memtable] : [this.memtable, this.frozen]) {
      m.forEachLive((id, slot) => {
        if (f === null || matchesFilter(m.fieldsOf(slot).metadata, f, types)) out.push(id);
      });
    }
    for (const s of this.segments) {
      const excluded = f === null ? s.bitset : segmentExcluded(s, f);
      for (let o = 0; o < s.numDocs; o++) {
        if (excluded === null || (excluded[o >>> 5] & (1 << (o & 31))) === 0) out.push(s.ids.idAt(o));
      }
    }
    return out;
  }

  private findInSegments(id: string): { s: LiveSegment; ord: number } | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      const ord = s.ids.ordOf(id);
      if (ord >= 0 && !s.deleted.has(ord)) return { s, ord };
    }
    return undefined;
  }

  search(query: SparseVector, options: StoreSearchOptions): StoreSearchResult {
    return searchView(this.liveView(options), query, options);
  }

  snapshot(): StoreView {
    this.checkOpen();
    const { config, memtable, frozen, segments, segTop } = this;
    const parts = { config, memtable, frozen, segments, segTop, avgdl: this.avgdl() };
    // Nothing changed since the last view: the same moment, so the same view (store-view.ts `sameAs`).
    const last = this.lastView?.deref();
    if (last?.sameAs(parts)) return last;
    const view = new StoreView(parts);
    this.lastView = new WeakRef(view);
    return view;
  }

  count(filter?: FilterInput | null): number {
    return this.snapshot().count(filter);
  }

  searchAsync(query: SparseVector, options: StoreSearchOptions): Promise<StoreSearchResult> {
    const view = this.liveView(options);
    if (this.searchPool === null) return Promise.resolve(searchView(view, query, options));
    return searchViewPooled(view, query, options, this.searchPool);
  }

  /** The live state a search reads (avgdl: the caller's, cluster mode's `dfs`, else this store's). */
  private liveView(options: StoreSearchOptions): SearchView {
    this.checkOpen();
    const { config, memtable, frozen, segments, segTop } = this;
    return { config, memtable, frozen, segments, segTop, avgdl: options.avgdl ?? this.avgdl() };
  }

  private liveDocs(): number {
    return liveDocCount(this);
  }

  avgdl(): number {
    return liveAvgdl(this);
  }

  tunedFor(targetRecall: number): { queryCut: number; heapFactor: number; estimatedRecall: number } | null {
    const best = calibratedSegment(this.segments);
    return best === null ? null : (segmentReader(best).approximate?.tuned?.(targetRecall) ?? null);
  }

  calibration(): StoreCalibration | null {
    return storeCalibration(this.segments);
  }

  termStats(): TermStats {
    const df = this.df;
    return { numDocs: this.liveDocs(), avgdl: this.avgdl(), df: (t: number) => df.df(t) };
  }

  stats(): StoreStats {
    return storeStats(this, this.wal.bytes + this.fileBytes);
  }

  /** Bytes of manifest, dictionary and delete files (refreshed at every manifest write). */
  private fileBytes = 0;

  // ---------------------------------------------------------------- seal / merge

  /** The memtable reached its doc count or its estimated bytes (memtableMaxBytes). */
  private memtableFull(): boolean {
    const m = this.memtable;
    return m.size >= this.config.memtableMaxDocs || (m.size > 0 && m.estimatedBytes >= (this.config.memtableMaxBytes ?? Infinity));
  }

  maybeScheduleSeal(): void {
    if (this.sealQueued || this.closed || !this.memtableFull()) return;
    this.sealQueued = true;
    this.enqueue(async () => {
      this.sealQueued = false;
      await sealNow(this);
    }).catch((err: unknown) => this.logger.error({ err, dir: this.dir }, 'background seal failed'));
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async optimize(opts: OptimizeOptions = {}): Promise<{ segments: number; tookMs: number }> {
    this.checkOpen();
    const t0 = performance.now();
    const queries = opts.calibrationQueries && opts.calibrationQueries.length > 0 ? opts.calibrationQueries : null;
    // The final merge rewrites every segment when there will be more than one, when it must write a calibration
    // from `queries`, or when it splits partitions: a seal it will rewrite skips its own approximate index (with
    // partitions 2, building it anyway made a 100k-doc optimize 144 s instead of 48 s).
    const partitioned = (this.config.build.partitions ?? 1) > 1;
    const rewritten = () => this.segments.length > 0 || queries !== null || partitioned;
    await this.enqueue(async () => {
      if (this.frozen !== null) await sealNow(this, !rewritten()); // left by a failed seal
      await sealNow(this, !rewritten());
    });
    await this.enqueue(() => mergeSegments(this, this.segments, true, queries));
    return { segments: this.segments.length, tookMs: performance.now() - t0 };
  }

  writeSnapshot(targetDir: string): Promise<StoreSnapshotFiles> {
    this.checkOpen();
    // Inside the chain: no seal or merge replaces the manifest or removes files while they are linked.
    return this.enqueue(() =>
      writeStoreSnapshot(
        { dir: this.dir, wal: this.wal, manifest: () => this.manifest, liveDocs: () => this.liveDocs(), logger: this.logger },
        targetDir,
      ),
    );
  }

  async seal(): Promise<void> {
    this.checkOpen();
    await this.enqueue(async () => {
      if (this.frozen !== null) await sealNow(this); // left by a failed seal
      await sealNow(this);
    });
  }

  /**
   * Size-tiered background merge: once a seal leaves MERGE_TRIGGER_SEGMENTS segments (plus partitions − 1), the
   * MERGE_FANIN smallest (by live docs) are merged, so the segment count — and the per-query cost of visiting
   * segments — stays bounded without rewriting large segments on every seal. Such a merge may mix partitions;
   * the next optimize splits them again.
   */
  maybeScheduleMerge(): void {
    // A bulk load merges once, at optimize: background merges would rewrite each document several times.
    if (this.mergeQueued || this.closed || this.deferApproximate || this.segments.length < this.mergeTrigger()) return;
    this.mergeQueued = true;
    this.enqueue(async () => {
      this.mergeQueued = false;
      if (this.segments.length < this.mergeTrigger()) return;
      const smallest = [...this.segments].sort((a, b) => a.liveDocs - b.liveDocs).slice(0, MERGE_FANIN);
      await mergeSegments(this, smallest);
    }).catch((err: unknown) => this.logger.error({ err, dir: this.dir }, 'background merge failed'));
  }

  /** Segment count that starts a background merge: optimize's P partitions count as one. */
  private mergeTrigger(): number {
    return MERGE_TRIGGER_SEGMENTS + (this.config.build.partitions ?? 1) - 1;
  }

  /** Deletes files and directories the manifest does not reference (crash leftovers, replaced files). */
  async removeUnreferenced(): Promise<void> {
    this.fileBytes = await removeUnreferencedFiles(this.dir, this.manifest);
  }

  // ---------------------------------------------------------------- lifecycle

  private checkOpen(): void {
    if (this.closed) throw new SpladexError('INTERNAL', `collection store ${this.dir} is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.segments) this.searchPool?.forget(s);
    try {
      await this.chain;
      await this.wal.close();
    } finally {
      await this.lock.release();
    }
  }
}
