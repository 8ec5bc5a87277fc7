/**
 * Bridge between the storage engine and the approximate (Seismic) index of src/seismic/. A segment with at
 * least `build.approximateThreshold` docs carries a `seismic.bin` section file (src/core/section-file.ts, kind
 * "seismic", section names owned by seismic-index.ts); the segment writer asks `buildApproximateSections` for
 * its sections (inside the seal worker) and the reader hands them to `openApproximateSearcher`. Searches with
 * `exact: false` go through the returned searcher; segments without one are searched exactly. Since Seismic format
 * 2 the sections carry half-float scoring rows of the forward index (half-rows.ts; +4 bytes per nonzero and per
 * posting): the searcher ranks with them, in wasm when seismic.bin was read into a wasm memory (`memory`), and
 * returns exact f32 scores (searcher.ts); a version-1 `seismic.bin` still opens.
 * Callers: segment-writer.ts, segment-reader.ts.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { IndexBuildConfig } from '../config/index-config.js';
import type { ForwardIndex } from '../index/forward-index.js';
import type { SectionArray } from '../core/section-file.js';
import type { WasmMemory } from '../core/wasm-api.js';
import { buildSeismicIndex } from './build.js';
import { withCalibration } from './calibrate.js';
import { seismicFromSections, seismicToSections, type CalibrationRow } from './seismic-index.js';
import { SeismicSearcher, type SeismicSearchOptions, type SeismicSearchResult } from './searcher.js';

/** What the store needs from an approximate per-segment searcher (SeismicSearcher's shape). */
export interface ApproximateSearcher {
  search(query: SparseVector, opts: SeismicSearchOptions): SeismicSearchResult;
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
/**
 * Smallest per-list budget of a segment: OpenSearch's per-segment Seismic (neural-search,
 * `DEFAULT_POSTING_MINIMUM_LENGTH`) uses 160, with lists pruned "nearly linear with the dataset size" above it.
 */
const MIN_POSTINGS = 160;

/**
 * Posting-list budget (Seismic λ) of one segment. The rule, for every segment size:
 * - λ_segment = min(λ, max(160, λ · N / 8,841,823)): the configured λ is the paper's, chosen for MS MARCO's 8.8M
 *   passages; a segment of N docs keeps the same fraction of its postings (4000 → 452 at 1M), never fewer than
 *   160 per list (OpenSearch's per-segment Seismic: max(160, 0.0005·N), the same line within 10%), never more
 *   than configured. The per-list cap stays maxFraction·λ_segment, as in the reference.
 * - centroidFraction (β) is not scaled: blocks per list = β · (list length), as in the Rust reference
 *   (`n_centroids = centroid_fraction · posting_list.len()`) and OpenSearch (constant cluster ratio 0.1), so
 *   blocks keep ~1/β docs at every segment size. summaryEnergy (α) is not scaled either.
 * Why not the reference's unscaled λ: at 50k synthetic docs an unscaled 4000 keeps every posting and builds an
 * index 10.9× the forward index (λ 100: 4.1×); at equal recall it was not faster (`npm run bench -- --docs 50000`:
 * cheapest recall ≥ 0.95 at 0.104 ms unscaled, 0.091 ms at λ 100), while at equal (qc, hf) its recall is higher
 * (qc 3 / hf 0.9: 0.994 vs 0.985; qc 1: 0.892 vs 0.839; λ 301: 0.992 / 0.874). The 160 floor narrows that gap
 * for the mid segments (20k–350k docs) where it was widest. `npm run bench` and the filter bench use this too.
 */
export function segmentPostings(nPostings: number, numDocs: number): number {
  return Math.min(nPostings, Math.max(MIN_POSTINGS, Math.round((nPostings * numDocs) / PAPER_DOCS)));
}

/**
 * A searcher over a segment's stored approximate sections. Throws (SpladexError CORRUPT_INDEX without a file
 * name, from seismic-index.ts) when the sections are inconsistent; the reader adds the file name. `checked`:
 * another thread already opened these shared bytes (seismic-index.ts `seismicFromSections`).
 */
export function openApproximateSearcher(
  forward: ForwardIndex,
  sections: Map<string, SectionArray>,
  memory?: WasmMemory,
  checked = false,
): ApproximateSearcher | null {
  return new SeismicSearcher(forward, seismicFromSections(Object.fromEntries(sections), checked), { halfRowsMemory: memory });
}
