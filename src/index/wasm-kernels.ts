/**
 * The WebAssembly doc-scoring kernels and the block-summary kernel (`WasmSummaries`, at the end of this file)
 * (score-kernels.wat, written by scripts/gen-score-kernels.py and assembled into score-kernels.wasm.ts by
 * scripts/build-wasm.mjs) and the scratch they need, over a segment file that was read into a shared WebAssembly
 * memory (core/section-file.ts `wasm`).
 *
 * Why: a candidate doc's score is a sparse dot product against the dense query, ~120 gathers per doc. In
 * JavaScript each of the three reads per nonzero is a bounds-checked typed-array access; the same loop in wasm
 * (four docs in lockstep, pointer increments, no bounds checks thanks to the memory's guard region) measured 0.9
 * vs 2.0 ns per nonzero in cache and 2.0 vs 2.9 ns from a cold 36 MB forward index on the dev box (micro-benchmark
 * of 90 random 120-term docs of a 50k-doc index; a C build of the same loop: 0.85 / 1.84 ns). The sums are the
 * JavaScript kernels' bit for bit (f32 operands promoted to f64, one running sum per doc, in entry order), so
 * approximate and exact scores still compare equal; src/index/wasm-kernels.test.ts checks it. Half-float rows
 * (seismic/half-rows.ts) have two kernels: `half` decodes any half exactly (a branch per value), `halfNormal` only
 * normal non-negative ones, in three operations, which every row built now holds: scored so, the rows beat the
 * f32 forward index in wasm (4 bytes per nonzero in one stream against 6 in two plus the offsets): 1M synthetic
 * docs, `npm run bench`, qc 2 / hf 0.9, same run: 0.424 vs 0.512 ms; random 1M-doc rows, 90 per call: 292–313
 * vs 383–463 ns per doc. `halfNormal` runs in wasm SIMD: four halves decoded per instruction, the query weights
 * gathered four at a time, float32 products summed in eight lanes (half-rows.ts `scoreHalfRowsNormal` is its
 * JavaScript twin, bit for bit; a ranking score moves by ~1e-7 of itself against the f64 sum, under the halves'
 * own 2^-11). Measured against the scalar four-docs-in-lockstep f64 kernel (70 docs per call over the 1M-doc
 * bench cache's rows, alternated calls): 145–179 vs 266–326 ns per doc in cache, 343–474 vs 441–607 from random
 * rows; in the searcher (1M docs, hf 1, each query to one of the two, alternated), qc 1 0.303–0.326 vs
 * 0.335–0.348 ms, qc 2 0.386–0.397 vs 0.422–0.443, qc 3 0.612–0.639 vs 0.697–0.741.
 *
 * Touch pass: from a forward index that is not in cache, a query's doc scoring waits on memory, not arithmetic (qc 1
 * on the 50k-doc fixed-cost collection through the service: each query's first run 85–107 µs p50, the same query run
 * again 36–49 µs; with the doc kernels' calls skipped, 39–41 µs). The scoring loop exits each row at a different
 * length, and those branches keep the core from running far ahead to the next rows' misses. So each doc kernel
 * first reads one byte of each of the first 12 cache lines of every input row (their offsets entries first), with no
 * branch on a row's length (a short row's last line is read again), then scores as before. Measured, same run,
 * every other query without it (`npm run bench`): 50k docs, qc 1 / hf 0.9, 0.049–0.071 vs 0.066–0.092 ms mean (4
 * runs); 1M docs, qc 2 / hf 1, 0.504 vs 0.602 ms. The rows' touches are bounded by the rows' last byte, not by
 * each row's count word, so no touch waits for a row's first line to arrive (same-process A/B at 50k docs, each
 * query to the old and the new kernel in turn, 2,000 queries × 8: qc 1 22.5 vs 24.3 µs and 22.3 vs 23.9, qc 3
 * 43.1 vs 46.0, qc 5 / hf 0.8 60.3 vs 63.6; 16 lines instead of 12: no gain).
 *
 * A kernel reads only the memory of one file, so the searcher's scratch (the dense query, the candidate list and
 * their scores) lives in that memory too: `WasmScorer` grows the memory by a private region per scorer (the memory
 * is shared between the threads that search the segment, and a grow is atomic, so each thread's scorer gets its
 * own). When the memory cannot grow (its maximum reached) or the arrays are not in a wasm memory (a memtable, a
 * freshly built index not yet read back from disk, a file too large for 32-bit addressing), `forForward` and
 * `forHalfRows` answer null and the caller scores in JavaScript.
 * Callers: seismic/searcher.ts; tests.
 */
import { WASM_SCRATCH_PAGES } from '../core/section-file.js';
import { Wasm, type WasmMemory } from '../core/wasm-api.js';
import type { ForwardIndex } from './forward-index.js';
import { SCORE_KERNELS_WASM } from './score-kernels.wasm.js';

