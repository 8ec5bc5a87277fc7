/**
 * Block summaries (Seismic's energy-preserving summaries): the coordinate-wise max of a block's docs, cut to the
 * shortest prefix by weight whose L1 mass reaches `summaryEnergy` of the total (inclusive of the entry that crosses
 * it; ties at the cut are all kept), quantised to u8 with a per-summary min and step:
 * `value ≈ min + step·code`, `step = (max − min)/255`, code = round((v − min)/step).
 *
 * `SummaryWriter` collects one list's summaries and appends them transposed (term-major: for each term of the
 * list's summaries, the blocks that carry it) to growable output arrays, so a query scores all block summaries of a
 * list in one pass over the query's terms. Output layout: see seismic-index.ts.
 * Callers: build.ts.
 */
import type { ForwardIndex } from '../index/forward-index.js';

const HIST_BUCKETS = 1 << 14;

/** Growable typed array (amortised doubling). */
export class GrowU32 {
  a: Uint32Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Uint32Array(cap);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  reserve(extra: number): void {
    if (this.n + extra > this.a.length) {
      const b = new Uint32Array(Math.max(this.a.length * 2, this.n + extra));
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
  }
  toArray(): Uint32Array {
    return this.a.slice(0, this.n);
  }
}

/** Output arrays of all lists' summaries, appended list by list. */
export class SummaryOutput {
  readonly compTerms = new GrowU32();
  readonly compEntryOffsets = new GrowU32();
  readonly entryBlocks = new GrowU32();
  entryCodes = new Uint8Array(1024);
  readonly summaryMin = new GrowF32();
  readonly summaryStep = new GrowF32();
  constructor() {
    this.compEntryOffsets.push(0);
  }
}

/** Growable Float32Array. */
export class GrowF32 {
  a = new Float32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  toArray(): Float32Array {
    return this.a.slice(0, this.n);
  }
}

/** Per-thread scratch and the current list's summaries before transposition. */
export class SummaryWriter {
  private readonly maxW: Float32Array;
  private readonly stamp: Uint32Array;
  private epoch = 0;
  private touched = new Uint32Array(4096);
  private selVals = new Float32Array(4096);
  private bitsBuf = new Uint32Array(4096);
  private readonly hSum = new Float64Array(HIST_BUCKETS);
  private readonly maxWBits: Uint32Array;
  private keptT = new Uint32Array(4096);
  private keptV = new Float32Array(4096);
  // Current list, block-major: block i's entries are [blockEntryEnd[i-1], blockEntryEnd[i]).
  private terms = new GrowU32();
  private codes = new GrowU32();
  private blockEntryEnd = new GrowU32();
  // Transposition scratch (per term counts of the current list).
  private readonly termCount: Uint32Array;
  private readonly termStamp: Uint32Array;
  private termEpoch = 0;
  private listTerms = new GrowU32();

  constructor(dim: number) {
    this.maxW = new Float32Array(dim);
    this.maxWBits = new Uint32Array(this.maxW.buffer);
    this.stamp = new Uint32Array(dim);
    this.termCount = new Uint32Array(dim);
    this.termStamp = new Uint32Array(dim);
  }

  /** Starts a new list. */
  beginList(): void {
    this.terms.n = 0;
    this.codes.n = 0;
    this.blockEntryEnd.n = 0;
    this.listTerms.n = 0;
    this.termEpoch++;
  }

  /** Summarises one block (docs[start..end)) and records it for the current list. */
  addBlock(forward: ForwardIndex, docs: Uint32Array, start: number, end: number, energy: number, out: SummaryOutput): void {
    const epoch = ++this.epoch;
    const { maxW, stamp } = this;
    const { offsets, termIds, values } = forward;
    let nt = 0;
    // Coordinate-wise max over the block's docs (hot: ~120 updates per doc).
    for (let i = start; i < end; i++) {
      const d = docs[i];
      for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
        const t = termIds[p];
        const w = values[p];
        if (stamp[t] !== epoch) {
          stamp[t] = epoch;
          maxW[t] = w;
          if (nt === this.touched.length) this.grow();
          this.touched[nt++] = t;
        } else if (w > maxW[t]) maxW[t] = w;
      }
    }
    const cut = this.histogramCut(nt, energy);
    // Keep the terms at or above the cut (~15% of the union), then quantise them.
    const keptT = this.keptT;
    const keptV = this.keptV;
    let nk = 0;
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < nt; i++) {
      const t = this.touched[i];
      const v = maxW[t];
      if (v < cut) continue;
      keptT[nk] = t;
      keptV[nk++] = v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const step = (mx - mn) / 255;
    out.summaryMin.push(mn);
    out.summaryStep.push(step);
    const tc = this.termCount;
    const ts = this.termStamp;
    const te = this.termEpoch;
    this.terms.reserve(nk);
    this.codes.reserve(nk);
    const terms = this.terms.a;
    const codes = this.codes.a;
    let q = this.terms.n;
    for (let i = 0; i < nk; i++) {
      const t = keptT[i];
      terms[q] = t;
      codes[q++] = step > 0 ? Math.round((keptV[i] - mn) / step) : 0;
      if (ts[t] !== te) {
        ts[t] = te;
        tc[t] = 0;
        this.listTerms.push(t);
      }
      tc[t]++;
    }
    this.terms.n = q;
    this.codes.n = q;
    this.blockEntryEnd.push(this.terms.n);
  }

