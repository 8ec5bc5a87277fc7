/**
 * Builds a Seismic index (DESIGN.md §4) from a segment's forward index: static pruning (pruning.ts), one-pass
 * random k-means blocking per list (clustering.ts), α-mass u8 summaries stored transposed per list
 * (summaries.ts), and an optional κ-NN graph (knn.ts). Pure CPU work over typed arrays; the caller runs it in a
 * worker thread when the event loop must keep serving.
 *
 * Determinism: list t's centroids come from an Rng derived from (config.seed, t), lists are processed in term
 * order and every tie is broken by index, so the same forward index and config give byte-identical arrays.
 * Callers: the segment builder (seal), bench-runner.ts, tests.
 */
import type { IndexBuildConfig } from '../../config/index-config.js';
import type { ForwardIndex } from '../forward-index.js';
import { buildPrunedLists } from './pruning.js';
import { buildDocHeads, clusterList, ClusterScratch } from './clustering.js';
import { GrowU32, SummaryOutput, SummaryWriter } from './summaries.js';
import { Rng } from './rng.js';
import type { SeismicIndex } from './seismic-index.js';
import { buildKnnGraph } from './knn.js';

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
}

/**
 * Builds the index. `config` is the validated collection build config (defaults: the paper's). Throws nothing for
 * valid input; an empty forward index gives an empty index.
 */
export function buildSeismicIndex(forward: ForwardIndex, config: IndexBuildConfig, options: BuildOptions = {}): SeismicIndex {
  const t0 = performance.now();
  const report = (phase: BuildProgress['phase'], done: number, total: number): void =>
    options.onProgress?.({ phase, done, total, elapsedMs: performance.now() - t0 });
  const { dim } = forward;
  report('prune', 0, 1);
  const lists = buildPrunedLists(forward, config.nPostings, config.maxFraction);
  report('heads', 0, 1);
  const heads = buildDocHeads(forward, config.docCut);

  const nPostings = lists.docs.length;
  const postingDocs = new Uint32Array(nPostings);
  const listBlockOffsets = new Uint32Array(dim + 1);
  const blockOffsets = new GrowU32(Math.max(1024, Math.ceil(nPostings * config.centroidFraction) + dim + 1));
  blockOffsets.push(0);
  const listCompOffsets = new Uint32Array(dim + 1);
  const out = new SummaryOutput();
  const cscratch = new ClusterScratch(dim);
  const writer = new SummaryWriter(dim);
  let maxListLen = 0;
  for (let t = 0; t < dim; t++) maxListLen = Math.max(maxListLen, lists.offsets[t + 1] - lists.offsets[t]);
  const blockEnds = new Uint32Array(maxListLen + 1);
  let maxBlocksPerList = 0;
  const reportEvery = 2048;

  for (let t = 0; t < dim; t++) {
    const s = lists.offsets[t];
    const e = lists.offsets[t + 1];
    if (e > s) {
      const listDocs = lists.docs.subarray(s, e);
      const outDocs = postingDocs.subarray(s, e);
      const nBlocks = clusterList(
        forward, heads, listDocs,
        { centroidFraction: config.centroidFraction, minClusterSize: config.minClusterSize, rng: Rng.derive(config.seed, t) },
        cscratch, outDocs, blockEnds,
      );
      if (nBlocks > maxBlocksPerList) maxBlocksPerList = nBlocks;
      writer.beginList();
      let start = 0;
      for (let b = 0; b < nBlocks; b++) {
        const end = blockEnds[b];
        writer.addBlock(forward, outDocs, start, end, config.summaryEnergy, out);
        blockOffsets.push(s + end);
        start = end;
      }
      writer.endList(out);
    }
    listBlockOffsets[t + 1] = blockOffsets.n - 1;
    listCompOffsets[t + 1] = out.compTerms.n;
    if ((t + 1) % reportEvery === 0) report('blocks', t + 1, dim);
  }
  report('blocks', dim, dim);

  const compTermsU32 = out.compTerms.toArray();
  const entryBlocksU32 = out.entryBlocks.toArray();
  const index: SeismicIndex = {
    numDocs: forward.numDocs,
    dim,
    listBlockOffsets,
    blockOffsets: blockOffsets.toArray(),
    postingDocs,
    listCompOffsets,
    compTerms: dim <= 65536 ? Uint16Array.from(compTermsU32) : compTermsU32,
    compEntryOffsets: out.compEntryOffsets.toArray(),
    entryBlocks: maxBlocksPerList <= 65536 ? Uint16Array.from(entryBlocksU32) : entryBlocksU32,
    entryCodes: out.entryCodes.slice(0, out.entryBlocks.n),
    summaryMin: out.summaryMin.toArray(),
    summaryStep: out.summaryStep.toArray(),
    knnK: 0,
    knn: new Uint32Array(0),
  };
  if (config.nKnn > 0 && forward.numDocs > 1) {
    const knn = buildKnnGraph(forward, index, config.nKnn, (done) => report('knn', done, forward.numDocs));
    report('done', 1, 1);
    return { ...index, knnK: config.nKnn, knn };
  }
  report('done', 1, 1);
  return index;
}
