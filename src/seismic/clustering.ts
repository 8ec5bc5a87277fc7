/**
 * One-pass random k-means blocking of a posting list (Seismic's `RandomKmeansInvertedIndexApprox`):
 * `max(1, ⌊centroidFraction·L⌋)` random docs of the list become centroids; each doc joins the centroid with the
 * largest inner product, computed approximately from the doc's top `docCut` terms against the centroids' full
 * vectors through a small inverted index over the centroids; clusters of ≤ `minClusterSize` docs are dissolved
 * and their docs reassigned to the best surviving centroid. Ties go to the smaller centroid index; a doc that
 * touches no surviving centroid goes to the first surviving one.
 *
 * Cost per doc: Σ over its docCut terms of how many centroids contain the term. Every buffer lives in
 * `ClusterScratch` (one per build thread) and is cleared by touched-lists, never by full fills.
 * Callers: build.ts.
 */
import type { ForwardIndex } from '../index/forward-index.js';
import type { Rng } from '../core/rng.js';

/** Top-`docCut` terms of every doc, precomputed once per build (doc d at `d·docCut`, `count[d]` valid). */
export interface DocHeads {
  readonly docCut: number;
  readonly ids: Uint32Array;
  readonly vals: Float32Array;
  readonly count: Uint8Array | Uint16Array;
}

/** Computes every doc's top-`docCut` terms (largest weights; ties: smaller term id). */
export function buildDocHeads(forward: ForwardIndex, docCut: number): DocHeads {
  const n = forward.numDocs;
  const ids = new Uint32Array(n * docCut);
  const vals = new Float32Array(n * docCut);
  const count = docCut < 256 ? new Uint8Array(n) : new Uint16Array(n);
  const { offsets, termIds, values } = forward;
  for (let d = 0; d < n; d++) {
    const base = d * docCut;
    let m = 0;
    // Insertion into a small sorted-descending buffer: docCut is ~15, docs ~120 terms.
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
      const w = values[p];
      if (m === docCut && w <= vals[base + m - 1]) continue;
      let i = m < docCut ? m++ : m - 1;
      while (i > 0 && vals[base + i - 1] < w) {
        vals[base + i] = vals[base + i - 1];
        ids[base + i] = ids[base + i - 1];
        i--;
      }
      vals[base + i] = w;
      ids[base + i] = termIds[p];
    }
    count[d] = m;
  }
  return { docCut, ids, vals, count };
}

/** Per-thread scratch for clustering; grows on demand. */
export class ClusterScratch {
  /** Per-term start/end into the centroid inverted index, valid where `termStamp[t] === listEpoch`. */
  readonly termStart: Uint32Array;
  readonly termEnd: Uint32Array;
  readonly termStamp: Uint32Array;
  listEpoch = 0;
  ciCentroid = new Uint32Array(1024);
  ciValue = new Float32Array(1024);
  acc = new Float32Array(1024);
  accStamp = new Uint32Array(1024);
  touched = new Uint32Array(1024);
  docEpoch = 0;
  assign = new Uint32Array(1024);
  sizes = new Uint32Array(1024);
  removed = new Uint8Array(1024);
  perm = new Uint32Array(1024);
  constructor(dim: number) {
    this.termStart = new Uint32Array(dim);
    this.termEnd = new Uint32Array(dim);
    this.termStamp = new Uint32Array(dim);
  }
  ensure(listLen: number, nCentroids: number, ciLen: number): void {
    if (this.assign.length < listLen) {
      this.assign = new Uint32Array(listLen);
      this.perm = new Uint32Array(listLen);
    }
    if (this.acc.length < nCentroids) {
      this.acc = new Float32Array(nCentroids);
      this.accStamp = new Uint32Array(nCentroids);
      this.touched = new Uint32Array(nCentroids);
      this.sizes = new Uint32Array(nCentroids);
      this.removed = new Uint8Array(nCentroids);
    }
    if (this.ciCentroid.length < ciLen) {
      this.ciCentroid = new Uint32Array(ciLen);
      this.ciValue = new Float32Array(ciLen);
    }
  }
}

/**
 * Clusters `docs` (one posting list, doc ords) and writes them reordered by cluster into `outDocs` (docs
 * ascending inside a cluster, clusters by centroid index). Returns the number of blocks; block i's end offset
 * (relative to the list) is written to `outBlockEnds[i]`. `outDocs.length` ≥ docs.length and
 * `outBlockEnds.length` ≥ number of centroids.
 */
