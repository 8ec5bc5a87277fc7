/**
 * Builds a Seismic index (DESIGN.md §4) from a segment's forward index: static pruning (pruning.ts), one-pass
 * random k-means blocking per list (clustering.ts), α-mass u8 summaries stored transposed per list
 * (summaries.ts), an optional κ-NN graph (knn.ts), and the half-float scoring rows of the forward index (half-rows.ts). Pure CPU work over typed arrays. The per-list phase
 * (≈95% of the time) can be split over worker threads (`buildSeismicIndexParallel`, build-worker.ts): each
 * worker takes a contiguous range of lists with about equal postings and the ranges are concatenated.
 *
 * Determinism: list t's centroids come from an Rng derived from (config.seed, t) and nothing else crosses lists,
 * so the same forward index and config give byte-identical arrays, whatever the number of threads.
 * Callers: the segment builder (seal), bench-runner.ts, tests.
 */
import type { IndexBuildConfig } from '../config/index-config.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { buildPrunedLists, type PrunedLists } from './pruning.js';
import { buildDocHeads, clusterList, ClusterScratch, type DocHeads } from './clustering.js';
import { GrowU32, SummaryOutput, SummaryWriter } from './summaries.js';
import { Rng } from '../core/rng.js';
import type { SeismicIndex } from './seismic-index.js';
import { buildKnnGraph } from './knn.js';
import { buildHalfRows } from './half-rows.js';

/** Build progress, reported between phases and every few thousand lists. */
export interface BuildProgress {
  phase: 'prune' | 'heads' | 'blocks' | 'knn' | 'done';
  /** Lists (blocks phase) or docs (knn phase) done so far, and the total. */
  done: number;
  total: number;
  elapsedMs: number;
}

/** Options beyond the persisted config. */
export interface BuildOptions {
  onProgress?: (p: BuildProgress) => void;
  /** Build the half-float scoring rows (half-rows.ts; default true). */
  halfRows?: boolean;
}

/**
 * Every approximate segment gets half-float scoring rows unless told otherwise (`halfRows: false`): scored in wasm
 * they are the fastest layout measured (half-rows.ts, searcher.ts), for 4 more bytes per nonzero and per posting.
 */
function wantsHalfRows(options: BuildOptions): boolean {
  return options.halfRows ?? true;
}

/** The per-list output of lists [t0, t1): everything relative to the range. Plain typed arrays (transferable). */
export interface ListRangeResult {
  t0: number;
  t1: number;
  /** Reordered doc ords of the range's postings (lists.offsets[t0] .. lists.offsets[t1]). */
  postingDocs: Uint32Array;
  /** Blocks per list of the range. */
  listBlockCounts: Uint32Array;
  /** Block end offsets, relative to the range's first posting. */
  blockEnds: Uint32Array;
  /** Summary components per list of the range. */
  listCompCounts: Uint32Array;
  compTerms: Uint32Array;
  /** Component end offsets into the range's entry arrays. */
  compEntryEnds: Uint32Array;
  entryBlocks: Uint32Array;
  entryCodes: Uint8Array;
  summaryMin: Float32Array;
  summaryStep: Float32Array;
  maxBlocksPerList: number;
}

/**
 * Builds the index on the calling thread. `config` is the validated collection build config (defaults: the
 * paper's). An empty forward index gives an empty index.
 */
export function buildSeismicIndex(forward: ForwardIndex, config: IndexBuildConfig, options: BuildOptions = {}): SeismicIndex {
  const t0 = performance.now();
  const report = (phase: BuildProgress['phase'], done: number, total: number): void =>
    options.onProgress?.({ phase, done, total, elapsedMs: performance.now() - t0 });
  const { lists, heads } = buildPruningPhase(forward, config, report);
  const range = buildListRange(forward, lists, heads, config, 0, forward.dim, (done) => report('blocks', done, forward.dim));
  report('blocks', forward.dim, forward.dim);
  return finishIndex(forward, config, [range], report, options);
}

/** Phase 1 (single thread): pruned lists and every doc's top-docCut terms. */
export function buildPruningPhase(
  forward: ForwardIndex,
  config: IndexBuildConfig,
  report: (phase: BuildProgress['phase'], done: number, total: number) => void,
): { lists: PrunedLists; heads: DocHeads } {
  report('prune', 0, 1);
  const lists = buildPrunedLists(forward, config.nPostings, config.maxFraction);
  report('heads', 0, 1);
  const heads = buildDocHeads(forward, config.docCut);
  return { lists, heads };
}

