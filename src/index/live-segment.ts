/**
 * A sealed segment as the store holds it: the immutable SegmentReader plus its mutable delete state (roaring
 * bitmap for persistence, dense bitset for kernels, kept in step), live counters (docs, Σdl, nnz) for collection
 * statistics, and lazily allocated exact-search scratch. Also the filter → excluded-bitset helper.
 * Delete files are section files (kind "deletes") with one section `roaring`: the portable roaring bytes of the
 * deleted ords. Callers: collection-store.ts, store-search.ts.
 */
import { join } from 'node:path';
import type { FilterInput } from '../config/request-schemas.js';
import { corruptIndex } from '../core/errors.js';
import { OrdBitmap } from './bitmap.js';
import type { ExactScratch } from './exact-search.js';
import { evaluateFilter } from './metadata-index.js';
import { getSection, readSectionFile } from './segment-format.js';
import { SegmentReader } from './segment-reader.js';
import type { DfTable } from './term-stats.js';

/** A segment plus its mutable delete state. */
export interface LiveSegment {
  reader: SegmentReader;
  deleted: OrdBitmap;
  /** Dense copy of `deleted` for kernels; null while nothing is deleted. */
  bitset: Uint32Array | null;
  /** Delete file the current manifest names (null: none). */
  deletesFile: string | null;
  /** Deletes changed since `deletesFile` was written. */
  deletesDirty: boolean;
  liveDocs: number;
  liveSumDl: number;
  liveNnz: number;
  scratch: ExactScratch | null;
}

/** Opens segment `name` of `dataDir` with its delete file; CORRUPT_INDEX naming the file at fault. */
export async function openLiveSegment(dataDir: string, name: string, deletesFile: string | null): Promise<LiveSegment> {
  const reader = await SegmentReader.open(join(dataDir, name));
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
    if (arr.length > 0 && arr[arr.length - 1] >= reader.numDocs) throw corruptIndex(path, 'deleted ord out of range');
  }
  const s: LiveSegment = {
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
  recountLive(s, null);
  return s;
}

export function isDeletedOrd(s: LiveSegment, ord: number): boolean {
  return s.bitset !== null && (s.bitset[ord >>> 5] & (1 << (ord & 31))) !== 0;
}

/** Recomputes the live counters; when `df` is given, adds `sign` × each live doc's terms to it. */
export function recountLive(s: LiveSegment, df: DfTable | null, sign = 1): void {
  const f = s.reader.forward;
  s.liveDocs = 0;
  s.liveSumDl = 0;
  s.liveNnz = 0;
  for (let o = 0; o < f.numDocs; o++) {
    if (isDeletedOrd(s, o)) continue;
    const a = f.offsets[o];
    const b = f.offsets[o + 1];
    if (df !== null) df.addAll(f.termIds.subarray(a, b), sign);
    s.liveDocs++;
    s.liveSumDl += s.reader.dl[o];
    s.liveNnz += b - a;
  }
}

/** Marks a live `ord` deleted (bitmap, bitset, counters, dirty flag); df is the caller's business. */
export function markDeleted(s: LiveSegment, ord: number): void {
  const f = s.reader.forward;
  s.deleted.add(ord);
  if (s.bitset === null) s.bitset = new Uint32Array((s.reader.numDocs + 31) >>> 5);
  s.bitset[ord >>> 5] |= 1 << (ord & 31);
  s.deletesDirty = true;
  s.liveDocs--;
  s.liveSumDl -= s.reader.dl[ord];
  s.liveNnz -= f.offsets[ord + 1] - f.offsets[ord];
}

/** The filter when it has any clause, else null (an empty filter accepts everything). */
export function activeFilter(f: FilterInput | null | undefined): FilterInput | null {
  if (f == null) return null;
  return (f.must?.length ?? 0) > 0 || (f.mustNot?.length ?? 0) > 0 || (f.should?.length ?? 0) > 0 ? f : null;
}

/** Excluded bitset of a segment for `filter`: docs failing it, OR deleted. A fresh array. */
export function segmentExcluded(s: LiveSegment, filter: FilterInput): Uint32Array {
  const n = s.reader.numDocs;
  const md = s.reader.metadata ?? { numDocs: n, keyword: new Map(), number: new Map() };
  const x = evaluateFilter(md, filter, n);
  if (s.bitset !== null) for (let w = 0; w < x.length; w++) x[w] |= s.bitset[w];
  return x;
}
