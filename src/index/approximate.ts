/**
 * INTEGRATION POINT for the approximate (Seismic) index of src/index/seismic/. A segment with at least
 * `build.approximateThreshold` docs may carry a `seismic.bin` section file (segment-format.ts, kind "seismic");
 * the segment writer asks `buildApproximateSections` for its sections and the reader hands them to
 * `openApproximateSearcher`. Searches with `exact: false` go through the returned searcher; when it is null
 * the segment is searched exactly.
 *
 * Until src/index/seismic/ lands both functions return null. To integrate, replace their bodies with:
 *   buildApproximateSections: `return seismicToSections(buildSeismicIndex(forward, build));`
 *   openApproximateSearcher:  `return new SeismicSearcher(forward, seismicFromSections(sections));`
 * (SeismicSearcher.search(query, {k, queryCut, heapFactor, nKnn, excluded}) already matches ApproximateSearcher.)
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { IndexBuildConfig } from '../config/index-config.js';
import type { ForwardIndex } from './forward-index.js';
import type { SectionArray } from './segment-format.js';

/** What the store needs from an approximate per-segment searcher (SeismicSearcher's shape). */
export interface ApproximateSearcher {
  search(
    query: SparseVector,
    opts: { k: number; queryCut: number; heapFactor: number; nKnn: number; excluded: Uint32Array | null },
  ): { ords: Int32Array; scores: Float32Array; docsScored: number; blocksScored: number; blocksSkipped: number };
}

/** Sections of the approximate index for a segment's forward index, or null when there is none (yet). */
export function buildApproximateSections(forward: ForwardIndex, build: IndexBuildConfig): Record<string, ArrayBufferView> | null {
  void forward;
  void build;
  return null;
}

/** A searcher over a segment's stored approximate sections, or null when unsupported. */
export function openApproximateSearcher(
  forward: ForwardIndex,
  sections: Map<string, SectionArray>,
): ApproximateSearcher | null {
  void forward;
  void sections;
  return null;
}
