/**
 * The per-collection storage engine (contract: store-types.ts): write-ahead log + memtable + sealed segments +
 * per-segment delete bitmaps + manifest + term statistics, in one data directory:
 *
 *   LOCK                         pid of the writer process (lock.ts)
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
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SparseVector } from '../core/sparse-vector.js';
import type { FilterInput } from '../config/request-schemas.js';
import type {
  CollectionStore,
  StoreConfig,
  StoreDocument,
  StoreHit,
  StoreSearchOptions,
  StoreSearchResult,
  StoreStats,
  TermStats,
} from './store-types.js';
import { invalidArgument, SpladexError } from '../core/errors.js';
import { TopK } from '../core/top-k.js';
import { IdTopK } from './id-top-k.js';
import { Memtable } from './memtable.js';
import { TermDictionary } from './dictionary.js';
import { DfTable } from './term-stats.js';
import { OrdBitmap } from './bitmap.js';
import { WalWriter, parseWalName, replayWal, walPath } from './wal.js';
import { encodeDeleteRecord, encodeUpsertRecord, type WalRecord } from './wal-codec.js';
import { SegmentReader } from './segment-reader.js';
import { createExactScratch, taatSearch, type ExactScratch } from './exact-search.js';
import { loadManifest, saveManifest, MANIFEST_FILE, type Manifest } from './manifest.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { getSection, readSectionFile, writeSectionFileAtomic } from './segment-format.js';
import { corruptIndex } from '../core/errors.js';
import { runJob, type SealMode } from './seal-runner.js';
import { memtableColumnar } from './memtable-snapshot.js';
import { clearOrds, countBits, evaluateFilter, matchesFilter } from './metadata-index.js';
import { filteredExactSearch, SELECTIVE_FILTER_MAX_DOCS } from './filtered-search.js';

export interface OpenCollectionStoreOptions {
  /** Collection data directory (created when missing). */
  dir: string;
  config: StoreConfig;
  logger: Logger;
  /** Where segment builds run: a worker thread (default) or inline on the caller's thread. */
  sealMode?: SealMode;
}

/** A segment plus its mutable delete state. */
interface LiveSegment {
  reader: SegmentReader;
  deleted: OrdBitmap;
  /** Dense copy of `deleted` for kernels; null while nothing is deleted. */
  bitset: Uint32Array | null;
  deletesFile: string | null;
  deletesDirty: boolean;
  liveDocs: number;
  liveSumDl: number;
  liveNnz: number;
  scratch: ExactScratch | null;
}

const SOURCE_STRIDE = 2 ** 32;

/** The filter when it has any clause, else null (an empty filter accepts everything). */
function activeFilter(f: FilterInput | null | undefined): FilterInput | null {
  if (f == null) return null;
  return (f.must?.length ?? 0) > 0 || (f.mustNot?.length ?? 0) > 0 || (f.should?.length ?? 0) > 0 ? f : null;
}

function segName(id: number): string {
  return `seg-${String(id).padStart(8, '0')}`;
}

/**
 * Opens (creating when missing) the collection store in `dir`: takes the directory lock, loads the manifest's
 * segments (verifying every checksum), replays the WAL. Throws BUSY when another live process holds the lock
 * and CORRUPT_INDEX naming the file when anything on disk is damaged (a torn WAL tail is repaired, not fatal).
 */
