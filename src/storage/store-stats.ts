/**
 * The collection store's figures over its current contents (memtable, frozen memtable, live segments): live
 * document count, average document length (the avgdl bm25 weights with, unless cluster `dfs` passes its own),
 * the sizes `GET /v1/collections/:name` reports, and the segment whose calibration table `tunedFor` reads.
 * Pure reads, O(segments); called by collection-store.ts on every search (avgdl) and info request.
 */
import type { Memtable } from '../segment/memtable.js';
import { segmentReader, type LiveSegment } from '../segment/live-segment.js';
import type { StoreCalibration, StoreStats } from './store-types.js';

/** What the figures are computed over (the store's state at one synchronous moment). */
export interface StoreContents {
  readonly memtable: Memtable;
  readonly frozen: Memtable | null;
  readonly segments: readonly LiveSegment[];
}

/** Live documents: memtables plus every segment's live docs. */
export function liveDocCount(c: StoreContents): number {
  let n = c.memtable.size + (c.frozen?.size ?? 0);
  for (const s of c.segments) n += s.liveDocs;
  return n;
}

/** Mean document length (sum of dl / live docs) over every live document; 0 for an empty store. */
export function liveAvgdl(c: StoreContents): number {
  let n = c.memtable.size + (c.frozen?.size ?? 0);
  let sum = c.memtable.sumDl + (c.frozen?.sumDl ?? 0);
  for (const s of c.segments) {
    n += s.liveDocs;
    sum += s.liveSumDl;
  }
  return n > 0 ? sum / n : 0;
}

/** The largest segment with an approximate index (whose table `tunedFor` reads), or null. */
export function calibratedSegment(segments: readonly LiveSegment[]): LiveSegment | null {
  let best: LiveSegment | null = null;
  for (const s of segments) {
    // Only segments with a Seismic index are opened (a bulk load's deferred seals have none).
    if (s.hasApproximate && segmentReader(s).approximate?.tuned && (best === null || s.liveDocs > best.liveDocs)) best = s;
  }
  return best;
}

/** The calibration rows of the largest calibrated segment, or null. */
export function storeCalibration(segments: readonly LiveSegment[]): StoreCalibration | null {
  const best = calibratedSegment(segments);
  const rows = best === null ? null : (segmentReader(best).approximate?.calibration?.() ?? null);
  return best === null || rows === null ? null : { documents: best.liveDocs, rows };
}

/** The store's sizes; `otherBytes`: WAL plus manifest, dictionary and delete files. */
export function storeStats(c: StoreContents, otherBytes: number): StoreStats {
  const documents = liveDocCount(c);
  let nnz = c.memtable.nnz + (c.frozen?.nnz ?? 0);
  let deleted = 0;
  let bytes = otherBytes;
  for (const s of c.segments) {
    nnz += s.liveNnz;
    deleted += s.deleted.size;
    bytes += s.sizeBytes;
  }
  return {
    documents,
    deleted,
    segments: c.segments.length,
    memtableDocuments: c.memtable.size + (c.frozen?.size ?? 0),
    nnz,
    avgDocTerms: documents > 0 ? nnz / documents : 0,
    bytes,
    estimatedRecall: null,
    tuned: null,
  };
}
