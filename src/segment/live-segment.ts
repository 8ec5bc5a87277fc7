/**
 * A sealed segment as the store holds it: its ids, the SegmentReader (resident, or parked: not in memory), its
 * mutable delete state (roaring bitmap for persistence, dense bitset for kernels, kept in step), live counters
 * (docs, Σdl, nnz) for collection statistics, and lazily allocated exact-search scratch. Also the filter →
 * excluded-bitset helper. Callers: collection-store.ts, store-search.ts.
 *
 * Parked segments keep a bulk load's memory bounded by the memtable rather than by the data loaded: the store
 * needs only a segment's ids while it ingests (an upsert replaces, a delete removes, an older version by id),
 * so a bulk-load store opens its segments parked (ids, about 30 bytes per doc, resident; forward index,
 * postings, stored fields not). Anything that needs more — a search, a get, a delete that hits the segment —
 * goes through `segmentReader`, which reads the whole segment synchronously on first use (a few hundred ms per
 * 200k docs) and keeps it resident from then on.
 *
 * Point in time: a segment's deleted set only grows (`markDeleted`; a merge makes a new segment), and each
 * delete is logged in order, so the deletes as of some moment are (the bitset now) minus (the ords logged since):
 * `deletedAt` rebuilds them for a point-in-time view (storage/store-view.ts).
 *
 * Delete files are section files (kind "deletes") with one section `roaring`: the portable roaring bytes of the
 * deleted ords.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FilterInput } from '../config/request-schemas.js';
import { corruptIndex } from '../core/errors.js';
import { OrdBitmap } from '../filter/bitmap.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { evaluateFilter } from '../filter/metadata-index.js';
import { getSection, readSectionFile } from '../core/section-file.js';
import { toGlobalIds } from './term-remap.js';
import { parseForward, parseIds, SEGMENT_FILES, SegmentReader, type SegmentIds } from './segment-reader.js';
import type { DfTable } from './term-stats.js';
import { grow } from './memtable.js';
import type { SegmentSearchState } from './segment-search.js';

/** A segment plus its mutable delete state. */
export interface LiveSegment {
  /** Directory name (`seg-<8 digits>`) and path. */
  name: string;
  dir: string;
  numDocs: number;
  /** Bytes of the segment's files. */
  sizeBytes: number;
  ids: SegmentIds;
  /** Whether the segment carries a Seismic index (known without opening it). */
  hasApproximate: boolean;
  /** The full reader; null while parked (see the file comment; `segmentReader` opens it). */
  resident: SegmentReader | null;
  deleted: OrdBitmap;
  /** Dense copy of `deleted` for kernels; null while nothing is deleted. */
  bitset: Uint32Array | null;
  /** Delete file the current manifest names (null: none). */
  deletesFile: string | null;
  /** Deletes changed since `deletesFile` was written. */
  deletesDirty: boolean;
  /** Ords deleted since the segment opened, in order (`deleteCount` of them; see the file comment). */
  deleteLog: Int32Array;
  deleteCount: number;
  liveDocs: number;
  liveSumDl: number;
  liveNnz: number;
  /** Main-thread search state (kernels = the resident reader, exact scratch); null until first searched. */
  search: SegmentSearchState | null;
  /**
   * Whether `bitset` has been handed to a search worker for a query (`publishedDeletes`): it is then frozen, and
   * `markDeleted` writes into a copy instead, so a query in flight keeps the deletes it was dispatched with.
   */
  bitsetPublished: boolean;
}

export interface OpenLiveSegmentOptions {
  /** Keep the full reader in memory (serving stores) or park the segment (bulk loads). */
  resident: boolean;
  /** Collection term statistics to add the live docs' terms to (when opening a store), or null. */
  df: DfTable | null;
}

/**
 * Opens segment `name` of `dataDir` with its delete file, verifying every file it reads (all of them when
 * resident; forward.bin and ids.bin when parked: the rest is verified when first used). CORRUPT_INDEX naming
 * the file at fault.
 */
