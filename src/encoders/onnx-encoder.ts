/**
 * Main-thread encoder objects (the `SparseEncoder` / `DenseEncoder` contract of src/encoders/encoder.ts):
 * - pooled encoders send texts to a WorkerPool of encode workers (ONNX kinds `splade`, `echo`, `dense`);
 * - the in-process encoder runs a pipeline on the calling thread (the inference-free `idf` kind, whose work is a
 *   tokenisation and a table lookup);
 * - `withQueryEncoder` routes `encode(…, 'query')` to another encoder (manifest `queryEncoder`).
 * Built by the registry (src/encoders/registry.ts); callers never construct them directly.
 *
 * A request is split into tasks of at most `taskTexts` texts (fewer when that leaves a worker idle) after sorting by
 * character length, so tasks hold texts of similar length (less padding) and several workers share a request;
 * results come back in input order.
 */
import { SpladexError } from '../core/errors.js';
import type { SparseVector } from '../core/sparse-vector.js';
import type { DenseEncoder, EncodeKind, SparseEncoder } from './encoder.js';
import type { EncodeTask } from './encode-worker.js';
import type { EncoderManifest } from './manifest.js';
import { unpackSparse, type EncodePipeline, type PackedDense, type PackedResult, type PackedSparse } from './pipeline.js';
import type { TextTokenizer } from './tokenizer.js';
import type { WorkerPool } from './worker-pool.js';

/** Splits texts into length-sorted task groups; returns the groups and their original positions. */
function splitTasks(texts: readonly string[], taskTexts: number): { tasks: EncodeTask['texts'][]; positions: number[][] } {
  const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length || a - b);
  const tasks: string[][] = [];
  const positions: number[][] = [];
  for (let s = 0; s < order.length; s += taskTexts) {
    const pos = order.slice(s, s + taskTexts);
    positions.push(pos);
    tasks.push(pos.map((i) => texts[i]));
  }
  return { tasks, positions };
}

/** Texts per task: at most `taskTexts`, and small requests are still spread over every worker. */
function taskSize(nTexts: number, taskTexts: number, workers: number): number {
  return Math.max(1, Math.min(taskTexts, Math.ceil(nTexts / workers)));
}

function checkKind(as: EncodeKind): void {
  if (as !== 'query' && as !== 'document')
    throw new SpladexError('INVALID_ARGUMENT', `encode kind must be "query" or "document", got "${String(as)}"`);
}

function decodeWith(tok: TextTokenizer, termId: number): string {
  return tok.idToToken(termId) ?? `[${termId}]`;
}

function lookupWith(tok: TextTokenizer, dim: number, token: string): number | undefined {
  const id = tok.tokenToId(token);
  return id !== undefined && id < dim ? id : undefined;
}

/** The first `n` rows of a packed dense result, as views (no copy). */
function denseRows(d: PackedDense, n: number): Float32Array[] {
  const rows: Float32Array[] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = d.data.subarray(i * d.dim, (i + 1) * d.dim);
  return rows;
}

/**
 * Splits `texts` into tasks, submits them to `pool` and puts each task's unpacked rows back in input order.
 * Admission happens during this call: a full queue (or a bad `as`) gives an already rejected promise, never a throw.
 * `unpack(result, n)` returns the task's `n` rows in task order.
 */
function encodePooled<T>(
  pool: WorkerPool,
  taskTexts: number,
  texts: readonly string[],
  as: EncodeKind,
  unpack: (result: PackedResult, n: number) => T[],
): Promise<T[]> {
  let pending: Promise<PackedResult[]>;
  let positions: number[][];
  try {
    checkKind(as);
    const split = splitTasks(texts, taskSize(texts.length, taskTexts, pool.size));
    positions = split.positions;
    pending = pool.submit<PackedResult>(split.tasks.map((t) => ({ texts: t, as }) satisfies EncodeTask));
  } catch (e) {
    return Promise.reject(e);
  }
  return pending.then((results) => {
    const out: T[] = new Array(texts.length);
    results.forEach((r, k) => {
      const rows = unpack(r, positions[k].length);
      positions[k].forEach((pos, j) => (out[pos] = rows[j]));
    });
    return out;
  });
}

