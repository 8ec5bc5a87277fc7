/**
 * The dense part of one collection (config `dense: {dim, metric, encoder?}`), as the collection sees it: exact
 * dense scores of candidates, dense top-k over the live documents (optionally restricted to a filter's ids), and
 * for collections with a dense encoder, query encoding. Two kinds:
 * - `stored`: documents bring their own `dense` arrays; the store keeps them (f32 per doc) and this part mirrors
 *   them in a DenseTable (rebuilt from the store at open, kept in step by the collection's writes).
 * - `model`: an ONNX encoder directory of kind `dense` (src/encoders/registry.ts, run in its worker pool) encodes
 *   each document's title and text when it is written (`prepareUpsert`, before the store's upsert) and the query
 *   text at search time. The vectors are then stored like caller-given ones, so a reopen rebuilds the table from
 *   the store without re-encoding (unlike `lsa`, whose basis changes with each refit). A document that brings its
 *   own `dense` array (pre-encoded, e.g. by scripts/encode-corpus.py) keeps it; one without text gets no dense
 *   vector (sparse search still finds it). The encoder is shared and closed by the service.
 * - `lsa`: dense vectors are derived from text by an LSA model fitted on the collection (src/encoders/lsa).
 *   The model is persisted at `modelPath` (section file kind "lsa": the arrays of `lsaModelToArrays`) and
 *   refitted on `optimize`, and in the background after a write when there is none yet or the collection has
 *   grown past twice the documents it was fitted on — never on a query's path: until a model exists, `pending`
 *   says why and the collection answers with the sparse result and a warning (issue 12.4: a lazy fit on the
 *   first hybrid query took 10 s, and 503 for every search of the collection at rank 8192). Fits run in a worker
 *   thread (lsa-fit-runner.ts), bounded by `fitTimeoutMs` (SPLADEX_LSA_FIT_TIMEOUT_MS): past it the worker is
 *   terminated and the fit logged as cancelled; `close` terminates a running fit. Documents written
 *   meanwhile are projected with the old model and re-projected when the new one is swapped in. Document vectors are recomputed from stored text at open and after
 *   every refit (they are never written to the store: a refit changes the basis).
 * Callers: collection.ts (search, writes, optimize), spladex-service.ts (creation).
 */
import type { Logger } from 'pino';
import { corruptIndex, invalidArgument } from '../core/errors.js';
import type { DenseConfig } from '../config/index-config.js';
import type { CollectionStore, StoreDocument } from '../storage/store-types.js';
import type { DenseEncoder } from '../encoders/encoder.js';
import { readSectionFile, writeSectionFileAtomic } from '../core/section-file.js';
import { LSA_MAX_RANK, lsaModelFromArrays, lsaModelToArrays, projectLsa, type LsaModel } from '../encoders/lsa/lsa-encoder.js';
import { fitAndProjectLsa } from '../encoders/lsa/lsa-fit-runner.js';
import { DenseTable, type DenseHit } from './dense.js';

/** The dense part of one collection; see the file header. */
export interface DensePart {
  readonly kind: 'stored' | 'lsa' | 'model';
  readonly dim: number;
  /** Whether documents may carry `dense` arrays (false when an encoder derives them). */
  readonly acceptsDocumentVectors: boolean;
  /** The dense query for `text`, or null when this part has no encoder or its model is not fitted yet. */
  encodeQuery(text: string): Promise<Float32Array | null>;
  /** Why dense scores are not available yet (a warning for the response), or null when they are. */
  readonly pending: string | null;
  /** Exact similarity of `query` with document `id`, null when it has no dense vector. */
  score(query: Float32Array, id: string): number | null;
  /** Top-k live documents by similarity, restricted to `allowed` when given; sorted, ties by id. */
  topK(query: Float32Array, k: number, allowed: ReadonlySet<string> | null): Promise<DenseHit[]>;
  /**
   * Sets `dense` on documents about to be written whose vectors this part derives at write time (`model`: encodes
   * their text); absent for the other kinds. Rejects with the encoder's errors (BUSY when its queue is full).
   */
  prepareUpsert?(docs: readonly StoreDocument[]): Promise<void>;
  /** Mirrors documents just written to the store (vectors as given, or derived from text). */
  afterUpsert(docs: readonly StoreDocument[]): void;
  afterDelete(ids: readonly string[]): void;
  /** Maintenance after the store's optimize (LSA: refit and reproject; a cancelled fit is logged, not thrown). */
  optimize(): Promise<void>;
  /** Stops background work (LSA: terminates a running fit) and waits for it to settle. */
  close(): Promise<void>;
}

