/**
 * Static pruning of the inverted index, faithful to Seismic's global-threshold strategy: keep the
 * `nPostings × (number of lists)` largest entries of the whole collection, then cap every list at
 * `maxFraction × nPostings` entries (its largest). "Number of lists" is `dim` (Seismic uses the dataset's
 * dimensionality). Output lists hold doc ords in ascending order.
 *
 * The global threshold is found exactly in O(nnz) with a two-level radix histogram over the float32 bit patterns
 * (positive floats order like their u32 bits), so no copy or sort of the 120M values of a 1M-doc collection is
 * needed. Ties at the threshold are all kept (deterministic; may exceed the budget by the number of ties).
 * Callers: build.ts.
 */
import type { ForwardIndex } from '../index/forward-index.js';

/** Pruned posting lists: list t is `docs[offsets[t] .. offsets[t+1])`, doc ords ascending. */
export interface PrunedLists {
  readonly offsets: Uint32Array;
  readonly docs: Uint32Array;
}

/**
 * Applies global-threshold pruning plus the per-list cap. `nPostings` ≥ 1, `maxFraction` ≥ 1.
 * Memory: O(nnz kept) for the intermediate (doc, weight) lists.
 */
export function buildPrunedLists(forward: ForwardIndex, nPostings: number, maxFraction: number): PrunedLists {
  const { dim, numDocs, offsets: fOff, termIds, values } = forward;
  const nnz = fOff[numDocs];
  const budget = nPostings * dim;
  const threshold = budget >= nnz ? 0 : kthLargest(values, nnz, budget);

  // Pass 1: count kept entries per term.
  const counts = new Uint32Array(dim + 1);
  for (let p = 0; p < nnz; p++) if (values[p] >= threshold) counts[termIds[p] + 1]++;
  for (let t = 0; t < dim; t++) counts[t + 1] += counts[t];
  const total = counts[dim];
  const allDocs = new Uint32Array(total);
  const allVals = new Float32Array(total);
  const cursor = counts.slice(0, dim);
  // Pass 2: scatter (doc, weight) by term; docs arrive in ascending order.
  for (let d = 0; d < numDocs; d++) {
    for (let p = fOff[d], e = fOff[d + 1]; p < e; p++) {
      const w = values[p];
      if (w < threshold) continue;
      const c = cursor[termIds[p]]++;
      allDocs[c] = d;
      allVals[c] = w;
    }
  }

  // Per-list cap: keep the `cap` largest weights (ties: smaller doc ord), written back in doc order.
  const cap = Math.max(1, Math.floor(maxFraction * nPostings));
  const outOffsets = new Uint32Array(dim + 1);
  let kept = 0;
  for (let t = 0; t < dim; t++) kept += Math.min(cap, counts[t + 1] - counts[t]);
  const docs = new Uint32Array(kept);
  let q = 0;
  for (let t = 0; t < dim; t++) {
    const s = counts[t];
    const e = counts[t + 1];
    if (e - s <= cap) {
      docs.set(allDocs.subarray(s, e), q);
      q += e - s;
    } else {
      const cut = kthLargest(allVals.subarray(s, e), e - s, cap);
      // Keep everything above the cut, then fill with ties at the cut in doc order until `cap`.
      let above = 0;
      for (let i = s; i < e; i++) if (allVals[i] > cut) above++;
      let tiesLeft = cap - above;
      for (let i = s; i < e; i++) {
        const w = allVals[i];
        if (w > cut || (w === cut && tiesLeft-- > 0)) docs[q++] = allDocs[i];
      }
    }
    outOffsets[t + 1] = q;
  }
  return { offsets: outOffsets, docs };
}

/**
 * The k-th largest of the first `n` non-negative floats (1 ≤ k ≤ n), exactly, via a 16+16-bit radix histogram
 * over the IEEE-754 bit patterns.
 */
export function kthLargest(values: Float32Array, n: number, k: number): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const hi = new Uint32Array(65536);
  for (let i = 0; i < n; i++) hi[bits[i] >>> 16]++;
  let rank = k;
  let h = 65535;
  for (; h > 0; h--) {
    if (hi[h] >= rank) break;
    rank -= hi[h];
  }
  const lo = new Uint32Array(65536);
  for (let i = 0; i < n; i++) if (bits[i] >>> 16 === h) lo[bits[i] & 0xffff]++;
  let l = 65535;
  for (; l > 0; l--) {
    if (lo[l] >= rank) break;
    rank -= lo[l];
  }
  const out = new Uint32Array([(h << 16) | l]);
  return new Float32Array(out.buffer)[0];
}
