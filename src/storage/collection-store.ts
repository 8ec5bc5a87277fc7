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
 * - Seal: rotate the WAL (the memtable is frozen at the exact switch point), build the segment in a worker,
 *   swap it in synchronously (deletes that hit the frozen memtable meanwhile are carried over by id), then write
 *   delete files + dictionary + manifest, then drop old WAL generations and unreferenced files. Seals and merges
 *   are serialised through one promise chain; searches run synchronously on whatever state is current, which is
 *   always consistent because every swap happens within one synchronous block.
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
import { basename, join } from 'node:path';
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
import { partitionOf } from '../core/id-hash.js';
import { Memtable } from '../segment/memtable.js';
import { TermDictionary } from './dictionary.js';
import { DfTable } from '../segment/term-stats.js';
import { WalWriter, parseWalName, replayWal, walPath } from './wal.js';
import { encodeDeleteRecord, encodeUpsertRecord, type WalRecord } from './wal-codec.js';
import { loadManifest, MANIFEST_FILE, removeUnreferencedFiles, saveManifest, type Manifest } from './manifest.js';
import { writeStoreFiles, type StoreSnapshotFiles } from './store-snapshot.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { writeSectionFileAtomic } from '../core/section-file.js';
import { runJob, type SealMode } from '../segment/seal-runner.js';
import { memtableColumnar } from '../segment/memtable-snapshot.js';
import {
  activeFilter,
  markDeleted,
  openLiveSegment,
  recountLive,
  segmentExcluded,
  segmentReader,
  type LiveSegment,
} from '../segment/live-segment.js';
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

