/**
 * Experiment behind the forward-index value layout choice: scoring docs with float32 values vs 16-bit half floats
 * decoded through a 65,536-entry lookup table (term ids are u16 in both, BERT's 30,522 fit). Half floats cut a doc
 * row from 6 to 4 bytes per nonzero, which matters when doc scoring is bound by cache misses into a forward index
 * much larger than the caches (1M docs ≈ 720 MB). The bench reports both timings, one doc at a time; the searcher
 * keeps float32 unless half floats measure faster (see the bench output and the commit history). It also times the
 * kernel the searcher uses, `scoreDocs` (float32, four docs in lockstep), on the same kind of random docs.
 * Callers: bench-runner.ts.
 */
import { scoreDocs, type ForwardIndex } from '../index/forward-index.js';
import { Rng } from '../core/rng.js';

/** IEEE-754 half-float bits of a finite non-negative float (round to nearest; subnormals flushed to 0). */
export function toHalfBits(v: number): number {
  if (!(v > 6.1e-5)) return 0;
  if (v >= 65504) return 0x7bff;
  const e = Math.floor(Math.log2(v));
  let m = Math.round((v / 2 ** e - 1) * 1024);
  let ee = e;
  if (m === 1024) {
    m = 0;
    ee++;
  }
  return ((ee + 15) << 10) | m;
}

/** Lookup table half bits → float32. */
export function halfTable(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    const sign = h & 0x8000 ? -1 : 1;
    t[h] = e === 0 ? sign * m * 2 ** -24 : e === 31 ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
}

/** Mean nanoseconds per scored doc for each layout, scoring `docsPerQuery` random docs per query. */
export function measureValueLayouts(
  forward: ForwardIndex,
  queries: readonly { indices: Uint32Array; values: Float32Array }[],
  docsPerQuery = 2000,
): { f32NsPerDoc: number; f16NsPerDoc: number; lockstepNsPerDoc: number; maxRelError: number } {
  const nnz = forward.offsets[forward.numDocs];
  const v16 = new Uint16Array(nnz);
  const tbl = halfTable();
  let maxRel = 0;
  for (let p = 0; p < nnz; p++) {
    v16[p] = toHalfBits(forward.values[p]);
    const r = Math.abs(tbl[v16[p]] - forward.values[p]) / forward.values[p];
    if (r > maxRel) maxRel = r;
  }
  const rng = new Rng(7);
  const docs = new Uint32Array(docsPerQuery);
  const qDense = new Float32Array(forward.dim);
  const out = new Float64Array(docsPerQuery);
  let t32 = 0;
  let t16 = 0;
  let t4 = 0;
  let sink = 0;
  for (let round = 0; round < 2; round++) {
    for (const q of queries) {
      for (let i = 0; i < docs.length; i++) docs[i] = rng.int(forward.numDocs);
      for (let i = 0; i < q.indices.length; i++) qDense[q.indices[i]] = q.values[i];
      let s = performance.now();
      sink += score32(forward.offsets, forward.termIds, forward.values, docs, qDense);
      const a = performance.now() - s;
      for (let i = 0; i < docs.length; i++) docs[i] = rng.int(forward.numDocs);
      s = performance.now();
      sink += score16(forward.offsets, forward.termIds, v16, tbl, docs, qDense);
      const b = performance.now() - s;
      for (let i = 0; i < docs.length; i++) docs[i] = rng.int(forward.numDocs);
      s = performance.now();
      scoreDocs(forward, docs, docs.length, qDense, out);
      const c = performance.now() - s;
      sink += out[0];
      if (round === 1) {
        t32 += a;
        t16 += b;
        t4 += c;
      }
      for (let i = 0; i < q.indices.length; i++) qDense[q.indices[i]] = 0;
    }
  }
  const n = queries.length * docsPerQuery;
  return { f32NsPerDoc: (t32 * 1e6) / n + sink * 0, f16NsPerDoc: (t16 * 1e6) / n, lockstepNsPerDoc: (t4 * 1e6) / n, maxRelError: maxRel };
}

function score32(offsets: Uint32Array, ids: Uint16Array | Uint32Array, vals: Float32Array, docs: Uint32Array, q: Float32Array): number {
  let total = 0;
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i];
    let s = 0;
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) s += q[ids[p]] * vals[p];
    total += s;
  }
  return total;
}

function score16(
  offsets: Uint32Array,
  ids: Uint16Array | Uint32Array,
  v16: Uint16Array,
  tbl: Float32Array,
  docs: Uint32Array,
  q: Float32Array,
): number {
  let total = 0;
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i];
    let s = 0;
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) s += q[ids[p]] * tbl[v16[p]];
    total += s;
  }
  return total;
}
