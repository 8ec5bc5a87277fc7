/**
 * Half-float scoring rows: the forward index of a Seismic segment repacked for the approximate searcher, as the Rust
 * reference scores it (f16 values, one lookup per scored doc). One u32 word per nonzero packs the term id (low 16
 * bits) with the IEEE-754 half-float bits of `value · scale` (high 16 bits, round to nearest even), and every doc's
 * row is preceded by one header word holding its entry count, so doc d's row is `rows[offsets[d] + d]` (the
 * count) followed by its entries in the forward index's term order. `postingRows[p]` is the row start of posting
 * p's doc, so scoring a block's doc reads one array, from one place, with no `offsets` lookup. `scale` is the power
 * of two that brings the largest |value| into [2^14, 2^15) (half floats top out at 65,504), and `invScale` undoes
 * it exactly; values below the half-float range (2^-24 of the scale) round to 0.
 *
 * Why: at 1M docs the forward index (6 bytes per nonzero in two arrays, plus the offsets) is far larger than the
 * caches and scoring a candidate doc costs its cache misses. One 4-byte stream per doc, started without reading
 * `offsets`, cuts the bytes by a third and the dependent misses from two to one (measured: bench-fixed-cost and
 * `npm run bench`, see the commit history). The scores are approximate (relative error ≤ 2^-11 per product); the
 * searcher (searcher.ts) ranks with them and rescores its final top-k exactly from the f32 forward index, so the
 * scores it returns stay bit-exact.
 *
 * Built once per Seismic index (build.ts `finishIndex`), stored as sections of seismic.bin (seismic-index.ts), so
 * search workers share them, for every approximate segment (build.ts; not built, null, when term ids do not fit
 * 16 bits). Every half written is normal and non-negative (tiny weights raised to the smallest normal), which lets
 * the wasm kernel decode it in three lane-wise operations (`halfNormal` in index/score-kernels.wat, float32 sums in
 * SIMD lanes; `scoreHalfRowsNormal` here is the same arithmetic): in wasm the rows are the
 * fastest layout measured (index/wasm-kernels.ts); the JavaScript loop below is the fallback.
 * Callers: build.ts, seismic-index.ts, searcher.ts, value-layout.ts (bench).
 */
import type { SparseVector } from '../core/sparse-vector.js';
import { TopK } from '../core/top-k.js';
import type { ForwardIndex } from '../index/forward-index.js';

/** See the file header. */
export interface HalfRows {
  /** numDocs + nnz words: per doc, a count word then (term | half << 16) words. */
  readonly rows: Uint32Array;
  /** Row start (index of the count word in `rows`) of each posting's doc, parallel to `postingDocs`. */
  readonly postingRows: Uint32Array;
  /** Exact power of two: approximate score = invScale · Σ q[t]·half(v). */
  readonly invScale: number;
  /**
   * Every half in the rows is normal and non-negative, so the wasm kernel decodes it in three operations
   * (`halfNormal` in index/score-kernels.wat); false for rows with negative weights, and for rows read from a file
   * written before the flag (seismic-index.ts meta flag 8), which may hold zeros or subnormals.
   */
  readonly normal: boolean;
}

/** Half-float bits (round to nearest even, subnormals kept, overflow to ±Inf) of float32 bit pattern `b`. */
export function halfBitsOfFloatBits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man !== 0 ? 0x200 : 0);
  const e = exp - 112; // exp − 127 + 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): the value is man' · 2^-24 with man' = (1.m) · 2^(exp − 103).
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && (half & 1) === 1) ? 1 : 0));
  }
  const half = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches 0x7c00, Inf, only past 65,504).
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1) ? 1 : 0));
}

/** Lookup table half bits → float32 value (65,536 entries, 256 KiB; the codes real weights use are a few thousand). */
export function halfTable(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    const sign = h & 0x8000 ? -1 : 1;
    t[h] =
      e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? Number.NaN : sign * Number.POSITIVE_INFINITY) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
}