  /** Transposes the current list's summaries and appends them to `out`. */
  endList(out: SummaryOutput): void {
    const lt = this.listTerms.a.subarray(0, this.listTerms.n);
    lt.sort();
    const tc = this.termCount;
    // Components ascending by term id; counts become write cursors into the entry arrays.
    let pos = out.entryBlocks.n;
    for (let i = 0; i < lt.length; i++) {
      const t = lt[i];
      const n = tc[t];
      out.compTerms.push(t);
      tc[t] = pos;
      pos += n;
      out.compEntryOffsets.push(pos);
    }
    const total = pos;
    out.entryBlocks.reserve(total - out.entryBlocks.n);
    if (out.entryCodes.length < total) {
      const b = new Uint8Array(Math.max(total, out.entryCodes.length * 2));
      b.set(out.entryCodes);
      out.entryCodes = b;
    }
    const eb = out.entryBlocks.a;
    const ec = out.entryCodes;
    let e = 0;
    for (let b = 0; b < this.blockEntryEnd.n; b++) {
      for (const end = this.blockEntryEnd.a[b]; e < end; e++) {
        const q = tc[this.terms.a[e]]++;
        eb[q] = b;
        ec[q] = this.codes.a[e];
      }
    }
    out.entryBlocks.n = total;
  }

  /**
   * The energy cut of the current block's max vector (see `energyCut`), found with one pass building a histogram
   * of (count, mass) over the top 14 bits of the float32 patterns (exponent + 5 mantissa bits), a scan of the
   * buckets from the top, and an exact weighted selection inside the one boundary bucket only. Measured on 12-doc
   * blocks with ~1,300 distinct terms: 4× cheaper than quickselect over all of them.
   */
  private histogramCut(nt: number, energy: number): number {
    const { maxW, maxWBits, touched, hSum } = this;
    const bits = this.bitsBuf;
    let total = 0;
    let lo = HIST_BUCKETS;
    let hi = -1;
    for (let i = 0; i < nt; i++) {
      const t = touched[i];
      const v = maxW[t];
      total += v;
      const b = maxWBits[t] >>> 18;
      bits[i] = b;
      hSum[b] += v;
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    }
    let need = energy * total;
    let boundary = -1;
    for (let b = hi; b >= lo; b--) {
      const s = hSum[b];
      if (s >= need) {
        boundary = b;
        break;
      }
      need -= s;
    }
    for (let b = lo; b <= hi; b++) hSum[b] = 0;
    // No bucket reached the target (energy 1, or rounding): keep every term.
    if (boundary < 0 || energy >= 1) return -Infinity;
    let m = 0;
    for (let i = 0; i < nt; i++) if (bits[i] === boundary) this.selVals[m++] = maxW[touched[i]];
    return energyCut(this.selVals, m, need);
  }

  private grow(): void {
    const t = new Uint32Array(this.touched.length * 2);
    t.set(this.touched);
    this.touched = t;
    this.selVals = new Float32Array(t.length);
    this.bitsBuf = new Uint32Array(t.length);
    this.keptT = new Uint32Array(t.length);
    this.keptV = new Float32Array(t.length);
  }
}

/**
 * Weighted selection: the largest value `cut` such that the sum of values ≥ cut reaches `target` (so keeping
 * values ≥ cut is the shortest prefix by weight reaching `target`, ties included). Expected O(n) (quickselect
 * partitioning of `vals[0..n)`, which it reorders).
 */
export function energyCut(vals: Float32Array, n: number, target: number): number {
  if (n === 0) return Infinity;
  let lo = 0;
  let hi = n; // candidates in vals[lo..hi)
  let need = target;
  for (;;) {
    if (hi - lo <= 1) return vals[lo];
    const pivot = median3(vals[lo], vals[(lo + hi) >>> 1], vals[hi - 1]);
    // Partition into [> pivot | == pivot | < pivot].
    let gt = lo;
    let i = lo;
    let lt = hi;
    while (i < lt) {
      const v = vals[i];
      if (v > pivot) {
        vals[i] = vals[gt];
        vals[gt++] = v;
        i++;
      } else if (v < pivot) {
        lt--;
        vals[i] = vals[lt];
        vals[lt] = v;
      } else i++;
    }
    let sumGt = 0;
    for (let j = lo; j < gt; j++) sumGt += vals[j];
    if (sumGt >= need && gt > lo) {
      hi = gt;
      continue;
    }
    const sumEq = pivot * (lt - gt);
    if (sumGt + sumEq >= need || lt === hi) return pivot;
    need -= sumGt + sumEq;
    lo = lt;
  }
}

function median3(a: number, b: number, c: number): number {
  if (a > b) {
    if (b > c) return b;
    return a > c ? c : a;
  }
  if (a > c) return a;
  return b > c ? c : b;
}