/** How to open a dense part. */
export interface DensePartOptions {
  config: DenseConfig;
  store: CollectionStore;
  logger: Logger;
  /** Where the LSA model lives (lsa only). */
  modelPath?: string;
  /** Threshold for HNSW (default DenseTable's). */
  hnswMinDocs?: number;
  /** Where LSA fits run: a worker thread (default, keeps the event loop free) or inline. */
  fitMode?: 'worker' | 'inline';
  /** Wall-clock budget of one LSA fit in a worker (default LSA_FIT_TIMEOUT_MS_DEFAULT). */
  fitTimeoutMs?: number;
  /** The opened ONNX dense encoder named by `config.encoder` (model kind; its dim equals `config.dim`). */
  encoder?: DenseEncoder;
}

/**
 * The dense encoders a collection can name besides ONNX directories of kind `dense` (which the service opens
 * through the encoder registry and passes as `encoder`).
 */
export const BUILTIN_DENSE_ENCODERS: readonly string[] = ['lsa'];

/** Default of SPLADEX_LSA_FIT_TIMEOUT_MS. */
export const LSA_FIT_TIMEOUT_MS_DEFAULT = 120_000;

/** INVALID_ARGUMENT naming `dense.dim` when an lsa dense part asks for a rank above LSA_MAX_RANK (at creation). */
export function checkLsaConfig(config: DenseConfig): void {
  if (config.encoder === 'lsa' && config.dim > LSA_MAX_RANK) {
    throw invalidArgument('dense.dim', `at most ${LSA_MAX_RANK} with the lsa dense encoder (its rank), got ${config.dim}`);
  }
}

/** Opens the dense part of a collection (reads the store; for lsa, loads or fits the model). */
export async function openDensePart(opts: DensePartOptions): Promise<DensePart> {
  if (opts.config.encoder === 'lsa') {
    const part = new LsaDensePart(opts);
    await part.load();
    part.afterOpen();
    return part;
  }
  if (opts.config.encoder !== undefined && opts.encoder === undefined) {
    throw new Error(`dense encoder "${opts.config.encoder}" was not opened`);
  }
  return createStoredDensePart(opts, opts.encoder);
}

function newTable(opts: DensePartOptions): DenseTable {
  return new DenseTable({ dim: opts.config.dim, metric: opts.config.metric, hnswMinDocs: opts.hnswMinDocs });
}

/** The `stored` part, or the `model` part when `encoder` derives the vectors (see the file header). */
function createStoredDensePart(opts: DensePartOptions, encoder?: DenseEncoder): DensePart {
  const table = newTable(opts);
  for (const id of opts.store.liveIds()) {
    const v = opts.store.getDense(id);
    if (v !== undefined) table.set(id, v);
  }
  const part: DensePart = {
    kind: encoder === undefined ? 'stored' : 'model',
    dim: opts.config.dim,
    // Pre-encoded vectors (scripts/encode-corpus.py) are taken as given; the encoder fills in the others.
    acceptsDocumentVectors: true,
    encodeQuery: async (text) => (encoder === undefined ? null : (await encoder.encode([text], 'query'))[0]),
    pending: null,
    score: (q, id) => table.score(q, id),
    topK: async (q, k, allowed) => table.topK(q, k, allowed),
    afterUpsert(docs) {
      for (const d of docs) {
        if (d.dense !== undefined) table.set(d.id, d.dense);
        else table.delete(d.id);
      }
    },
    afterDelete(ids) {
      for (const id of ids) table.delete(id);
    },
    async optimize() {
      table.compact();
    },
    async close() {},
  };
  if (encoder !== undefined) part.prepareUpsert = (docs) => encodeDocuments(encoder, docs);
  return part;
}