interface KernelExports {
  fwd16(docs: number, n: number, out: number, q: number, off: number, ids: number, vals: number, touch: number): void;
  fwd32(docs: number, n: number, out: number, q: number, off: number, ids: number, vals: number, touch: number): void;
  half(starts: number, n: number, out: number, q: number, rows: number, last: number, touch: number): void;
  halfNormal(starts: number, n: number, out: number, q: number, rows: number, last: number, touch: number): void;
  halfValue(h: number): number;
  /** Rows touched by the doc kernels' touch passes so far (this instance). */
  touched: { value: number };
  summ16(cs: number, ce: number, nb: number, g0: number, q: number, ...arrays: number[]): number;
  summ32(cs: number, ce: number, nb: number, g0: number, q: number, ...arrays: number[]): number;
}

let compiled: object | null | undefined;

/**
 * A module of `bytes`, or null when this engine cannot compile it: `halfNormal` uses wasm SIMD, which V8 refuses
 * on an x86 core without SSE4.1; then every scorer is null and the searcher scores in JavaScript, with the same
 * arithmetic (the same results). Exported for the test of that fallback.
 */
export function compileKernels(bytes: Uint8Array): object | null {
  try {
    return new Wasm.Module(bytes);
  } catch (err) {
    if (err instanceof Wasm.CompileError) return null;
    throw err;
  }
}

/** The kernels' module, compiled once per thread on first use (a few kilobytes; synchronous); null: unsupported. */
function kernelModule(): object | null {
  if (compiled === undefined) compiled = compileKernels(Buffer.from(SCORE_KERNELS_WASM, 'base64'));
  return compiled;
}

/** The kernels instantiated over `memory` (one instance per scorer; an instance is a few hundred bytes). */
export function kernelsOver(memory: WasmMemory): KernelExports {
  const mod = kernelModule();
  // A RangeError, as for a memory at its maximum: `WasmScorer.make` and `WasmSummaries.over` then answer null.
  if (mod === null) throw new RangeError('the wasm kernels do not compile on this engine');
  return new Wasm.Instance(mod, { env: { memory } }).exports as unknown as KernelExports;
}

const PAGE = 65536;

/**
 * Byte address of `view` in `memory`, or -1 when it cannot be one. Whoever sets a `memory` beside arrays (section-file.ts
 * through segment-reader.ts `parseForward`, seismic-index.ts) made the arrays views of that memory's bytes, so the
 * view's offset is its address (in another thread too: there the view is over a clone of the same bytes).
 */
function addressIn(memory: WasmMemory, view: ArrayBufferView): number {
  if (!(view.buffer instanceof SharedArrayBuffer)) return -1;
  return view.byteOffset + view.byteLength <= memory.buffer.byteLength ? view.byteOffset : -1;
}

/**
 * A kernel bound to the scored arrays of one memory, with private scratch in it: `q` (the dense query; the caller
 * fills and clears it), `input` (doc ords or row starts to score) and `out` (their scores).
 */
export class WasmScorer {
  readonly q: Float32Array;
  readonly input: Uint32Array;
  readonly out: Float64Array;
  private readonly run: (n: number) => void;
  private readonly kernels: KernelExports;

  private constructor(
    memory: WasmMemory,
    dim: number,
    maxInput: number,
    bind: (k: KernelExports, q: number, input: number, out: number) => (n: number) => void,
  ) {
    const qBytes = dim * 4;
    const inBytes = maxInput * 4;
    const inAt = align8(qBytes);
    const outAt = align8(inAt + inBytes);
    const bytes = outAt + maxInput * 8;
    // Before the grow: an engine that cannot compile the kernels (RangeError) costs the memory nothing.
    this.kernels = kernelsOver(memory);
    const base = memory.grow(Math.ceil(bytes / PAGE)) * PAGE;
    const buf = memory.buffer;
    this.q = new Float32Array(buf, base, dim);
    this.input = new Uint32Array(buf, base + inAt, maxInput);
    this.out = new Float64Array(buf, base + outAt, maxInput);
    this.run = bind(this.kernels, base, base + inAt, base + outAt);
  }

  /** Rows this scorer's touch passes have read ahead so far (0 when it was made with `touch` false). */
  get rowsTouched(): number {
    return this.kernels.touched.value;
  }