/** Phase 2 for lists [t0, t1): clustering and summaries. Runs on the main thread or in build-worker.ts. */
export function buildListRange(
  forward: ForwardIndex,
  lists: PrunedLists,
  heads: DocHeads,
  config: IndexBuildConfig,
  t0: number,
  t1: number,
  onProgress?: (listsDone: number) => void,
): ListRangeResult {
  const { dim } = forward;
  const p0 = lists.offsets[t0];
  const nPostings = lists.offsets[t1] - p0;
  const postingDocs = new Uint32Array(nPostings);
  const listBlockCounts = new Uint32Array(t1 - t0);
  const listCompCounts = new Uint32Array(t1 - t0);
  const blockEnds = new GrowU32(Math.max(1024, Math.ceil(nPostings * config.centroidFraction) + 16));
  const out = new SummaryOutput();
  const cscratch = new ClusterScratch(dim);
  const writer = new SummaryWriter(dim);
  let maxListLen = 0;
  for (let t = t0; t < t1; t++) maxListLen = Math.max(maxListLen, lists.offsets[t + 1] - lists.offsets[t]);
  const ends = new Uint32Array(maxListLen + 1);
  let maxBlocksPerList = 0;
  for (let t = t0; t < t1; t++) {
    const s = lists.offsets[t];
    const e = lists.offsets[t + 1];
    if (e > s) {
      const outDocs = postingDocs.subarray(s - p0, e - p0);
      const nBlocks = clusterList(
        forward,
        heads,
        lists.docs.subarray(s, e),
        { centroidFraction: config.centroidFraction, minClusterSize: config.minClusterSize, rng: Rng.derive(config.seed, t) },
        cscratch,
        outDocs,
        ends,
      );
      if (nBlocks > maxBlocksPerList) maxBlocksPerList = nBlocks;
      const compsBefore = out.compTerms.n;
      writer.beginList();
      let start = 0;
      for (let b = 0; b < nBlocks; b++) {
        writer.addBlock(forward, outDocs, start, ends[b], config.summaryEnergy, out);
        blockEnds.push(s - p0 + ends[b]);
        start = ends[b];
      }
      writer.endList(out);
      listBlockCounts[t - t0] = nBlocks;
      listCompCounts[t - t0] = out.compTerms.n - compsBefore;
    }
    if (onProgress && (t - t0 + 1) % 2048 === 0) onProgress(t - t0 + 1);
  }
  return {
    t0,
    t1,
    postingDocs,
    listBlockCounts,
    blockEnds: blockEnds.toArray(),
    listCompCounts,
    compTerms: out.compTerms.toArray(),
    compEntryEnds: out.compEntryOffsets.toArray().subarray(1),
    entryBlocks: out.entryBlocks.toArray(),
    entryCodes: out.entryCodes.slice(0, out.entryBlocks.n),
    summaryMin: out.summaryMin.toArray(),
    summaryStep: out.summaryStep.toArray(),
    maxBlocksPerList,
  };
}

/** Phase 3: concatenates the ranges (in term order) into the final arrays and adds the optional κ-NN graph. */
export function finishIndex(
  forward: ForwardIndex,
  config: IndexBuildConfig,
  ranges: ListRangeResult[],
  report: (phase: BuildProgress['phase'], done: number, total: number) => void,
  options: BuildOptions = {},
): SeismicIndex {
  const { dim } = forward;
  let nPost = 0,
    nBlocks = 0,
    nComps = 0,
    nEntries = 0,
    maxBlocks = 0;
  for (const r of ranges) {
    nPost += r.postingDocs.length;
    nBlocks += r.blockEnds.length;
    nComps += r.compTerms.length;
    nEntries += r.entryBlocks.length;
    maxBlocks = Math.max(maxBlocks, r.maxBlocksPerList);
  }
  const postingDocs = new Uint32Array(nPost);
  const listBlockOffsets = new Uint32Array(dim + 1);
  const blockOffsets = new Uint32Array(nBlocks + 1);
  const listCompOffsets = new Uint32Array(dim + 1);
  const compTerms = dim <= 65536 ? new Uint16Array(nComps) : new Uint32Array(nComps);
  const compEntryOffsets = new Uint32Array(nComps + 1);
  const entryBlocks = maxBlocks <= 65536 ? new Uint16Array(nEntries) : new Uint32Array(nEntries);
  const entryCodes = new Uint8Array(nEntries);
  const summaryMin = new Float32Array(nBlocks);
  const summaryStep = new Float32Array(nBlocks);
  let p = 0,
    b = 0,
    c = 0,
    e = 0;
  for (const r of [...ranges].sort((x, y) => x.t0 - y.t0)) {
    postingDocs.set(r.postingDocs, p);
    for (let i = 0; i < r.blockEnds.length; i++) blockOffsets[b + 1 + i] = p + r.blockEnds[i];
    summaryMin.set(r.summaryMin, b);
    summaryStep.set(r.summaryStep, b);
    compTerms.set(r.compTerms, c);
    for (let i = 0; i < r.compEntryEnds.length; i++) compEntryOffsets[c + 1 + i] = e + r.compEntryEnds[i];
    entryBlocks.set(r.entryBlocks, e);
    entryCodes.set(r.entryCodes, e);
    let lb = b,
      lc = c;
    for (let t = r.t0; t < r.t1; t++) {
      lb += r.listBlockCounts[t - r.t0];
      lc += r.listCompCounts[t - r.t0];
      listBlockOffsets[t + 1] = lb;
      listCompOffsets[t + 1] = lc;
    }
    p += r.postingDocs.length;
    b += r.blockEnds.length;
    c += r.compTerms.length;
    e += r.entryBlocks.length;
  }
  const index: SeismicIndex = {
    numDocs: forward.numDocs,
    dim,
    listBlockOffsets,
    blockOffsets,
    postingDocs,
    listCompOffsets,
    compTerms,
    compEntryOffsets,
    entryBlocks,
    entryCodes,
    summaryMin,
    summaryStep,
    knnK: 0,
    knn: new Uint32Array(0),
    halfRows: wantsHalfRows(options) ? buildHalfRows(forward, postingDocs) : null,
  };
  if (config.nKnn > 0 && forward.numDocs > 1) {
    const knn = buildKnnGraph(forward, index, config.nKnn, (done) => report('knn', done, forward.numDocs));
    report('done', 1, 1);
    return { ...index, knnK: config.nKnn, knn };
  }
  report('done', 1, 1);
  return index;
}