/** Sets `dense` on every document with text and no `dense` yet, from `encoder`'s encoding of its title and text. */
async function encodeDocuments(encoder: DenseEncoder, docs: readonly StoreDocument[]): Promise<void> {
  const withText: StoreDocument[] = [];
  const texts: string[] = [];
  for (const d of docs) {
    const t = docText(d);
    if (t === '' || d.dense !== undefined) continue;
    withText.push(d);
    texts.push(t);
  }
  if (texts.length === 0) return;
  const vs = await encoder.encode(texts, 'document');
  // Copies: a pooled encoder's rows are views of one result buffer per task.
  withText.forEach((d, i) => {
    d.dense = Float32Array.from(vs[i]);
  });
}

class LsaDensePart implements DensePart {
  readonly kind = 'lsa';
  readonly acceptsDocumentVectors = false;
  readonly dim: number;
  private model: LsaModel | null = null;
  private table: DenseTable;
  /** The fit in progress, so concurrent searches wait for one fit instead of starting several. */
  private fitting: Promise<void> | null = null;
  /** Ids written or deleted while a fit runs: re-read from the store when its table is swapped in. */
  private touched: Set<string> | null = null;
  /** Aborted by `close`: terminates a running fit's worker. */
  private readonly abort = new AbortController();

  constructor(private readonly opts: DensePartOptions) {
    this.dim = opts.config.dim;
    this.table = newTable(opts);
  }

  private get path(): string {
    if (this.opts.modelPath === undefined) throw new Error('lsa dense part needs a modelPath');
    return this.opts.modelPath;
  }

  async load(): Promise<void> {
    let file;
    try {
      file = await readSectionFile(this.path, 'lsa');
    } catch (err) {
      // A missing model is normal (new collection); anything else is a damaged file.
      if (/file is missing/.test(String((err as Error).message))) return;
      throw err;
    }
    try {
      this.model = lsaModelFromArrays((name) => {
        const s = file.sections.get(name);
        if (s === undefined) throw new Error(`missing section ${name}`);
        return s;
      });
    } catch (err) {
      throw corruptIndex(this.path, (err as Error).message);
    }
    if (this.model.dim !== this.dim) throw corruptIndex(this.path, `model dim ${this.model.dim}, collection dense dim ${this.dim}`);
    this.reproject();
  }

  /** A collection opened with documents but no model (new, or its last fit was cancelled): fit in the background. */
  afterOpen(): void {
    this.scheduleFit();
  }

  get pending(): string | null {
    if (this.model !== null) return null;
    return 'the lsa dense model is not fitted yet (it is fitted in the background after writes, and by optimize): dense scores skipped, sparse results only';
  }

  /** Texts of every live document, for fitting and projection. */
  private liveTexts(): { ids: string[]; texts: string[] } {
    const ids: string[] = [];
    const texts: string[] = [];
    for (const id of this.opts.store.liveIds()) {
      // Stored text only: `get` would also copy every vector on the event loop.
      const d = this.opts.store.getFields(id, { title: true, text: true, metadata: false });
      if (d === undefined) continue;
      ids.push(id);
      texts.push(docText(d));
    }
    return { ids, texts };
  }

  private reproject(): void {
    const model = this.model;
    this.table = newTable(this.opts);
    if (model === null) return;
    const { ids, texts } = this.liveTexts();
    const vs = projectLsa(model, texts);
    ids.forEach((id, i) => this.table.set(id, vs[i]));
  }