export async function openLiveSegment(
  dataDir: string,
  name: string,
  deletesFile: string | null,
  opts: OpenLiveSegmentOptions,
): Promise<LiveSegment> {
  const dir = join(dataDir, name);
  let resident: SegmentReader | null = null;
  let forward: ForwardIndex;
  let terms: Uint32Array | null;
  let dl: Float64Array;
  let ids: SegmentIds;
  let sizeBytes: number;
  if (opts.resident) {
    resident = await SegmentReader.open(dir);
    ({ forward, terms, dl, ids, sizeBytes } = resident);
  } else {
    // Only what the counters and the id lookups need; the forward index is dropped after counting.
    const [fwd, idf] = await Promise.all([
      readSectionFile(join(dir, SEGMENT_FILES.forward), 'forward'),
      readSectionFile(join(dir, SEGMENT_FILES.ids), 'ids'),
    ]);
    ({ forward, terms, dl } = parseForward(fwd));
    ids = parseIds(idf, forward.numDocs);
    sizeBytes = await segmentBytes(dir);
  }
  const numDocs = forward.numDocs;
  let deleted = OrdBitmap.create();
  if (deletesFile !== null) {
    const path = join(dataDir, deletesFile);
    const f = await readSectionFile(path, 'deletes');
    try {
      deleted = OrdBitmap.deserialize(getSection(f, 'roaring', Uint8Array));
    } catch (err) {
      throw corruptIndex(path, `bad roaring bitmap (${(err as Error).message})`);
    }
    const arr = deleted.toArray();
    if (arr.length > 0 && arr[arr.length - 1] >= numDocs) throw corruptIndex(path, 'deleted ord out of range');
  }
  const s: LiveSegment = {
    name,
    dir,
    numDocs,
    sizeBytes,
    ids,
    hasApproximate: resident !== null ? resident.approximate !== null : existsSync(join(dir, SEGMENT_FILES.seismic)),
    resident,
    deleted,
    bitset: deleted.size > 0 ? deleted.toDenseBitset(numDocs) : null,
    deletesFile,
    deletesDirty: false,
    deleteLog: new Int32Array(16),
    deleteCount: 0,
    liveDocs: 0,
    liveSumDl: 0,
    liveNnz: 0,
    search: null,
    bitsetPublished: false,
  };
  countLive(s, forward, terms, dl, opts.df);
  return s;
}

/** The segment's full reader, read from disk (blocking) on first use when parked, resident from then on. */
export function segmentReader(s: LiveSegment): SegmentReader {
  if (s.resident === null) {
    const r = SegmentReader.openSync(s.dir);
    if (r.numDocs !== s.numDocs)
      throw corruptIndex(join(s.dir, SEGMENT_FILES.forward), `has ${r.numDocs} docs, was opened with ${s.numDocs}`);
    s.resident = r;
    s.ids = r.ids; // one copy of the ids
  }
  return s.resident;
}

async function segmentBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of Object.values(SEGMENT_FILES)) {
    try {
      n += (await stat(join(dir, f))).size;
    } catch {
      // optional file absent
    }
  }
  return n;
}

export function isDeletedOrd(s: LiveSegment, ord: number): boolean {
  return s.bitset !== null && (s.bitset[ord >>> 5] & (1 << (ord & 31))) !== 0;
}

/** Computes the live counters from the segment's forward index; when `df` is given, adds each live doc's terms. */
function countLive(s: LiveSegment, f: ForwardIndex, terms: Uint32Array | null, dl: Float64Array, df: DfTable | null): void {
  s.liveDocs = 0;
  s.liveSumDl = 0;
  s.liveNnz = 0;
  for (let o = 0; o < f.numDocs; o++) {
    if (isDeletedOrd(s, o)) continue;
    const a = f.offsets[o];
    const b = f.offsets[o + 1];
    if (df !== null) df.addAll(terms === null ? f.termIds.subarray(a, b) : toGlobalIds(terms, f.termIds.subarray(a, b)), 1);
    s.liveDocs++;
    s.liveSumDl += dl[o];
    s.liveNnz += b - a;
  }
}

