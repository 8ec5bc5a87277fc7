/**
 * Quantised forward rows for the approximate searcher's candidate filter: one u32 per nonzero packing the term id
 * (low 16 bits) with the value rounded *up* to a 16-bit code of a per-doc step (high 16 bits), so that
 * `scales[d] · Σ q[t]·code` is an upper bound of doc d's exact score for any query with non-negative weights
 * (code ≥ v / step, step = max_d / 65535). Reading one 4-byte word per nonzero instead of a 2-byte id and a 4-byte
 * value in two arrays is what pays: random docs of a 1M-doc synthetic forward index scored ~28% faster (50k docs,
 * in cache: ~20%), measured with the lockstep kernel below against forward-index.ts `scoreDocs`.
 *
 * The searcher (searcher.ts) uses the bound only to reject docs that cannot enter a full heap; docs that pass are
 * scored exactly, so results and scores stay identical to exact scoring. Derived at load from the forward index
 * (no on-disk layout): plain typed arrays, so they can live on a SharedArrayBuffer like the index.
 * Measured in the searcher (bench/bench-fixed-cost.ts setting, then 1M synthetic docs, same process A/B): 50k docs
 * qc 1 ~5% slower, qc 10 ~7% faster; 1M docs qc 1/2/3/5: 0%, 4%, 1%, 6% faster. Not worth +4 bytes per nonzero,
 * so the product's searchers do not use it (SeismicSearcher's `rows` defaults to null); `npm run bench` reports
 * the A/B for the data at hand.
 * Available only when term ids fit 16 bits (dim ≤ 65,536) and every value is ≥ 0; otherwise `buildQuantisedRows`
 * returns null and the searcher scores every candidate exactly.
 * Callers: searcher.ts, approximate.ts.
 */
import type { ForwardIndex } from '../index/forward-index.js';

/** See the file header. `rows` parallels `forward.termIds`; `scales[d]` is doc d's step. */
export interface QuantisedRows {
  readonly rows: Uint32Array;
  readonly scales: Float32Array;
}

const CODE_MAX = 65535;

/** Builds the rows (O(nnz)); null when ids do not fit 16 bits or a value is negative. */
export function buildQuantisedRows(forward: ForwardIndex): QuantisedRows | null {
  const { numDocs, offsets, termIds, values } = forward;
  if (forward.dim > 65536) return null;
  const nnz = offsets[numDocs];
  const rows = new Uint32Array(nnz);
  const scales = new Float32Array(numDocs);
  for (let d = 0; d < numDocs; d++) {
    const s = offsets[d];
    const e = offsets[d + 1];
    let mx = 0;
    for (let p = s; p < e; p++) {
      const v = values[p];
      if (!(v >= 0)) return null;
      if (v > mx) mx = v;
    }
    // The stored step is float32; codes are taken against that rounded step so the bound holds for it.
    let step = Math.fround(mx / CODE_MAX);
    // float32 rounding may leave 65535·step below the max (its code would need 65536): round the step up.
    while (step * CODE_MAX < mx) step = Math.fround(step * (1 + 2 ** -23));
    scales[d] = step;
    for (let p = s; p < e; p++) {
      let code = step > 0 ? Math.ceil(values[p] / step) : 0;
      if (code > CODE_MAX) code = CODE_MAX;
      // code·step ≥ value must hold in float arithmetic too: bump the rare code that rounding left short.
      if (code < CODE_MAX && code * step < values[p]) code++;
      rows[p] = (termIds[p] | (code << 16)) >>> 0;
    }
  }
  return { rows, scales };
}

/**
 * Upper bounds of the scores of `docs[0..n)` against the dense query `q` (non-negative weights) into `out`.
 * Four docs in lockstep, like `scoreDocs`, so their cache misses overlap.
 */
export function boundDocs(offsets: Uint32Array, qr: QuantisedRows, docs: Uint32Array, n: number, q: Float32Array, out: Float64Array): void {
  const rows = qr.rows;
  const scales = qr.scales;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const d0 = docs[i];
    const d1 = docs[i + 1];
    const d2 = docs[i + 2];
    const d3 = docs[i + 3];
    let p0 = offsets[d0];
    let p1 = offsets[d1];
    let p2 = offsets[d2];
    let p3 = offsets[d3];
    const e0 = offsets[d0 + 1];
    const e1 = offsets[d1 + 1];
    const e2 = offsets[d2 + 1];
    const e3 = offsets[d3 + 1];
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    while (p0 < e0 && p1 < e1 && p2 < e2 && p3 < e3) {
      const x0 = rows[p0++];
      const x1 = rows[p1++];
      const x2 = rows[p2++];
      const x3 = rows[p3++];
      s0 += q[x0 & 0xffff] * (x0 >>> 16);
      s1 += q[x1 & 0xffff] * (x1 >>> 16);
      s2 += q[x2 & 0xffff] * (x2 >>> 16);
      s3 += q[x3 & 0xffff] * (x3 >>> 16);
    }
    for (; p0 < e0; p0++) s0 += q[rows[p0] & 0xffff] * (rows[p0] >>> 16);
    for (; p1 < e1; p1++) s1 += q[rows[p1] & 0xffff] * (rows[p1] >>> 16);
    for (; p2 < e2; p2++) s2 += q[rows[p2] & 0xffff] * (rows[p2] >>> 16);
    for (; p3 < e3; p3++) s3 += q[rows[p3] & 0xffff] * (rows[p3] >>> 16);
    out[i] = s0 * scales[d0];
    out[i + 1] = s1 * scales[d1];
    out[i + 2] = s2 * scales[d2];
    out[i + 3] = s3 * scales[d3];
  }
  for (; i < n; i++) {
    const d = docs[i];
    let s = 0;
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) s += q[rows[p] & 0xffff] * (rows[p] >>> 16);
    out[i] = s * scales[d];
  }
}
