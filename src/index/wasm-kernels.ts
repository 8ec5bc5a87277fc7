/**
 * The WebAssembly doc-scoring kernels (score-kernels.wat, written by scripts/gen-score-kernels.py and assembled
 * into score-kernels.wasm.ts by scripts/build-wasm.mjs) and the scratch they need, over a segment file that was read into a shared WebAssembly memory (core/section-file.ts `wasm`).
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
 * vs 383–463 ns per doc.
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
  fwd16(docs: number, n: number, out: number, q: number, off: number, ids: number, vals: number): void;
  fwd32(docs: number, n: number, out: number, q: number, off: number, ids: number, vals: number): void;
  half(starts: number, n: number, out: number, q: number, rows: number): void;
  halfNormal(starts: number, n: number, out: number, q: number, rows: number): void;
  halfValue(h: number): number;
}

let compiled: object | null = null;

/** The kernels' module, compiled once per thread on first use (a few kilobytes; synchronous). */
function kernelModule(): object {
  if (compiled === null) compiled = new Wasm.Module(Buffer.from(SCORE_KERNELS_WASM, 'base64'));
  return compiled;
}

/** The kernels instantiated over `memory` (one instance per scorer; an instance is a few hundred bytes). */
export function kernelsOver(memory: WasmMemory): KernelExports {
  return new Wasm.Instance(kernelModule(), { env: { memory } }).exports as unknown as KernelExports;
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
    const base = memory.grow(Math.ceil(bytes / PAGE)) * PAGE;
    const buf = memory.buffer;
    this.q = new Float32Array(buf, base, dim);
    this.input = new Uint32Array(buf, base + inAt, maxInput);
    this.out = new Float64Array(buf, base + outAt, maxInput);
    this.run = bind(kernelsOver(memory), base, base + inAt, base + outAt);
  }

  /**
   * A scorer of `forward`'s docs (ords in `input`) against `q` of length `dim`, or null when the forward index is
   * not in a wasm memory or the memory cannot grow by the scratch.
   */
  static forForward(forward: ForwardIndex, dim: number, maxInput: number): WasmScorer | null {
    const memory = forward.memory;
    if (memory === undefined) return null;
    const off = addressIn(memory, forward.offsets);
    const ids = addressIn(memory, forward.termIds);
    const vals = addressIn(memory, forward.values);
    if (off < 0 || ids < 0 || vals < 0) return null;
    const wide = forward.termIds instanceof Uint32Array;
    return WasmScorer.make(memory, dim, maxInput, (k, q, input, out) => {
      const f = wide ? k.fwd32 : k.fwd16;
      return (n) => f(input, n, out, q, off, ids, vals);
    });
  }

  /**
   * A scorer of half-float rows (row starts in `input`; seismic/half-rows.ts layout) in `memory`, or null as for
   * `forForward`. `normal`: every half is a normal non-negative number (the branch-free decode, `halfNormal`).
   */
  static forHalfRows(rows: Uint32Array, normal: boolean, memory: WasmMemory | undefined, dim: number, maxInput: number): WasmScorer | null {
    if (memory === undefined) return null;
    const at = addressIn(memory, rows);
    if (at < 0) return null;
    return WasmScorer.make(memory, dim, maxInput, (k, q, input, out) => {
      const f = normal ? k.halfNormal : k.half;
      return (n) => f(input, n, out, q, at);
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
      // The memory's maximum is reached (RangeError from grow): score in JavaScript.
      if (err instanceof RangeError) return null;
      throw err;
    }
  }

  /** Scores `input[0..n)` into `out[0..n)`. */
  score(n: number): void {
    this.run(n);
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
export function copyIntoWasmMemory<T extends Uint16Array | Uint32Array | Float32Array>(
  arrays: readonly T[],
): { copies: T[]; memory: WasmMemory } {
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