  private refit(): Promise<void> {
    if (this.fitting === null) {
      this.fitting = this.fitNow().finally(() => {
        this.fitting = null;
      });
    }
    return this.fitting;
  }

  private async fitNow(): Promise<void> {
    const t0 = performance.now();
    const { ids, texts } = this.liveTexts();
    this.opts.logger.info({ path: this.path, docs: ids.length, rank: this.dim }, 'lsa fit started');
    const touched = new Set<string>();
    this.touched = touched;
    let fit;
    try {
      const timeoutMs = this.opts.fitTimeoutMs ?? LSA_FIT_TIMEOUT_MS_DEFAULT;
      fit = await fitAndProjectLsa(texts, { dim: this.dim, seed: 42 }, this.opts.fitMode, { timeoutMs, signal: this.abort.signal });
    } finally {
      this.touched = null;
    }
    const { model, vectors } = fit;
    const table = newTable(this.opts);
    ids.forEach((id, i) => table.set(id, vectors.subarray(i * this.dim, (i + 1) * this.dim)));
    // Writes that landed while the worker fitted: project them with the new model (or drop deleted ones).
    for (const id of touched) {
      const d = this.opts.store.get(id);
      if (d === undefined) table.delete(id);
      else table.set(id, projectLsa(model, [docText(d)])[0]);
    }
    this.model = model;
    this.table = table;
    await writeSectionFileAtomic(this.path, 'lsa', lsaModelToArrays(model));
    this.opts.logger.info(
      { docs: ids.length, terms: model.terms.length, rank: model.rank, ms: Math.round(performance.now() - t0) },
      'lsa model fitted',
    );
  }

  /**
   * Starts a background fit when there is no model yet (and documents exist) or the collection outgrew the fit.
   * Nothing waits for it; a failure or cancellation is logged, and the next write tries again.
   */
  private scheduleFit(): void {
    if (this.fitting !== null || this.abort.signal.aborted) return;
    const live = this.opts.store.stats().documents;
    if (live === 0) return;
    if (this.model !== null && live <= 2 * this.model.numDocs + 100) return;
    this.refit().catch((err: unknown) => this.logFitFailure(err));
  }

  private logFitFailure(err: unknown): void {
    if (this.abort.signal.aborted) return;
    this.opts.logger.warn({ err, path: this.path }, 'lsa fit failed or was cancelled; dense scores use the previous model, if any');
  }

  async encodeQuery(text: string): Promise<Float32Array | null> {
    if (this.model === null) return null;
    return projectLsa(this.model, [text])[0];
  }

  score(query: Float32Array, id: string): number | null {
    return this.table.score(query, id);
  }

  async topK(query: Float32Array, k: number, allowed: ReadonlySet<string> | null): Promise<DenseHit[]> {
    return this.table.topK(query, k, allowed);
  }

  afterUpsert(docs: readonly StoreDocument[]): void {
    if (this.touched !== null) for (const d of docs) this.touched.add(d.id);
    if (this.model !== null) {
      const vs = projectLsa(this.model, docs.map(docText));
      docs.forEach((d, i) => this.table.set(d.id, vs[i]));
    }
    this.scheduleFit();
  }

  afterDelete(ids: readonly string[]): void {
    if (this.touched !== null) for (const id of ids) this.touched.add(id);
    for (const id of ids) this.table.delete(id);
  }

  async optimize(): Promise<void> {
    if (this.opts.store.stats().documents === 0 || this.abort.signal.aborted) return;
    // A background fit started before this optimize covers fewer docs: wait for it, then fit on everything.
    await this.fitting?.catch(() => undefined);
    await this.refit().catch((err: unknown) => this.logFitFailure(err));
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.fitting?.catch(() => undefined);
  }
}

function docText(d: { title?: string; text?: string }): string {
  if (d.title && d.text) return `${d.title} ${d.text}`;
  return d.title || d.text || '';
}