  /**
   * A scorer of `forward`'s docs (ords in `input`) against `q` of length `dim`, or null when the forward index is
   * not in a wasm memory or the memory cannot grow by the scratch. `touch` (default true): each call first reads
   * ahead the first lines of every input row (the kernels' touch pass, see the file comment); false: it does not
   * (benchmarks' A/B; the same scores).
   */
  static forForward(forward: ForwardIndex, dim: number, maxInput: number, touch = true): WasmScorer | null {
    const memory = forward.memory;
    if (memory === undefined) return null;
    const off = addressIn(memory, forward.offsets);
    const ids = addressIn(memory, forward.termIds);
    const vals = addressIn(memory, forward.values);
    if (off < 0 || ids < 0 || vals < 0) return null;
    const wide = forward.termIds instanceof Uint32Array;
    const on = touch ? 1 : 0;
    return WasmScorer.make(memory, dim, maxInput, (k, q, input, out) => {
      const f = wide ? k.fwd32 : k.fwd16;
      return (n) => f(input, n, out, q, off, ids, vals, on);
    });
  }

  /**
   * A scorer of half-float rows (row starts in `input`; seismic/half-rows.ts layout) in `memory`, or null as for
   * `forForward`. `normal`: every half is a normal non-negative number (the branch-free decode, `halfNormal`);
   * `touch` as for `forForward`.
   */
  static forHalfRows(
    rows: Uint32Array,
    normal: boolean,
    memory: WasmMemory | undefined,
    dim: number,
    maxInput: number,
    touch = true,
  ): WasmScorer | null {
    if (memory === undefined) return null;
    const at = addressIn(memory, rows);
    if (at < 0) return null;
    const on = touch ? 1 : 0;
    // The touch pass reads up to here (the rows' last byte), not past the rows.
    const last = at + Math.max(0, rows.byteLength - 1);
    return WasmScorer.make(memory, dim, maxInput, (k, q, input, out) => {
      const f = normal ? k.halfNormal : k.half;
      return (n) => f(input, n, out, q, at, last, on);
    });
  }

  private static make(
    memory: WasmMemory,
    dim: number,
    maxInput: number,
    bind: (k: KernelExports, q: number, input: number, out: number) => (n: number) => void,
  ): WasmScorer | null {
    try {
      return new WasmScorer(memory, dim, Math.max(1, maxInput), bind);
    } catch (err) {
      // The memory's maximum is reached (RangeError from grow), or the kernels do not compile here: score in JavaScript.
      if (err instanceof RangeError) return null;
      throw err;
    }
  }

  /** Scores `input[0..n)` into `out[0..n)`. */
  score(n: number): void {
    this.run(n);
  }
}

/** The arrays of a Seismic index's transposed block summaries that the summary kernel reads (seismic-index.ts). */
export interface SummaryArrays {
  readonly compTerms: Uint16Array | Uint32Array;
  readonly compEntryOffsets: Uint32Array;
  readonly entryBlocks: Uint16Array | Uint32Array;
  readonly entryCodes: Uint8Array;
  readonly summaryMin: Float32Array;
  readonly summaryStep: Float32Array;
}

/** The `SummaryArrays` fields, in the order the summary kernel takes them. */
const SUMMARY_KEYS = ['compTerms', 'compEntryOffsets', 'entryBlocks', 'entryCodes', 'summaryMin', 'summaryStep'] as const;

type WasmArray = Uint8Array | Uint16Array | Uint32Array | Float32Array;

/**
 * `summaries` and `extra` copied into one fresh shared wasm memory (`copyIntoWasmMemory`), as a segment's
 * seismic.bin is read: the copies of `extra` (in order), the summaries over their copies, and the memory.
 */
export function summariesInWasmMemory<E extends WasmArray>(
  summaries: SummaryArrays,
  extra: readonly E[],
): { extra: E[]; summaries: SummaryArrays; memory: WasmMemory } {
  const { copies, memory } = copyIntoWasmMemory<WasmArray>([...extra, ...SUMMARY_KEYS.map((k) => summaries[k])]);
  const [compTerms, compEntryOffsets, entryBlocks, entryCodes, summaryMin, summaryStep] = copies.slice(extra.length);
  return {
    extra: copies.slice(0, extra.length) as E[],
    summaries: {
      compTerms: compTerms as Uint16Array | Uint32Array,
      compEntryOffsets: compEntryOffsets as Uint32Array,
      entryBlocks: entryBlocks as Uint16Array | Uint32Array,
      entryCodes: entryCodes as Uint8Array,
      summaryMin: summaryMin as Float32Array,
      summaryStep: summaryStep as Float32Array,
    },
    memory,
  };
}

/** Components the summary kernel lists per pass (its scratch: 4 bytes each). */
const SUMMARY_CHUNK = 1024;