export function clusterList(
  forward: ForwardIndex,
  heads: DocHeads,
  docs: Uint32Array,
  opts: { centroidFraction: number; minClusterSize: number; rng: Rng },
  s: ClusterScratch,
  outDocs: Uint32Array,
  outBlockEnds: Uint32Array,
): number {
  const L = docs.length;
  const nC = Math.max(1, Math.min(L, Math.floor(opts.centroidFraction * L)));
  // Centroids: the first nC of a seeded partial Fisher–Yates shuffle of the list.
  s.ensure(L, nC, 0);
  const perm = s.perm;
  for (let i = 0; i < L; i++) perm[i] = docs[i];
  for (let i = 0; i < nC; i++) {
    const j = i + opts.rng.int(L - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  // Inverted index over the centroids' full vectors: count per term, prefix, fill.
  const { offsets, termIds, values } = forward;
  let ciLen = 0;
  for (let c = 0; c < nC; c++) ciLen += offsets[perm[c] + 1] - offsets[perm[c]];
  s.ensure(L, nC, ciLen);
  const epoch = ++s.listEpoch;
  const { termStart, termEnd, termStamp } = s;
  for (let c = 0; c < nC; c++) {
    const d = perm[c];
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
      const t = termIds[p];
      if (termStamp[t] !== epoch) {
        termStamp[t] = epoch;
        termEnd[t] = 0;
      }
      termEnd[t]++;
    }
  }
  let pos = 0;
  for (let c = 0; c < nC; c++) {
    const d = perm[c];
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
      const t = termIds[p];
      // First visit of t in this pass: turn its count into a [start, start) range.
      if (termStamp[t] === epoch) {
        termStamp[t] = epoch + 1;
        const n = termEnd[t];
        termStart[t] = pos;
        termEnd[t] = pos;
        pos += n;
      }
      const q = termEnd[t]++;
      s.ciCentroid[q] = c;
      s.ciValue[q] = values[p];
    }
  }
  s.listEpoch++; // valid ranges are now marked epoch + 1 === s.listEpoch

  s.removed.fill(0, 0, nC);
  for (let i = 0; i < L; i++) s.assign[i] = bestCentroid(heads, docs[i], s, nC);
  s.sizes.fill(0, 0, nC);
  for (let i = 0; i < L; i++) s.sizes[s.assign[i]]++;
  let survivors = 0;
  for (let c = 0; c < nC; c++) {
    if (s.sizes[c] > 0 && s.sizes[c] <= opts.minClusterSize) s.removed[c] = 1;
    else if (s.sizes[c] > 0) survivors++;
  }
  if (survivors === 0) {
    // Every cluster is too small (short list): one block.
    outDocs.set(docs);
    outBlockEnds[0] = L;
    return 1;
  }
  for (let i = 0; i < L; i++) if (s.removed[s.assign[i]] === 1) s.assign[i] = bestCentroid(heads, docs[i], s, nC);

  // Counting sort by centroid; docs stay ascending inside a cluster because `docs` is ascending.
  s.sizes.fill(0, 0, nC);
  for (let i = 0; i < L; i++) s.sizes[s.assign[i]]++;
  let nBlocks = 0;
  let end = 0;
  for (let c = 0; c < nC; c++) {
    const n = s.sizes[c];
    s.sizes[c] = end; // becomes the write cursor
    if (n > 0) {
      end += n;
      outBlockEnds[nBlocks++] = end;
    }
  }
  for (let i = 0; i < L; i++) outDocs[s.sizes[s.assign[i]]++] = docs[i];
  return nBlocks;
}

/** Hot loop: approximate inner products of doc d's head against all centroids sharing a term; argmax. */
function bestCentroid(heads: DocHeads, d: number, s: ClusterScratch, nC: number): number {
  const epoch = ++s.docEpoch;
  const { acc, accStamp, touched, removed, ciCentroid, ciValue, termStart, termEnd, termStamp } = s;
  const listEpoch = s.listEpoch;
  let nTouched = 0;
  const base = d * heads.docCut;
  for (let i = 0, m = heads.count[d]; i < m; i++) {
    const t = heads.ids[base + i];
    if (termStamp[t] !== listEpoch) continue;
    const w = heads.vals[base + i];
    for (let j = termStart[t], e = termEnd[t]; j < e; j++) {
      const c = ciCentroid[j];
      if (accStamp[c] !== epoch) {
        accStamp[c] = epoch;
        acc[c] = 0;
        touched[nTouched++] = c;
      }
      acc[c] += w * ciValue[j];
    }
  }
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < nTouched; i++) {
    const c = touched[i];
    if (removed[c] === 1) continue;
    const v = acc[c];
    if (v > bestScore || (v === bestScore && c < best)) {
      bestScore = v;
      best = c;
    }
  }
  if (best >= 0) return best;
  for (let c = 0; c < nC; c++) if (removed[c] === 0) return c;
  return 0;
}