/** Recomputes the live counters (e.g. after deletes were carried into a merged segment); opens a parked segment. */
export function recountLive(s: LiveSegment): void {
  const r = segmentReader(s);
  countLive(s, r.forward, r.terms, r.dl, null);
}

/** Marks a live `ord` deleted (bitmap, bitset, counters, dirty flag); df is the caller's business. Opens a parked segment. */
export function markDeleted(s: LiveSegment, ord: number): void {
  const r = segmentReader(s);
  const f = r.forward;
  s.deleted.add(ord);
  if (s.bitset === null) s.bitset = new Uint32Array((s.numDocs + 31) >>> 5);
  else if (s.bitsetPublished) {
    // Copy on write: a worker may still be reading the published array for a query dispatched before this delete.
    s.bitset = s.bitset.slice();
    s.bitsetPublished = false;
  }
  s.bitset[ord >>> 5] |= 1 << (ord & 31);
  s.deletesDirty = true;
  if (s.deleteCount === s.deleteLog.length) s.deleteLog = grow(s.deleteLog, s.deleteLog.length * 2);
  s.deleteLog[s.deleteCount++] = ord;
  s.liveDocs--;
  s.liveSumDl -= r.dl[ord];
  s.liveNnz -= f.offsets[ord + 1] - f.offsets[ord];
}

/**
 * The delete bitset to hand a search worker for one query (null: nothing deleted): a SharedArrayBuffer view,
 * frozen from now on (`markDeleted` copies on write). Copied into shared memory once per change of the deletes.
 */
export function publishedDeletes(s: LiveSegment): Uint32Array | null {
  const b = s.bitset;
  if (b === null) return null;
  if (!s.bitsetPublished) {
    if (!(b.buffer instanceof SharedArrayBuffer)) {
      const shared = new Uint32Array(new SharedArrayBuffer(b.byteLength));
      shared.set(b);
      s.bitset = shared;
    }
    s.bitsetPublished = true;
  }
  return s.bitset;
}

/** The filter when it has any clause, else null (an empty filter accepts everything). */
export function activeFilter(f: FilterInput | null | undefined): FilterInput | null {
  if (f == null) return null;
  return (f.must?.length ?? 0) > 0 || (f.mustNot?.length ?? 0) > 0 || (f.should?.length ?? 0) > 0 ? f : null;
}

/**
 * The deleted bitset of `s` as it was when `deleteCount` deletes were logged: the live one (null: none) while
 * nothing was deleted since — valid for one synchronous use — else a fresh copy without the later deletes.
 */
export function deletedAt(s: LiveSegment, deleteCount: number): { bitset: Uint32Array | null; stable: boolean } {
  if (s.deleteCount === deleteCount || s.bitset === null) return { bitset: s.bitset, stable: false };
  const bitset = s.bitset.slice();
  for (let i = deleteCount; i < s.deleteCount; i++) {
    const o = s.deleteLog[i];
    bitset[o >>> 5] &= ~(1 << (o & 31));
  }
  return { bitset, stable: true };
}

/** Excluded bitset of a segment for `filter`: docs failing it, OR deleted (`deleted`, default the live bitset). A fresh array. */
export function segmentExcluded(s: LiveSegment, filter: FilterInput, deleted: Uint32Array | null = s.bitset): Uint32Array {
  const n = s.numDocs;
  const md = segmentReader(s).metadata ?? { numDocs: n, keyword: new Map(), number: new Map() };
  const x = evaluateFilter(md, filter, n);
  if (deleted !== null) for (let w = 0; w < x.length; w++) x[w] |= deleted[w];
  return x;
}