/**
 * The block-summary kernel (`summ16`/`summ32` in score-kernels.wat) bound to one index's summaries and a dense
 * query in the same memory, with its own scratch there: the per-block sums and `scores`, the summary scores of
 * the last list scored. The searcher's JavaScript pass, bit for bit. At 50k synthetic docs, one list of ~1,100
 * components against a 43-term query: 1.1 vs 3.1 µs in cache, 5.1 vs 7.3 µs from memory (micro-benchmark,
 * alternated passes); in a query at qc 5 / hf 0.8 it was a third of the kernel's time. A list's components are
 * listed, touched and then summed (score-kernels.wat): of ~1,080 components of a qc 1 list at 50k docs ~21 match a
 * query, and with one pass each of their entry reads waited on memory behind a mispredicted branch. Same-process
 * A/B at 50k docs (hf 0.9, each query to the old and the new kernel in turn, 2,000 queries × 8): kernel 26.3 vs
 * 27.4 µs at qc 1, 49.3 vs 52.5 at qc 3, 67.6 vs 72.4 at qc 5.
 */
export class WasmSummaries {
  readonly scores: Float32Array;
  private readonly run: (cs: number, ce: number, nb: number, g0: number) => number;

  private constructor(memory: WasmMemory, maxBlocks: number, wide: boolean, q: number, arrays: number[], chunk: number) {
    const k = kernelsOver(memory); // before the grow, as in WasmScorer
    const sums = maxBlocks * 8;
    const hitAt = 2 * sums + align8(maxBlocks * 4);
    const base = memory.grow(Math.ceil((hitAt + chunk * 4) / PAGE)) * PAGE;
    this.scores = new Float32Array(memory.buffer, base + 2 * sums, maxBlocks);
    const f = wide ? k.summ32 : k.summ16;
    const [terms, eoff, eblk, ecode, smin, sstep] = arrays;
    const ws = base;
    const wc = base + sums;
    const out = base + 2 * sums;
    const hit = base + hitAt;
    this.run = (cs, ce, nb, g0) => f(cs, ce, nb, g0, q, terms, eoff, eblk, ecode, smin, sstep, ws, wc, out, hit, chunk);
  }

  /**
   * A kernel over `arrays` and the dense query `q` for lists of at most `maxBlocks` blocks, or null when they are
   * not all in `memory`, the entries' block ids are u32 (no kernel for those: lists of more than 65,536 blocks),
   * or the memory cannot grow by the scratch. `chunk`: components listed per pass (the kernel's scratch; tests
   * make it small to cross chunks).
   */
  static over(
    arrays: SummaryArrays,
    q: Float32Array,
    memory: WasmMemory | undefined,
    maxBlocks: number,
    chunk = SUMMARY_CHUNK,
  ): WasmSummaries | null {
    if (memory === undefined || arrays.entryBlocks instanceof Uint32Array) return null;
    const at = SUMMARY_KEYS.map((k) => addressIn(memory, arrays[k]));
    const qAt = addressIn(memory, q);
    if (qAt < 0 || at.some((a) => a < 0)) return null;
    try {
      return new WasmSummaries(memory, Math.max(1, maxBlocks), arrays.compTerms instanceof Uint32Array, qAt, at, Math.max(1, chunk));
    } catch (err) {
      if (err instanceof RangeError) return null;
      throw err;
    }
  }

  /**
   * Scores list components [cs, ce) into `scores[0..nb)` (its blocks are g0 .. g0+nb-1); returns the summary
   * entries read.
   */
  score(cs: number, ce: number, nb: number, g0: number): number {
    return this.run(cs, ce, nb, g0);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * `arrays` copied into one fresh shared wasm memory (with room for scratch), in order, each 8-aligned: what a
 * segment file read with `wasm` gives, for indexes built in memory (the bench runner measures the product's
 * kernels so). Returns the copies and the memory.
 */
export function copyIntoWasmMemory<T extends WasmArray>(arrays: readonly T[]): { copies: T[]; memory: WasmMemory } {
  let bytes = 0;
  for (const a of arrays) bytes = align8(bytes) + a.byteLength;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  const memory = new Wasm.Memory({ initial: pages, maximum: pages + WASM_SCRATCH_PAGES, shared: true });
  let at = 0;
  const copies = arrays.map((a) => {
    at = align8(at);
    const C = a.constructor as new (b: SharedArrayBuffer, off: number, len: number) => T;
    const c = new C(memory.buffer, at, a.length);
    c.set(a as never);
    at += a.byteLength;
    return c;
  });
  return { copies, memory };
}

/** `forward` with its three arrays copied into a wasm memory (`copyIntoWasmMemory`). */
export function forwardInWasmMemory(forward: ForwardIndex): ForwardIndex {
  const { copies, memory } = copyIntoWasmMemory<Uint16Array | Uint32Array | Float32Array>([
    forward.offsets,
    forward.termIds,
    forward.values,
  ]);
  const [offsets, termIds, values] = copies as [Uint32Array, Uint16Array | Uint32Array, Float32Array];
  return { numDocs: forward.numDocs, dim: forward.dim, offsets, termIds, values, memory };
}