/** Sparse encoder whose inference runs in a worker pool. */
export class PooledSparseEncoder implements SparseEncoder {
  readonly kind = 'sparse' as const;
  readonly dim: number;

  constructor(
    readonly name: string,
    private readonly manifest: EncoderManifest,
    private readonly tokenizer: TextTokenizer,
    private readonly pool: WorkerPool,
  ) {
    this.dim = manifest.dim;
  }

  /**
   * Encodes in the worker pool. Admission happens during this call (not later): when the pool's queue is full the
   * returned promise is already rejected with BUSY (`retryAfterSeconds` set).
   */
  encode(texts: readonly string[], as: EncodeKind): Promise<SparseVector[]> {
    return encodePooled(this.pool, this.manifest.taskTexts, texts, as, (r) => unpackSparse(r as PackedSparse));
  }

  decode(termId: number): string {
    return decodeWith(this.tokenizer, termId);
  }

  lookup(token: string): number | undefined {
    return lookupWith(this.tokenizer, this.dim, token);
  }

  /** Jobs waiting for a worker (for metrics). */
  get queueDepth(): number {
    return this.pool.queueDepth;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Dense encoder whose inference runs in a worker pool. */
export class PooledDenseEncoder implements DenseEncoder {
  readonly kind = 'dense' as const;
  readonly dim: number;

  constructor(
    readonly name: string,
    private readonly manifest: EncoderManifest,
    private readonly pool: WorkerPool,
  ) {
    this.dim = manifest.dim;
  }

  /** Encodes in the worker pool; rejects with BUSY at once when the queue is full (see PooledSparseEncoder). */
  encode(texts: readonly string[], as: EncodeKind): Promise<Float32Array[]> {
    return encodePooled(this.pool, this.manifest.taskTexts, texts, as, (r, n) => denseRows(r as PackedDense, n));
  }

  get queueDepth(): number {
    return this.pool.queueDepth;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Sparse encoder running its pipeline on the calling thread: kind `idf` (tokenise + look up), or any kind when the
 * registry is asked for `threads: 0` (CLI batch jobs, tests). ONNX inference then blocks the calling thread.
 */
export class InProcessSparseEncoder implements SparseEncoder {
  readonly kind = 'sparse' as const;
  readonly dim: number;

  constructor(
    readonly name: string,
    private readonly pipeline: EncodePipeline,
  ) {
    this.dim = pipeline.manifest.dim;
  }

  async encode(texts: readonly string[], as: EncodeKind): Promise<SparseVector[]> {
    checkKind(as);
    return unpackSparse((await this.pipeline.encode(texts, as)) as PackedSparse);
  }

  decode(termId: number): string {
    return decodeWith(this.pipeline.tokenizer, termId);
  }

  lookup(token: string): number | undefined {
    return lookupWith(this.pipeline.tokenizer, this.dim, token);
  }

  close(): Promise<void> {
    return this.pipeline.close();
  }
}

/** Dense encoder running its pipeline on the calling thread (registry `threads: 0`). */
export class InProcessDenseEncoder implements DenseEncoder {
  readonly kind = 'dense' as const;
  readonly dim: number;

  constructor(
    readonly name: string,
    private readonly pipeline: EncodePipeline,
  ) {
    this.dim = pipeline.manifest.dim;
  }

  async encode(texts: readonly string[], as: EncodeKind): Promise<Float32Array[]> {
    checkKind(as);
    return denseRows((await this.pipeline.encode(texts, as)) as PackedDense, texts.length);
  }

  close(): Promise<void> {
    return this.pipeline.close();
  }
}

/** Routes queries to `queryEncoder` and documents to `docEncoder`; decode/lookup use the document side. */
export function withQueryEncoder(docEncoder: SparseEncoder, queryEncoder: SparseEncoder): SparseEncoder {
  return {
    kind: 'sparse',
    name: docEncoder.name,
    dim: docEncoder.dim,
    encode: (texts, as) => (as === 'query' ? queryEncoder.encode(texts, as) : docEncoder.encode(texts, as)),
    decode: (id) => docEncoder.decode(id),
    lookup: (token) => docEncoder.lookup(token),
    close: async () => {
      await Promise.all([docEncoder.close(), queryEncoder.close()]);
    },
  };
}
