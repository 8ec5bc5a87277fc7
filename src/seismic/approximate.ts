/**
 * Bridge between the storage engine and the approximate (Seismic) index of src/seismic/. A segment with at
 * least `build.approximateThreshold` docs carries a `seismic.bin` section file (src/core/section-file.ts, kind
 * "seismic", section names owned by seismic-index.ts); the segment writer asks `buildApproximateSections` for
 * its sections (inside the seal worker) and the reader hands them to `openApproximateSearcher`. Searches with
 * `exact: false` go through the returned searcher; segments without one are searched exactly.
 * Callers: segment-writer.ts, segment-reader.ts.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { IndexBuildConfig } from '../config/index-config.js';
import type { ForwardIndex } from '../index/forward-index.js';
import type { SectionArray } from '../core/section-file.js';
import { buildSeismicIndex } from './build.js';
import { withCalibration } from './calibrate.js';
import { seismicFromSections, seismicToSections, type CalibrationRow } from './seismic-index.js';
import { SeismicSearcher } from './searcher.js';

/** What the store needs from an approximate per-segment searcher (SeismicSearcher's shape). */
export interface ApproximateSearcher {
  search(
    query: SparseVector,
    opts: {
      k: number;
      queryCut: number;
      heapFactor: number;
      nKnn: number;
      excluded: Uint32Array | null;
      after?: { score: number; ord: number } | null;
    },
  ): { ords: Int32Array; scores: Float32Array; docsScored: number; blocksScored: number; blocksSkipped: number };
  /** Seal-time calibrated (queryCut, heapFactor) for a recall target; null when the segment carries no table. */
  tuned?(targetRecall: number): { queryCut: number; heapFactor: number; estimatedRecall: number } | null;
  /** The segment's whole calibration table, targets ascending; null when it carries none. */
  calibration?(): CalibrationRow[] | null;
}

/**
 * Sections of the approximate index for a segment's forward index (CPU heavy: call from the seal worker),
 * including a recall calibration table (seismic/calibrate.ts `withCalibration`) read back through `tuned`,
 * computed on `calibrationQueries` when given (non-empty), else on doc-derived queries.
 */
export function buildApproximateSections(
  forward: ForwardIndex,
  build: IndexBuildConfig,
  calibrationQueries?: readonly SparseVector[] | null,
): Record<string, ArrayBufferView> | null {
  const scaled = { ...build, nPostings: segmentPostings(build.nPostings, forward.numDocs) };
  const queries = calibrationQueries && calibrationQueries.length > 0 ? calibrationQueries : undefined;
  return seismicToSections(withCalibration(forward, buildSeismicIndex(forward, scaled), { seed: build.seed, queries }));
}

/** Collection size the paper's default nPostings (4000) was chosen for (MS MARCO passages). */
const PAPER_DOCS = 8_841_823;
const MIN_POSTINGS = 100;

/**
 * Posting-list budget of one segment: the configured `nPostings` is the paper's, sized for 8.8M docs; a segment
 * keeps the same fraction of its own size (at least MIN_POSTINGS, at most the configured value). Without this a
 * 50k-doc segment keeps every posting and builds summaries for tiny blocks: measured on a 20k-doc synthetic
 * segment, an index 14x the forward index. `npm run bench` and the filter bench use this function too (452 at 1M).
 */
export function segmentPostings(nPostings: number, numDocs: number): number {
  return Math.min(nPostings, Math.max(MIN_POSTINGS, Math.round((nPostings * numDocs) / PAPER_DOCS)));
}

/**
 * A searcher over a segment's stored approximate sections. Throws (SpladexError CORRUPT_INDEX without a file
 * name, from seismic-index.ts) when the sections are inconsistent; the reader adds the file name.
 */
export function openApproximateSearcher(forward: ForwardIndex, sections: Map<string, SectionArray>): ApproximateSearcher | null {
  return new SeismicSearcher(forward, seismicFromSections(Object.fromEntries(sections)));
}