/** The rows of `forward` for postings `postingDocs`; null when term ids need more than 16 bits. O(nnz). */
export function buildHalfRows(forward: ForwardIndex, postingDocs: Uint32Array): HalfRows | null {
  const { numDocs, offsets, termIds, values } = forward;
  if (forward.dim > 65536) return null;
  const nnz = offsets[numDocs];
  let maxAbs = 0;
  for (let p = 0; p < nnz; p++) {
    const a = Math.abs(values[p]);
    if (a > maxAbs) maxAbs = a;
  }
  // scale = 2^k with maxAbs·scale in [2^14, 2^15): the top binade of half floats stays below 65,504.
  const k = maxAbs > 0 ? 14 - Math.floor(Math.log2(maxAbs)) : 0;
  const scale = 2 ** k;
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  const rows = new Uint32Array(numDocs + nnz);
  let w = 0;
  let normal = true;
  for (let d = 0; d < numDocs; d++) {
    const s = offsets[d];
    const e = offsets[d + 1];
    rows[w++] = e - s;
    for (let p = s; p < e; p++) {
      f[0] = values[p] * scale;
      let h = halfBitsOfFloatBits(bits[0]);
      // A weight below the half-float normals (< 2^-14 after scaling, i.e. under 2^-28 of the largest) is kept as
      // the smallest normal, 2^-14: an approximate score moves by at most 2^-14 · invScale per such weight (the
      // top k are rescored exactly), and every non-negative half stays normal (the fast decode).
      if ((h & 0xfc00) === 0) h = 0x0400;
      else if (h & 0x8000) normal = false;
      rows[w++] = (termIds[p] | (h << 16)) >>> 0;
    }
  }
  const postingRows = new Uint32Array(postingDocs.length);
  for (let i = 0; i < postingDocs.length; i++) postingRows[i] = offsets[postingDocs[i]] + postingDocs[i];
  return { rows, postingRows, invScale: 2 ** -k, normal };
}

/**
 * Approximate scores (before `invScale`) of the rows starting at `starts[0..n)` against a dense query `q` into
 * `out[0..n)`: float64 sums of `q[t] · half(v)` in row order. `ends` is scratch (length ≥ n). First every row's
 * count word is read, all n loads independent, so the n rows' first cache and TLB misses are in flight together
 * (a software prefetch: random 1M-doc rows in blocks of 12, 480 → 417 ns per doc, a one-off micro-benchmark over
 * the bench cache); then the rows are walked four in lockstep (as forward-index.ts `scoreDocs`), which keeps their later
 * misses overlapping.
 */
export function scoreHalfRows(
  rows: Uint32Array,
  starts: Uint32Array,
  ends: Uint32Array,
  n: number,
  q: Float32Array,
  tbl: Float32Array,
  out: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    const p = starts[i];
    ends[i] = p + 1 + rows[p];
  }
  let i = 0;
  for (; i + 3 < n; i += 4) {
    let p0 = starts[i] + 1;
    let p1 = starts[i + 1] + 1;
    let p2 = starts[i + 2] + 1;
    let p3 = starts[i + 3] + 1;
    const e0 = ends[i];
    const e1 = ends[i + 1];
    const e2 = ends[i + 2];
    const e3 = ends[i + 3];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    while (p0 < e0 && p1 < e1 && p2 < e2 && p3 < e3) {
      const x0 = rows[p0++];
      const x1 = rows[p1++];
      const x2 = rows[p2++];
      const x3 = rows[p3++];
      s0 += q[x0 & 0xffff] * tbl[x0 >>> 16];
      s1 += q[x1 & 0xffff] * tbl[x1 >>> 16];
      s2 += q[x2 & 0xffff] * tbl[x2 >>> 16];
      s3 += q[x3 & 0xffff] * tbl[x3 >>> 16];
    }
    for (; p0 < e0; p0++) s0 += q[rows[p0] & 0xffff] * tbl[rows[p0] >>> 16];
    for (; p1 < e1; p1++) s1 += q[rows[p1] & 0xffff] * tbl[rows[p1] >>> 16];
    for (; p2 < e2; p2++) s2 += q[rows[p2] & 0xffff] * tbl[rows[p2] >>> 16];
    for (; p3 < e3; p3++) s3 += q[rows[p3] & 0xffff] * tbl[rows[p3] >>> 16];
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; i++) {
    const e = ends[i];
    let s = 0;
    for (let p = starts[i] + 1; p < e; p++) s += q[rows[p] & 0xffff] * tbl[rows[p] >>> 16];
    out[i] = s;
  }
}

/**
 * `scoreHalfRows` for rows whose halves are all normal and non-negative (`HalfRows.normal`), in the arithmetic of
 * the wasm kernel `halfNormal` (index/score-kernels.wat, wasm SIMD), bit for bit: float32 products and sums in
 * eight lanes. Per row, entry 8i + j is added to lane j; if four or more entries remain, the next four to lanes
 * 0–3; lane j + 4 is then added to lane j, the four reduced as (l0 + l1) + (l2 + l3), and the last len mod 4
 * entries added in order; `out` gets that float32. Float32 sums move a ranking score by ~1e-7 of itself, far under
 * the half floats' own rounding (2^-11 per value); the searcher rescores its top k exactly.
 */
