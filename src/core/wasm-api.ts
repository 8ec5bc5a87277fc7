/**
 * The parts of the WebAssembly JavaScript API spladex uses, typed here: Node has them all, but TypeScript declares
 * the `WebAssembly` namespace only in its DOM libraries, which this project does not load (tsconfig `lib`).
 * Callers: section-file.ts (file bytes in a shared memory), index/wasm-kernels.ts (the scoring kernels).
 */

/** A shared WebAssembly memory: its bytes are a SharedArrayBuffer that threads (and wasm instances) share. */
export interface WasmMemory {
  /** The current bytes; a new, longer buffer after each grow (older views stay valid). */
  readonly buffer: SharedArrayBuffer;
  /** Grows by `pages` 64 KiB pages (atomic across threads); returns the old size in pages; RangeError past the maximum. */
  grow(pages: number): number;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: unknown };
  /** What `new Module` throws for bytes this engine does not accept. */
  CompileError: new (
    ...args: never[]
  ) => Error;
}

/** `globalThis.WebAssembly`, typed. */
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