function segName(id: number): string {
  return `seg-${String(id).padStart(8, '0')}`;
}

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
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly sealMode: SealMode;
  private readonly deferApproximate: boolean;
  private readonly lock: DirLock;
  private readonly observer: StoreObserver;
  private memtable = new Memtable();
  private frozen: Memtable | null = null;
  /** WAL generation that starts right after the frozen memtable's records. */
  private frozenNextGen = 0;
  private segments: LiveSegment[] = [];
  private readonly df = new DfTable();
  private manifest!: Manifest;
  private wal!: WalWriter;
  private chain: Promise<unknown> = Promise.resolve();
  private sealQueued = false;
  private mergeQueued = false;
  private closed = false;
  private persistedDictSize = 0;
  private readonly segTop = new TopK(10);
  private readonly searchPool: SearchPool | null;

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
    return new StoreView({ config, memtable, frozen, segments, segTop, avgdl: this.avgdl() });
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
    let n = this.memtable.size + (this.frozen?.size ?? 0);
    for (const s of this.segments) n += s.liveDocs;
    return n;
  }

  private avgdl(): number {
    let n = this.memtable.size + (this.frozen?.size ?? 0);
    let sum = this.memtable.sumDl + (this.frozen?.sumDl ?? 0);
    for (const s of this.segments) {
      n += s.liveDocs;
      sum += s.liveSumDl;
    }
    return n > 0 ? sum / n : 0;
  }

  tunedFor(targetRecall: number): { queryCut: number; heapFactor: number; estimatedRecall: number } | null {
    const best = this.calibratedSegment();
    return best === null ? null : (segmentReader(best).approximate?.tuned?.(targetRecall) ?? null);
  }

  calibration(): StoreCalibration | null {
    const best = this.calibratedSegment();
    const rows = best === null ? null : (segmentReader(best).approximate?.calibration?.() ?? null);
    return best === null || rows === null ? null : { documents: best.liveDocs, rows };
  }

  /** The largest segment with an approximate index (whose table `tunedFor` reads), or null. */
  private calibratedSegment(): LiveSegment | null {
    let best: LiveSegment | null = null;
    for (const s of this.segments) {
      // Only segments with a Seismic index are opened (a bulk load's deferred seals have none).
      if (s.hasApproximate && segmentReader(s).approximate?.tuned && (best === null || s.liveDocs > best.liveDocs)) best = s;
    }
    return best;
  }

  termStats(): TermStats {
    const df = this.df;
    return { numDocs: this.liveDocs(), avgdl: this.avgdl(), df: (t: number) => df.df(t) };
  }

  stats(): StoreStats {
    const documents = this.liveDocs();
    let nnz = this.memtable.nnz + (this.frozen?.nnz ?? 0);
    let deleted = 0;
    let bytes = this.wal.bytes + this.fileBytes;
    for (const s of this.segments) {
      nnz += s.liveNnz;
      deleted += s.deleted.size;
      bytes += s.sizeBytes;
    }
    return {
      documents,
      deleted,
      segments: this.segments.length,
      memtableDocuments: this.memtable.size + (this.frozen?.size ?? 0),
      nnz,
      avgDocTerms: documents > 0 ? nnz / documents : 0,
      bytes,
      estimatedRecall: null,
      tuned: null,
    };
  }

  /** Bytes of manifest, dictionary and delete files (refreshed at every manifest write). */
  private fileBytes = 0;

  // ---------------------------------------------------------------- seal / merge

  /** The memtable reached its doc count or its estimated bytes (memtableMaxBytes). */
  private memtableFull(): boolean {
    const m = this.memtable;
    return m.size >= this.config.memtableMaxDocs || (m.size > 0 && m.estimatedBytes >= (this.config.memtableMaxBytes ?? Infinity));
  }

  private maybeScheduleSeal(): void {
    if (this.sealQueued || this.closed || !this.memtableFull()) return;
    this.sealQueued = true;
    this.enqueue(async () => {
      this.sealQueued = false;
      await this.sealNow();
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
      if (this.frozen !== null) await this.sealNow(!rewritten()); // left by a failed seal
      await this.sealNow(!rewritten());
    });
    await this.enqueue(() => this.mergeSegments(this.segments, true, queries));
    return { segments: this.segments.length, tookMs: performance.now() - t0 };
  }

  writeSnapshot(targetDir: string): Promise<StoreSnapshotFiles> {
    this.checkOpen();
    // Inside the chain: no seal or merge replaces the manifest or removes files while they are linked.
    return this.enqueue(async () => {
      const point = this.wal.generation + 1;
      let documents = 0;
      let at = '';
      // The rotation runs after every earlier append is durable and applied, and before any later one is:
      // generations below `point` hold exactly the writes acknowledged before it.
      await this.wal.rotate(point, () => {
        documents = this.liveDocs();
        at = new Date().toISOString();
      });
      const m = this.manifest;
      const linked = [MANIFEST_FILE, ...m.segments.map((s) => s.name)];
      for (const s of m.segments) if (s.deletes !== null) linked.push(s.deletes);
      if (m.dictionary !== null) linked.push(m.dictionary);
      const wal: string[] = [];
      for (let g = m.walGeneration; g < point; g++) wal.push(basename(walPath(this.dir, g)));
      const files = await writeStoreFiles(this.dir, targetDir, linked, wal);
      this.logger.info({ dir: this.dir, walGeneration: point, documents, files: files.length }, 'store snapshot written');
      return { walGeneration: point, documents, at, files };
    });
  }

  async seal(): Promise<void> {
    this.checkOpen();
    await this.enqueue(async () => {
      if (this.frozen !== null) await this.sealNow(); // left by a failed seal
      await this.sealNow();
    });
  }

  /**
   * Seals the memtable (if it holds anything) and persists. Runs inside the chain. When an earlier attempt failed
   * after freezing (e.g. disk full), its frozen memtable is still searchable and is sealed first, without a
   * second rotation (its records are in WAL generations below `frozenNextGen`, which the manifest still covers).
   * `approximate: false` skips the approximate index (optimize, when its merge rewrites the segment anyway).
   */
  private async sealNow(approximate = true): Promise<void> {
    if (this.frozen === null) {
      if (this.memtable.slots === 0) return;
      const newGen = this.wal.generation + 1;
      await this.wal.rotate(newGen, () => {
        this.frozen = this.memtable;
        this.frozenNextGen = newGen;
        this.memtable = new Memtable();
      });
    }
    const frozen = this.frozen;
    const newGen = this.frozenNextGen;
    if (frozen === null) throw new SpladexError('INTERNAL', 'WAL rotation did not freeze the memtable');
    const t0 = performance.now();
    const slots = frozen.liveSlots();
    let seg: LiveSegment | null = null;
    if (slots.length > 0) {
      const id = this.manifest.nextSegmentId++;
      const dir = join(this.dir, segName(id));
      const docs = memtableColumnar(frozen, slots, this.config.denseDim ?? 0);
      await runJob(
        {
          kind: 'seal',
          dir,
          docs,
          weighting: this.config.weighting,
          avgdl: this.avgdl(),
          denseDim: this.config.denseDim ?? 0,
          build: this.buildConfig(approximate && !this.deferApproximate),
          metadataTypes: this.config.metadataTypes,
        },
        this.sealMode,
      );
      // Parked in a bulk load: the store needs only its ids until something reads it.
      seg = await openLiveSegment(this.dir, segName(id), null, { resident: !this.deferApproximate, df: null });
    }
    // Swap (synchronous): the frozen memtable's docs become the segment's, minus those deleted meanwhile.
    if (seg !== null) {
      for (const slot of slots) {
        // df was already decremented when the frozen doc was deleted; only the segment's own state changes.
        if (!frozen.isLive(slot)) markDeleted(seg, seg.ids.ordOf(frozen.idOf(slot)));
      }
      this.segments = [...this.segments, seg];
    }
    this.frozen = null;
    await this.persist(newGen);
    this.observer.seal?.((performance.now() - t0) / 1000, seg?.numDocs ?? 0);
    this.logger.info(
      { dir: this.dir, segment: seg?.name ?? null, docs: seg?.numDocs ?? 0, ms: Math.round(performance.now() - t0) },
      'memtable sealed',
    );
    // Writes that arrived during the seal may already fill the new memtable.
    this.maybeScheduleSeal();
    this.maybeScheduleMerge();
  }

  /**
   * Build parameters of a seal or merge; without the approximate index when a later build replaces the segment
   * (non-final builds of a bulk load, a seal that optimize's merge rewrites).
   */
  private buildConfig(approximate: boolean) {
    return approximate ? this.config.build : { ...this.config.build, approximateThreshold: Number.MAX_SAFE_INTEGER };
  }

  /**
   * Size-tiered background merge: once a seal leaves MERGE_TRIGGER_SEGMENTS segments (plus partitions − 1), the
   * MERGE_FANIN smallest (by live docs) are merged, so the segment count — and the per-query cost of visiting
   * segments — stays bounded without rewriting large segments on every seal. Such a merge may mix partitions;
   * the next optimize splits them again.
   */
  private maybeScheduleMerge(): void {
    // A bulk load merges once, at optimize: background merges would rewrite each document several times.
    if (this.mergeQueued || this.closed || this.deferApproximate || this.segments.length < this.mergeTrigger()) return;
    this.mergeQueued = true;
    this.enqueue(async () => {
      this.mergeQueued = false;
      if (this.segments.length < this.mergeTrigger()) return;
      const smallest = [...this.segments].sort((a, b) => a.liveDocs - b.liveDocs).slice(0, MERGE_FANIN);
      await this.mergeSegments(smallest);
    }).catch((err: unknown) => this.logger.error({ err, dir: this.dir }, 'background merge failed'));
  }

  /** Segment count that starts a background merge: optimize's P partitions count as one. */
  private mergeTrigger(): number {
    return MERGE_TRIGGER_SEGMENTS + (this.config.build.partitions ?? 1) - 1;
  }

  /**
   * Merges `inputs` (a subset of the live segments; all of them when `final`, i.e. optimize) into one segment,
   * dropping deleted docs and reweighting bm25; a final merge of a collection with `index.partitions` P > 1 writes
   * P segments instead, partition p holding the docs with `fnv1a32(id) mod P = p` (core/id-hash.ts: a cluster's
   * shard function), so each is the segment shard p of a P-shard cluster writes at its optimize: same docs, same id
   * order, hence the same deterministic Seismic build. `calibrationQueries` (final only) replace the doc-derived
   * sample queries of the approximate index's calibration. Runs inside the chain.
   */
  private async mergeSegments(inputs: LiveSegment[], final = false, calibrationQueries: SparseVector[] | null = null): Promise<void> {
    if (inputs.length === 0) return;
    const partitions = final ? (this.config.build.partitions ?? 1) : 1;
    const partOf = partitions > 1 ? inputs.map((s) => partitionsOfOrds(s, partitions)) : null;
    if (!this.mergeNeeded(inputs, final, calibrationQueries, partOf)) return;
    const t0 = performance.now();
    const snapshot = inputs.map((s) => s.deleted.toArray());
    const outputs: LiveSegment[] = [];
    for (let p = 0; p < partitions; p++) {
      // A partition's inputs: every input with the ords of other partitions dropped as if deleted.
      const deleted = partOf === null ? snapshot : inputs.map((s, i) => excludeOthers(s, snapshot[i], partOf[i], p));
      const live = inputs.reduce((n, s, i) => n + s.numDocs - deleted[i].length, 0);
      if (live === 0) continue;
      const id = this.manifest.nextSegmentId++;
      const dir = join(this.dir, segName(id));
      await runJob(
        {
          kind: 'merge',
          dir,
          inputs: inputs.map((s, i) => ({ dir: s.dir, deleted: deleted[i] })),
          weighting: this.config.weighting,
          avgdl: this.avgdl(),
          denseDim: this.config.denseDim ?? 0,
          build: this.buildConfig(final || !this.deferApproximate),
          metadataTypes: this.config.metadataTypes,
          calibrationQueries,
        },
        this.sealMode,
      );
      outputs.push(await openLiveSegment(this.dir, segName(id), null, { resident: true, df: null }));
    }
    // Swap (synchronous). df is unchanged: the merged segments' live docs (after the carried deletes below) are
    // the inputs' live docs now, with the same term ids; deletes during the merge already decremented df.
    const carried: string[] = [];
    inputs.forEach((s, i) => {
      const before = new Set(snapshot[i]);
      for (const o of s.deleted.toArray()) if (!before.has(o)) carried.push(s.ids.idAt(o));
    });
    this.segments = this.segments.filter((s) => !inputs.includes(s));
    for (const s of inputs) this.searchPool?.forget(s);
    for (const id of carried) {
      for (const seg of outputs) {
        const ord = seg.ids.ordOf(id);
        if (ord >= 0) {
          seg.deleted.add(ord);
          break;
        }
      }
    }
    for (const seg of outputs) {
      if (seg.deleted.size > 0) {
        seg.bitset = seg.deleted.toDenseBitset(seg.numDocs);
        seg.deletesDirty = true;
      }
      recountLive(seg);
    }
    this.segments = [...this.segments, ...outputs];
    await this.persist(this.wal.generation);
    const docs = outputs.reduce((n, seg) => n + seg.liveDocs, 0);
    this.observer.merge?.((performance.now() - t0) / 1000, docs);
    this.logger.info(
      { dir: this.dir, inputs: inputs.length, outputs: outputs.length, docs, ms: Math.round(performance.now() - t0) },
      'segments merged',
    );
  }

  /**
   * Whether merging `inputs` changes anything. Not when nothing would be dropped and the layout is already the
   * final one: one segment (`partOf` null), or one segment per partition, each holding one partition only.
   * Except, for a final merge, when a large segment lacks its approximate index (a bulk load left it; optimize
   * builds it, whether the store is reopened as a bulk load or as a server) or optimize was given calibration
   * queries: the calibration table lives in the segment's seismic.bin, so the segment is rebuilt.
   */
  private mergeNeeded(
    inputs: LiveSegment[],
    final: boolean,
    calibrationQueries: SparseVector[] | null,
    partOf: Uint8Array[] | null,
  ): boolean {
    if (inputs.some((s) => s.deleted.size > 0)) return true;
    if (partOf === null ? inputs.length > 1 : !separatePartitions(partOf)) return true;
    const threshold = this.config.build.approximateThreshold;
    return final && inputs.some((s) => s.liveDocs >= threshold && (!s.hasApproximate || calibrationQueries !== null));
  }

  /**
   * Writes dirty delete files, the dictionary when it grew, and a new manifest naming `walGeneration`; then
   * removes WAL generations below it and files no manifest references. Runs inside the chain.
   */
  private async persist(walGeneration: number): Promise<void> {
    const gen = this.manifest.nextFileGeneration;
    const writes: Promise<number>[] = [];
    const dirty: LiveSegment[] = [];
    const segs = this.segments.map((s) => {
      let file = s.deletesFile;
      if (s.deletesDirty && s.deleted.size > 0) {
        file = `del-${s.name}-${String(gen).padStart(8, '0')}.bin`;
        // Serialised now (synchronously): later deletes are in the WAL generation this manifest names.
        writes.push(writeSectionFileAtomic(join(this.dir, file), 'deletes', { roaring: s.deleted.serialize() }));
        dirty.push(s);
        s.deletesDirty = false;
      }
      return { s, file };
    });
    let dictionary = this.manifest.dictionary;
    const dictSize = this.dictionary?.size ?? 0;
    if (this.dictionary !== null && (dictSize !== this.persistedDictSize || dictionary === null)) {
      dictionary = `dict-${String(gen).padStart(8, '0')}.bin`;
      writes.push(this.dictionary.save(join(this.dir, dictionary)));
    }
    const next: Manifest = {
      ...this.manifest,
      walGeneration,
      nextFileGeneration: gen + 1,
      dictionary,
      segments: segs.map(({ s, file }) => ({ name: s.name, numDocs: s.numDocs, deletes: file })),
      config: this.config,
    };
    try {
      await Promise.all(writes);
      await saveManifest(this.dir, next);
    } catch (err) {
      for (const s of dirty) s.deletesDirty = true;
      throw err;
    }
    for (const { s, file } of segs) s.deletesFile = file;
    this.manifest = next;
    this.persistedDictSize = dictSize;
    await this.removeUnreferenced();
  }

  /** Deletes files and directories the manifest does not reference (crash leftovers, replaced files). */
  private async removeUnreferenced(): Promise<void> {
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

/** The partition (0 … count-1, count ≤ 256) of every ord of `s`, by its id. */
function partitionsOfOrds(s: LiveSegment, count: number): Uint8Array {
  const out = new Uint8Array(s.numDocs);
  for (let o = 0; o < s.numDocs; o++) out[o] = partitionOf(s.ids.idAt(o), count);
  return out;
}

/** `deleted` (ascending ords) plus every ord outside partition `p`, ascending: the merge input of partition p. */
function excludeOthers(s: LiveSegment, deleted: Uint32Array, partOf: Uint8Array, p: number): Uint32Array {
  const dead = new Set(deleted);
  const out: number[] = [];
  for (let o = 0; o < s.numDocs; o++) if (partOf[o] !== p || dead.has(o)) out.push(o);
  return Uint32Array.from(out);
}

/** Whether each segment holds one partition only, and no two segments the same one. */
function separatePartitions(partOf: readonly Uint8Array[]): boolean {
  const seen = new Set<number>();
  for (const parts of partOf) {
    if (parts.length === 0) continue;
    const p = parts[0];
    if (seen.has(p) || parts.some((x) => x !== p)) return false;
    seen.add(p);
  }
  return true;
}

/**
 * WAL generations on disk must run from the manifest's `walGeneration` without a gap: everything acknowledged
 * since the last manifest is in them, so a missing one (deleted, or lost) would silently drop acknowledged
 * writes. CORRUPT_INDEX naming the missing file.
 */
function checkWalGenerations(dir: string, first: number, gens: readonly number[]): void {
  if (gens.length === 0 || gens[0] !== first) {
    throw corruptIndex(
      walPath(dir, first),
      'missing: the manifest names this write-ahead log generation as current, and acknowledged writes may be in it',
    );
  }
  for (let i = 1; i < gens.length; i++) {
    if (gens[i] !== gens[i - 1] + 1) {
      throw corruptIndex(
        walPath(dir, gens[i - 1] + 1),
        `missing: write-ahead log generations ${gens[i - 1]} and ${gens[i]} exist, with a gap between them`,
      );
    }
  }
}