export function scoreHalfRowsNormal(
  rows: Uint32Array,
  starts: Uint32Array,
  n: number,
  q: Float32Array,
  tbl: Float32Array,
  out: Float64Array,
): void {
  const f = Math.fround;
  const l = new Float64Array(8);
  for (let i = 0; i < n; i++) {
    let a = starts[i] + 1;
    const len = rows[a - 1];
    const e8 = a + (len & ~7);
    const e4 = a + (len & ~3);
    const e = a + len;
    l.fill(0);
    for (; a < e8; a += 8) for (let j = 0; j < 8; j++) l[j] = f(l[j] + f(q[rows[a + j] & 0xffff] * tbl[rows[a + j] >>> 16]));
    if (a < e4) {
      for (let j = 0; j < 4; j++) l[j] = f(l[j] + f(q[rows[a + j] & 0xffff] * tbl[rows[a + j] >>> 16]));
      a += 4;
    }
    for (let j = 0; j < 4; j++) l[j] = f(l[j] + l[j + 4]);
    let s = f(f(l[0] + l[1]) + f(l[2] + l[3]));
    for (; a < e; a++) s = f(s + f(q[rows[a] & 0xffff] * tbl[rows[a] >>> 16]));
    out[i] = s;
  }
}

/**
 * The half-float scores the searcher ranks with, in the arithmetic of the wasm kernel the rows get: normal rows
 * (`HalfRows.normal`) as `scoreHalfRowsNormal` (`halfNormal`), others as `scoreHalfRows` (`half`). `ends` is scratch
 * of length ≥ n.
 */
export function scoreRankingRows(
  half: HalfRows,
  starts: Uint32Array,
  ends: Uint32Array,
  n: number,
  q: Float32Array,
  tbl: Float32Array,
  out: Float64Array,
): void {
  if (half.normal) scoreHalfRowsNormal(half.rows, starts, n, q, tbl, out);
  else scoreHalfRows(half.rows, starts, ends, n, q, tbl, out);
}

/**
 * Exact scores of docs `docs[0..n)` into `out[0..n)`, equal bit for bit to forward-index.ts `scoreDoc` (the same
 * float32 weights, summed in the same order into one float64): the term ids are read from the docs' half-float
 * rows, which the ranking has just brought into cache, and only the f32 values from the forward index, so a doc
 * costs one cold stream (its values) instead of two (ids and values). Doc d's values start at `rowStart − d`.
 */
export function rescoreFromRows(
  rows: Uint32Array,
  offsets: Uint32Array,
  values: Float32Array,
  docs: Uint32Array,
  n: number,
  q: Float32Array,
  out: Float64Array,
): void {
  // Each doc's first value first, all n loads independent (a software prefetch, as in `scoreHalfRows`); the
  // scoring loop then overwrites `out`.
  for (let i = 0; i < n; i++) out[i] = values[offsets[docs[i]]];
  for (let i = 0; i < n; i++) {
    const d = docs[i];
    const v0 = offsets[d];
    const len = offsets[d + 1] - v0;
    const r0 = v0 + d + 1;
    let s = 0;
    for (let j = 0; j < len; j++) s += q[rows[r0 + j] & 0xffff] * values[v0 + j];
    out[i] = s;
  }
}

/**
 * The oracle of the half-float ranking: brute force over `forward`'s half-float rows, every doc scored as the
 * searcher ranks (`scoreRankingRows`): returns the top k ords with a positive score (as exact.ts
 * `bruteForceSearch`), best first (ties: ord ascending). Null when `buildHalfRows` would be. Tests.
 */
export function halfBruteForce(forward: ForwardIndex): ((query: SparseVector, k: number) => Int32Array) | null {
  const hr = buildHalfRows(forward, new Uint32Array(0));
  if (hr === null) return null;
  const tbl = halfTable();
  const n = forward.numDocs;
  const starts = Uint32Array.from({ length: n }, (_, d) => forward.offsets[d] + d);
  const ends = new Uint32Array(n);
  const scores = new Float64Array(n);
  const q = new Float32Array(forward.dim);
  return (query, k) => {
    for (let i = 0; i < query.indices.length; i++) if (query.indices[i] < forward.dim) q[query.indices[i]] = query.values[i];
    scoreRankingRows(hr, starts, ends, n, q, tbl, scores);
    q.fill(0);
    const heap = new TopK(k);
    for (let d = 0; d < n; d++) if (scores[d] > 0) heap.push(d, scores[d] * hr.invScale);
    return heap.drain().keys;
  };
}
