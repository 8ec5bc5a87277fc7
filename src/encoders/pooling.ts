/**
 * Pooling kernels over model outputs, and the sparse/dense finishing steps. Pure functions over typed arrays;
 * called by the encode pipeline (src/encoders/pipeline.ts) inside a worker thread.
 *
 * SPLADE pooling is `w_j = max_i mask_i · log(1 + relu(x_ij))`. Because `log1p(relu(·))` is monotone and ≥ 0,
 * `max_i f(x_ij) = f(max_i x_ij)` and masked positions (which contribute 0) never win over a 0 start: so the kernel
 * takes a plain running max of the raw logits over the pooled positions and applies `log1p(relu)` once per
 * vocabulary column. That turns S·V transcendental calls into V, leaving one comparison per logit.
 */
import type { SparseVector } from '../core/sparse-vector.js';

/**
 * Max-pools rows `[start, end)` of sequence `b` of a `[B, S, V]` logits tensor into `acc` (length V), applying
 * `log1p(relu)`: `acc[j] = max(acc[j], log1p(relu(max_i x_ij)))`. An empty range leaves `acc` unchanged.
 * `scratch` is a caller-owned Float32Array(V) reused across calls.
 */
export function poolLogitsInto(
  logits: Float32Array,
  b: number,
  seqLen: number,
  vocab: number,
  start: number,
  end: number,
  acc: Float32Array,
  scratch: Float32Array,
): void {
  if (end <= start) return;
  const base = (b * seqLen + start) * vocab;
  // first pooled row initialises the running max
  for (let j = 0; j < vocab; j++) scratch[j] = logits[base + j];
  for (let i = start + 1; i < end; i++) {
    const row = (b * seqLen + i) * vocab;
    for (let j = 0; j < vocab; j++) {
      const x = logits[row + j];
      if (x > scratch[j]) scratch[j] = x;
    }
  }
  for (let j = 0; j < vocab; j++) {
    const x = scratch[j];
    if (x > 0) {
      const w = Math.log1p(x);
      if (w > acc[j]) acc[j] = w;
    }
  }
}

/** `acc[j] = max(acc[j], rows[b*V + j])` for an already pooled `[B, V]` output. */
export function maxRowInto(pooled: Float32Array, b: number, vocab: number, acc: Float32Array): void {
  const base = b * vocab;
  for (let j = 0; j < vocab; j++) {
    const x = pooled[base + j];
    if (x > acc[j]) acc[j] = x;
  }
}

/** Scatters row `b` of a pooled pair (`[B, K]` ids and weights) into `acc`, max-combining. Ids outside [0, V) are ignored. */
export function pairRowInto(ids: Float64Array, weights: Float32Array, b: number, k: number, acc: Float32Array): void {
  const base = b * k;
  const v = acc.length;
  for (let t = 0; t < k; t++) {
    const id = ids[base + t];
    const w = weights[base + t];
    if (id >= 0 && id < v && w > acc[id]) acc[id] = w;
  }
}

/** Options for turning a dense weight row into a sparse vector. */
export interface SparsifyOptions {
  /** Sorted ids whose columns are zeroed (special tokens); empty for none. */
  zeroIds: Uint32Array;
  /** Keep weights >= minWeight (0 keeps every positive weight). */
  minWeight: number;
  /** Keep at most this many of the largest weights (ties: smaller id); Infinity for all. */
  maxTerms: number;
}

/** Dense row → sparse vector (ids ascending, weights > 0), after zeroing and pruning. Mutates `row` (zeroed ids). */
export function sparsifyRow(row: Float32Array, opts: SparsifyOptions): SparseVector {
  for (let i = 0; i < opts.zeroIds.length; i++) {
    const id = opts.zeroIds[i];
    if (id < row.length) row[id] = 0;
  }
  let n = 0;
  for (let j = 0; j < row.length; j++) if (row[j] > 0 && row[j] >= opts.minWeight) n++;
  let indices = new Uint32Array(n);
  let values = new Float32Array(n);
  n = 0;
  for (let j = 0; j < row.length; j++) {
    const w = row[j];
    if (w > 0 && w >= opts.minWeight) {
      indices[n] = j;
      values[n++] = w;
    }
  }
  if (n > opts.maxTerms) {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => values[b] - values[a] || indices[a] - indices[b]);
    const keep = order.slice(0, opts.maxTerms).sort((a, b) => a - b);
    indices = Uint32Array.from(keep, (i) => indices[i]);
    values = Float32Array.from(keep, (i) => values[i]);
  }
  return { indices, values };
}

/** Mean of rows `[0, len)` of sequence `b` of a `[B, S, H]` tensor into `out` (length H). */
export function meanPoolInto(hidden: Float32Array, b: number, seqLen: number, dim: number, len: number, out: Float32Array): void {
  out.fill(0);
  for (let i = 0; i < len; i++) {
    const row = (b * seqLen + i) * dim;
    for (let h = 0; h < dim; h++) out[h] += hidden[row + h];
  }
  if (len > 0) for (let h = 0; h < dim; h++) out[h] /= len;
}

/** Row 0 (the [CLS] position) of sequence `b` of a `[B, S, H]` tensor into `out`. */
export function clsPoolInto(hidden: Float32Array, b: number, seqLen: number, dim: number, out: Float32Array): void {
  const row = b * seqLen * dim;
  for (let h = 0; h < dim; h++) out[h] = hidden[row + h];
}

/** Scales `v` to unit L2 norm in place (a zero vector stays zero). */
export function l2NormalizeInPlace(v: Float32Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s <= 0) return;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}