export async function openCollectionStore(opts: OpenCollectionStoreOptions): Promise<CollectionStore> {
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

class SegmentedStore implements CollectionStore {
  readonly config: StoreConfig;
  dictionary: TermDictionary | null;
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly sealMode: SealMode;
  private readonly lock: DirLock;
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
  private closed = false;
  private persistedDictSize = 0;
  private readonly segTop = new TopK(10);

  constructor(opts: OpenCollectionStoreOptions, lock: DirLock) {
    this.config = opts.config;
    this.dir = opts.dir;
    this.logger = opts.logger;
    this.sealMode = opts.sealMode ?? 'worker';
    this.lock = lock;
    this.dictionary = opts.config.growableDictionary ? new TermDictionary() : null;
  }

  // ---------------------------------------------------------------- open

  async load(): Promise<void> {
    const t0 = performance.now();
    let m = await loadManifest(this.dir);
    if (m === undefined) {
      m = { format: 1, walGeneration: 1, nextSegmentId: 1, nextFileGeneration: 1, dictionary: null, segments: [], config: this.config };
      await saveManifest(this.dir, m);
    }
    this.manifest = m;
    if (this.dictionary !== null && m.dictionary !== null) {
      this.dictionary = await TermDictionary.load(join(this.dir, m.dictionary));
      this.persistedDictSize = this.dictionary.size;
    }
    this.segments = await Promise.all(m.segments.map((s) => this.openSegment(s.name, s.deletes)));
    for (const s of this.segments) this.countSegment(s);
    await this.removeUnreferenced();
    const gens = (await readdir(this.dir))
      .map(parseWalName)
      .filter((g): g is number => g !== undefined && g >= m.walGeneration)
      .sort((a, b) => a - b);
    let replayed = 0;
    let lastSize = -1;
    for (const g of gens) {
      const path = walPath(this.dir, g);
      const r = await replayWal(path, this.logger, (rec) => this.applyRecord(rec, path));
      replayed += r.records;
      lastSize = r.sizeBytes;
    }
    this.wal = gens.length > 0 ? await WalWriter.open(this.dir, gens[gens.length - 1], lastSize) : await WalWriter.open(this.dir, m.walGeneration);
    this.logger.info(
      { dir: this.dir, segments: this.segments.length, documents: this.liveDocs(), walRecords: replayed, ms: Math.round(performance.now() - t0) },
      'collection store opened',
    );
    this.maybeScheduleSeal();
  }

  private async openSegment(name: string, deletesFile: string | null): Promise<LiveSegment> {
    const reader = await SegmentReader.open(join(this.dir, name));
    let deleted = OrdBitmap.create();
    if (deletesFile !== null) {
      const path = join(this.dir, deletesFile);
      const f = await readSectionFile(path, 'deletes');
      try {
        deleted = OrdBitmap.deserialize(getSection(f, 'roaring', Uint8Array));
      } catch (err) {
        throw corruptIndex(path, `bad roaring bitmap (${(err as Error).message})`);
      }
      const arr = deleted.toArray();
      if (arr.length > 0 && arr[arr.length - 1] >= reader.numDocs) throw corruptIndex(path, 'deleted ord out of range');
    }
    return {
      reader,
      deleted,
      bitset: deleted.size > 0 ? deleted.toDenseBitset(reader.numDocs) : null,
      deletesFile,
      deletesDirty: false,
      liveDocs: 0,
      liveSumDl: 0,
      liveNnz: 0,
      scratch: null,
    };
  }

  /** Adds a segment's live docs to df and its live counters (open and swap-in). */
  private countSegment(s: LiveSegment): void {
    const f = s.reader.forward;
    s.liveDocs = 0;
    s.liveSumDl = 0;
    s.liveNnz = 0;
    for (let o = 0; o < f.numDocs; o++) {
      if (s.bitset !== null && (s.bitset[o >>> 5] & (1 << (o & 31))) !== 0) continue;
      const a = f.offsets[o];
      const b = f.offsets[o + 1];
      this.df.addAll(f.termIds.subarray(a, b), 1);
      s.liveDocs++;
      s.liveSumDl += s.reader.dl[o];
      s.liveNnz += b - a;
    }
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
    const pending = this.dictionary?.takePending() ?? { firstId: 0, terms: [] };
    const payload = encodeUpsertRecord(docs, pending.firstId, pending.terms);
    await this.wal.append(payload, () => this.applyUpsert(docs));
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
      throw invalidArgument(`documents[${i}].dense`, `length ${d.dense.length} does not match the collection's ${this.config.denseDim ?? 'absent'} dense dim`);
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
      const ord = s.reader.ordOf(id);
      if (ord >= 0 && !s.deleted.has(ord)) {
        this.deleteOrd(s, ord);
        return true;
      }
    }
    return false;
  }

  private deleteOrd(s: LiveSegment, ord: number): void {
    const f = s.reader.forward;
    s.deleted.add(ord);
    if (s.bitset === null) s.bitset = new Uint32Array((s.reader.numDocs + 31) >>> 5);
    s.bitset[ord >>> 5] |= 1 << (ord & 31);
    s.deletesDirty = true;
    this.df.addAll(f.termIds.subarray(f.offsets[ord], f.offsets[ord + 1]), -1);
    s.liveDocs--;
    s.liveSumDl -= s.reader.dl[ord];
    s.liveNnz -= f.offsets[ord + 1] - f.offsets[ord];
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
    const { s, ord } = loc;
    const doc: StoreDocument = { id, vector: s.reader.vector(ord), ...s.reader.fieldsOf(ord) };
    const dense = s.reader.denseOf(ord);
    if (dense !== undefined) doc.dense = dense;
    return doc;
  }

  getDense(id: string): Float32Array | undefined {
    for (const m of this.frozen === null ? [this.memtable] : [this.memtable, this.frozen]) {
      const slot = m.slotOfId(id);
      if (slot !== undefined) return m.fieldsOf(slot).dense;
    }
    const loc = this.findInSegments(id);
    return loc === undefined ? undefined : loc.s.reader.denseOf(loc.ord);
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
      const excluded = f === null ? s.bitset : this.segmentExcluded(s, f);
      for (let o = 0; o < s.reader.numDocs; o++) {
        if (excluded === null || (excluded[o >>> 5] & (1 << (o & 31))) === 0) out.push(s.reader.idAt(o));
      }
    }
    return out;
  }

  /** Excluded bitset of a segment for `filter`: docs failing it, OR deleted. */
  private segmentExcluded(s: LiveSegment, filter: FilterInput): Uint32Array {
    const n = s.reader.numDocs;
    const md = s.reader.metadata ?? { numDocs: n, keyword: new Map(), number: new Map() };
    const x = evaluateFilter(md, filter, n);
    if (s.bitset !== null) for (let w = 0; w < x.length; w++) x[w] |= s.bitset[w];
    return x;
  }

  private findInSegments(id: string): { s: LiveSegment; ord: number } | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      const ord = s.reader.ordOf(id);
      if (ord >= 0 && !s.deleted.has(ord)) return { s, ord };
    }
    return undefined;
  }

  search(query: SparseVector, options: StoreSearchOptions): StoreSearchResult {
    this.checkOpen();
    const filter = activeFilter(options.filter);
    const k = options.k;
    const top = new IdTopK(k);
    const result: StoreSearchResult = { hits: [], docsScored: 0, blocksScored: 0, blocksSkipped: 0, exact: true };
    if (k <= 0 || query.indices.length === 0) return result;
    const avgdl = this.avgdl();
    const types = this.config.metadataTypes;
    const accept = (md: Record<string, unknown> | undefined) => filter === null || matchesFilter(md, filter, types);
    const mx = filter === null ? null : this.memtable.excludedBy(accept);
    result.docsScored += this.memtable.search(query, this.config.weighting, avgdl, top, 0, mx);
    if (this.frozen !== null) {
      const fx = filter === null ? null : this.frozen.excludedBy(accept);
      result.docsScored += this.frozen.search(query, this.config.weighting, avgdl, top, SOURCE_STRIDE, fx);
    }
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i];
      if (s.liveDocs === 0) continue;
      const base = (i + 2) * SOURCE_STRIDE;
      const excluded = filter === null ? s.bitset : this.segmentExcluded(s, filter);
      if (s.scratch === null) s.scratch = createExactScratch(s.reader.numDocs, s.reader.postings.numTerms);
      if (filter !== null) {
        const accepted = s.reader.numDocs - countBits(excluded as Uint32Array, s.reader.numDocs);
        if (accepted === 0) continue;
        if (accepted <= SELECTIVE_FILTER_MAX_DOCS) {
          // Selective filter: score exactly the accepted docs (exact, cheaper than any traversal).
          const r = filteredExactSearch(s.reader.forward, query, clearOrds(excluded as Uint32Array, s.reader.numDocs), k, s.scratch.dense, this.segTop);
          result.docsScored += r.docsScored;
          for (let j = 0; j < r.ords.length; j++) top.push(s.reader.idAt(r.ords[j]), r.scores[j], base + r.ords[j]);
          continue;
        }
      }
      const approx = s.reader.approximate;
      if (!options.exact && approx !== null) {
        // Approximate path (Seismic, see approximate.ts).
        const r = approx.search(query, { k, queryCut: options.queryCut, heapFactor: options.heapFactor, nKnn: options.nKnn, excluded });
        result.docsScored += r.docsScored;
        result.blocksScored += r.blocksScored;
        result.blocksSkipped += r.blocksSkipped;
        result.exact = false;
        for (let j = 0; j < r.ords.length; j++) top.push(s.reader.idAt(r.ords[j]), r.scores[j], base + r.ords[j]);
        continue;
      }
      this.segTop.reset(k);
      result.docsScored += taatSearch(s.reader.postings, query, excluded, s.scratch, this.segTop);
      const { keys, scores } = this.segTop.drain();
      for (let j = 0; j < keys.length; j++) top.push(s.reader.idAt(keys[j]), scores[j], base + keys[j]);
    }
    result.hits = top.sorted().map((h) => {
      const hit: StoreHit = { id: h.id, score: h.score };
      if (options.withVectors === true) hit.vector = this.vectorOf(h.payload, avgdl);
      return hit;
    });
    return result;
  }

  private vectorOf(payload: number, avgdl: number): SparseVector {
    const src = Math.floor(payload / SOURCE_STRIDE);
    const at = payload - src * SOURCE_STRIDE;
    if (src === 0) return this.memtable.weightedVector(at, this.config.weighting, avgdl);
    if (src === 1 && this.frozen !== null) return this.frozen.weightedVector(at, this.config.weighting, avgdl);
    return this.segments[src - 2].reader.vector(at);
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
      bytes += s.reader.sizeBytes;
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

  private maybeScheduleSeal(): void {
    if (this.sealQueued || this.closed || this.memtable.size < this.config.memtableMaxDocs) return;
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

  async optimize(): Promise<{ segments: number; tookMs: number }> {
    this.checkOpen();
    const t0 = performance.now();
    await this.enqueue(async () => {
      if (this.frozen !== null) await this.sealNow(); // left by a failed seal
      await this.sealNow();
    });
    await this.enqueue(() => this.mergeAll());
    return { segments: this.segments.length, tookMs: performance.now() - t0 };
  }

  /**
   * Seals the memtable (if it holds anything) and persists. Runs inside the chain. When an earlier attempt failed
   * after freezing (e.g. disk full), its frozen memtable is still searchable and is sealed first, without a
   * second rotation (its records are in WAL generations below `frozenNextGen`, which the manifest still covers).
   */
  private async sealNow(): Promise<void> {
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
          build: this.config.build,
          metadataTypes: this.config.metadataTypes,
        },
        this.sealMode,
      );
      seg = await this.openSegment(segName(id), null);
    }
    // Swap (synchronous): the frozen memtable's docs become the segment's, minus those deleted meanwhile.
    if (seg !== null) {
      seg.liveDocs = seg.reader.numDocs;
      seg.liveNnz = seg.reader.forward.offsets[seg.reader.numDocs];
      for (let o = 0; o < seg.reader.numDocs; o++) seg.liveSumDl += seg.reader.dl[o];
      for (const slot of slots) {
        if (frozen.isLive(slot)) continue;
        const ord = seg.reader.ordOf(frozen.idOf(slot));
        // df was already decremented when the frozen doc was deleted; only the segment's own state changes.
        seg.deleted.add(ord);
        if (seg.bitset === null) seg.bitset = new Uint32Array((seg.reader.numDocs + 31) >>> 5);
        seg.bitset[ord >>> 5] |= 1 << (ord & 31);
        seg.deletesDirty = true;
        seg.liveDocs--;
        seg.liveSumDl -= seg.reader.dl[ord];
        seg.liveNnz -= seg.reader.forward.offsets[ord + 1] - seg.reader.forward.offsets[ord];
      }
      this.segments = [...this.segments, seg];
    }
    this.frozen = null;
    await this.persist(newGen);
    this.logger.info(
      { dir: this.dir, segment: seg?.reader.name ?? null, docs: seg?.reader.numDocs ?? 0, ms: Math.round(performance.now() - t0) },
      'memtable sealed',
    );
    // Writes that arrived during the seal may already fill the new memtable.
    this.maybeScheduleSeal();
  }

  /** Merges all segments into one (dropping deleted docs, reweighting bm25). Runs inside the chain. */
  private async mergeAll(): Promise<void> {
    const inputs = this.segments;
    if (inputs.length === 0 || (inputs.length === 1 && inputs[0].deleted.size === 0)) return;
    const t0 = performance.now();
    const snapshot = inputs.map((s) => s.deleted.toArray());
    const live = inputs.reduce((n, s) => n + s.liveDocs, 0);
    let seg: LiveSegment | null = null;
    if (live > 0) {
      const id = this.manifest.nextSegmentId++;
      const dir = join(this.dir, segName(id));
      await runJob(
        {
          kind: 'merge',
          dir,
          inputs: inputs.map((s, i) => ({ dir: s.reader.dir, deleted: snapshot[i] })),
          weighting: this.config.weighting,
          avgdl: this.avgdl(),
          denseDim: this.config.denseDim ?? 0,
          build: this.config.build,
          metadataTypes: this.config.metadataTypes,
        },
        this.sealMode,
      );
      seg = await this.openSegment(segName(id), null);
    }
    // Swap (synchronous). df: live docs are the same set; recount from the new segment after removing the inputs'.
    for (const s of inputs) this.uncountSegment(s);
    const carried: string[] = [];
    inputs.forEach((s, i) => {
      const before = new Set(snapshot[i]);
      for (const o of s.deleted.toArray()) if (!before.has(o)) carried.push(s.reader.idAt(o));
    });
    this.segments = this.segments.filter((s) => !inputs.includes(s));
    if (seg !== null) {
      for (const id of carried) {
        const ord = seg.reader.ordOf(id);
        if (ord >= 0) seg.deleted.add(ord);
      }
      if (seg.deleted.size > 0) {
        seg.bitset = seg.deleted.toDenseBitset(seg.reader.numDocs);
        seg.deletesDirty = true;
      }
      this.countSegment(seg);
      this.segments = [...this.segments, seg];
    }
    await this.persist(this.wal.generation);
    this.logger.info({ dir: this.dir, inputs: inputs.length, docs: seg?.liveDocs ?? 0, ms: Math.round(performance.now() - t0) }, 'segments merged');
  }

  private uncountSegment(s: LiveSegment): void {
    const f = s.reader.forward;
    for (let o = 0; o < f.numDocs; o++) {
      if (s.bitset !== null && (s.bitset[o >>> 5] & (1 << (o & 31))) !== 0) continue;
      this.df.addAll(f.termIds.subarray(f.offsets[o], f.offsets[o + 1]), -1);
    }
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
        file = `del-${s.reader.name}-${String(gen).padStart(8, '0')}.bin`;
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
      segments: segs.map(({ s, file }) => ({ name: s.reader.name, numDocs: s.reader.numDocs, deletes: file })),
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
    const m = this.manifest;
    const keep = new Set<string>([MANIFEST_FILE, 'LOCK']);
    for (const s of m.segments) {
      keep.add(s.name);
      if (s.deletes !== null) keep.add(s.deletes);
    }
    if (m.dictionary !== null) keep.add(m.dictionary);
    let bytes = 0;
    for (const name of await readdir(this.dir)) {
      const gen = parseWalName(name);
      if (gen !== undefined) {
        if (gen < m.walGeneration) await rm(join(this.dir, name), { force: true });
        continue;
      }
      if (keep.has(name)) {
        if (!name.startsWith('seg-') && name !== 'LOCK') bytes += (await stat(join(this.dir, name))).size;
        continue;
      }
      if (/^(seg-|del-|dict-)/.test(name) || name.endsWith('.tmp')) {
        await rm(join(this.dir, name), { recursive: true, force: true });
      }
    }
    this.fileBytes = bytes;
  }

  // ---------------------------------------------------------------- lifecycle

  private checkOpen(): void {
    if (this.closed) throw new SpladexError('INTERNAL', `collection store ${this.dir} is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.wal.close();
    await this.lock.release();
  }
}
