/**
 * The search service: owns every open collection under the data dir, creates/opens/deletes them, resolves
 * their encoders, and routes the REST API's operations (src/server) and the CLI's (src/cli) to them.
 *
 * Layout on disk: `<dataDir>/<name>/collection.json` (the user-facing CollectionConfig with a CRC32, written
 * atomically, verified at open: collection-file.ts)
 * and `<dataDir>/<name>/store/` (the storage engine's files, see src/storage/collection-store.ts).
 * A collection directory without collection.json is an interrupted creation and is ignored.
 *
 * Ownership (issue 11.4/11.5): the service holds the OS lock of `<dataDir>/LOCK` from `open()` (or
 * `lockDataDir()`) to `close()`, so one process at a time owns a data dir; each store holds its own directory's
 * lock too. It never removes a directory it does not hold: `PUT` on a directory that is on disk but not loaded
 * opens it or answers CONFLICT (collection-dirs.ts), and a collection that failed to open is deleted only when
 * its store's lock can be taken.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { SpladexError, invalidArgument, notFound } from '../core/errors.js';
import { fsyncDir as fsyncDirOf, writeFileAtomic } from '../core/atomic-file.js';
import { findIllFormed, ILL_FORMED_MESSAGE } from '../core/well-formed.js';
import { TimeSlicer } from '../core/time-slice.js';
import { CollectionConfigSchema, COLLECTION_NAME_RE, type CollectionConfig } from '../config/index-config.js';
import {
  CountRequestSchema,
  DEFAULT_LIMITS,
  deleteRequestSchema,
  optimizeRequestSchema,
  patchRequestSchema,
  type EncodeRequest,
  type Limits,
  type ScrollRequest,
  type SearchBatch,
  type SearchRequest,
} from '../config/request-schemas.js';
import { openCollectionStore } from '../storage/collection-store.js';
import { SearchPool, type SearchPoolStats } from '../segment/search-pool.js';
import type { StoreConfig } from '../storage/store-types.js';
import { Collection, type CollectionInfo, type DocumentView, type SearchOverrides, type SearchResponse } from './collection.js';
import type { ScrollPage } from './document-ops.js';
import { createLexicalBinding, createModelBinding, createVectorsOnlyBinding, type TextBinding } from './text-binding.js';
import { listEncoders, openEncoder } from '../encoders/registry.js';
import type { DenseEncoder, SparseEncoder } from '../encoders/encoder.js';
import { parseOrThrow, safeParseWithMessages, zodToSpladexError } from '../config/zod-errors.js';
import { encodeTexts } from './encode.js';
import { BUILTIN_DENSE_ENCODERS, checkLsaConfig, openDensePart } from './dense-part.js';
import { COLLECTION_FILE, fromCollectionFile, toCollectionFile } from './collection-file.js';
import { acquireDirLock, DirLockedError, type DirLock, type DirLockInfo } from '../storage/lock.js';
import { moveToTrash, readDirOrNull, relativeToDataDir, removeLeftoverTrash, strayContents } from './collection-dirs.js';
import { AliasTable } from './aliases.js';
import type { EngineEvent, EngineObserver } from './engine-events.js';
import { createSnapshot, listSnapshots, restoreSnapshot, type SnapshotInfo } from './snapshots.js';

export interface ServiceOptions {
  dataDir: string;
  encodersDir: string;
  logger: Logger;
  limits?: Partial<Limits>;
  memtableMaxDocs?: number;
  /** Memtable seal threshold by estimated bytes (SPLADEX_MEMTABLE_MAX_BYTES). */
  memtableMaxBytes?: number;
  /** Budget of one LSA fit (SPLADEX_LSA_FIT_TIMEOUT_MS). */
  lsaFitTimeoutMs?: number;
  encoderThreads?: number;
  encoderQueue?: number;
  /**
   * Search worker threads over sealed segments (src/segment/search-pool.ts), shared by every collection; 1 or
   * absent: searches run on the event-loop thread (SPLADEX_SEARCH_THREADS).
   */
  searchThreads?: number;
  /** Queries one search worker may hold before searches answer BUSY (SPLADEX_SEARCH_QUEUE, default 64). */
  searchQueue?: number;
  /** A search worker that does not answer a query in this many ms is replaced (default 30 s). */
  searchTimeoutMs?: number;
  /**
   * Bulk loading (the CLI's `index` into a data dir): seals build exact-only segments and `optimize` builds the
   * approximate index once on the merged segment. A serving process leaves this off.
   */
  bulkLoad?: boolean;
  /** What holds the data dir (`server`, `cli`, …), written into its LOCK file for other processes' messages. */
  role?: string;
  /** Where snapshots go (SPLADEX_SNAPSHOT_DIR); default `<dataDir>/.snapshots`. */
  snapshotDir?: string;
}

export interface CollectionSummary {
  name: string;
  documents: number;
  encoder: string;
  segments: number;
  /** Present when the collection failed to open (e.g. CORRUPT_INDEX naming the file). */
  error?: string;
}

/** Vocabulary bound for growable dictionaries (lexical collections): term ids are dictionary positions. */
const GROWABLE_DIM = 0x7fffffff;
/** Default of SPLADEX_MEMTABLE_MAX_BYTES (env.ts), for services built without the environment. */
const MEMTABLE_MAX_BYTES_DEFAULT = 256 * 1024 * 1024;
const BUILTIN_ENCODERS = new Set(['lexical', 'none']);
/** The fixed bytes of a batch answer around and between its results (`searchBatchJson`). */
const RESULTS_HEAD = Buffer.from('{"results":[');
const RESULTS_COMMA = Buffer.from(',');
const RESULTS_TAIL = Buffer.from(']}');

export class SpladexService {
  readonly limits: Limits;
  private readonly collections = new Map<string, Collection>();
  /** Names being created or deleted, to serialise those operations per name. */
  private readonly pending = new Map<string, Promise<unknown>>();
  /** Open ONNX encoders by name, shared by the collections that use them (opened once, validated at creation). */
  private readonly encoders = new Map<string, Promise<SparseEncoder | DenseEncoder>>();
  /** Collections whose files failed their checks at open, with the error their requests get. */
  private readonly broken = new Map<string, SpladexError>();
  private readonly openedEncoders: (SparseEncoder | DenseEncoder)[] = [];
  private ready = false;
  private closed = false;
  private dataDirLock: DirLock | null = null;
  private readonly observers = new Set<EngineObserver>();
  /** Aliases of this data dir (aliases.ts), loaded by `open()`. */
  private aliases: AliasTable | null = null;
  /** Shared by every collection's store; null for one search thread (workers start on the first search). */
  private readonly searchPool: SearchPool | null;

  constructor(private readonly opts: ServiceOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const threads = opts.searchThreads ?? 1;
    this.searchPool =
      threads > 1 && opts.bulkLoad !== true
        ? new SearchPool({
            threads,
            maxQueuePerThread: opts.searchQueue ?? 64,
            jobTimeoutMs: opts.searchTimeoutMs ?? 30_000,
            logger: opts.logger.child({ component: 'search-pool' }),
          })
        : null;
  }

  /** The search pool's counters (threads, queries in flight, shared segments), or null without a pool. */
  searchPoolStats(): SearchPoolStats | null {
    return this.searchPool?.stats() ?? null;
  }

  /**
   * Takes the data dir's lock (creating the dir when missing); idempotent. Throws DirLockedError (BUSY) naming
   * the dir and the holder when another process, or another service in this one, holds it.
   */
  async lockDataDir(): Promise<void> {
    if (this.dataDirLock !== null) return;
    await fs.mkdir(this.opts.dataDir, { recursive: true });
    try {
      this.dataDirLock = await acquireDirLock(this.opts.dataDir, { role: this.opts.role ?? 'library' });
    } catch (err) {
      if (err instanceof DirLockedError) throw new DirLockedError(err.dir, err.holder, 'data directory');
      throw err;
    }
  }

  /** Adds to what the data dir's LOCK file says about its holder (a server's url, for the CLI's hint). */
  async describeOwner(info: DirLockInfo): Promise<void> {
    await this.dataDirLock?.describe(info);
  }

  /** Takes the data dir's lock, then opens every collection found under the data dir. */
  async open(): Promise<void> {
    await this.lockDataDir();
    this.aliases = await AliasTable.load(this.opts.dataDir);
    const entries = await fs.readdir(this.opts.dataDir, { withFileTypes: true });
    await removeLeftoverTrash(
      this.opts.dataDir,
      entries.map((e) => e.name),
    );
    for (const e of entries) {
      if (!e.isDirectory() || !COLLECTION_NAME_RE.test(e.name)) continue;
      let raw: string;
      try {
        raw = await fs.readFile(path.join(this.collectionDir(e.name), COLLECTION_FILE), 'utf8');
      } catch {
        continue;
      }
      const t0 = performance.now();
      try {
        this.collections.set(e.name, await this.openCollection(e.name, fromCollectionFile(raw, `${e.name}/${COLLECTION_FILE}`)));
        this.opts.logger.info({ collection: e.name, ms: Math.round(performance.now() - t0) }, 'collection opened');
      } catch (err) {
        // One damaged collection must not take the others down: remember why, answer its requests with the
        // error (it names the file), keep serving the rest; GET /v1/collections lists it with the error.
        this.markBroken(e.name, err);
      }
    }
    this.ready = true;
  }

  /** Remembers why `name` failed to open, its message naming files relative to the data dir. */
  private markBroken(name: string, err: unknown): SpladexError {
    const e = err instanceof SpladexError ? err : new SpladexError('INTERNAL', `collection "${name}" failed to open`, { cause: err });
    const error = new SpladexError(e.code, relativeToDataDir(e.message, this.opts.dataDir), {
      cause: err,
      retryAfterSeconds: e.retryAfterSeconds,
    });
    this.broken.set(name, error);
    this.opts.logger.error({ collection: name, err }, 'collection failed to open');
    return error;
  }

  isReady(): boolean {
    return this.ready && !this.closed;
  }

  private collectionDir(name: string): string {
    return path.join(this.opts.dataDir, name);
  }

  private async openCollection(name: string, config: CollectionConfig): Promise<Collection> {
    const model = BUILTIN_ENCODERS.has(config.encoder) ? undefined : await this.sparseEncoder(config.encoder, 'encoder');
    const queryModel =
      model && config.queryEncoder !== undefined && config.queryEncoder !== config.encoder
        ? await this.sparseEncoder(config.queryEncoder, 'queryEncoder')
        : model;
    // Opened before the store, so a missing dense encoder leaves nothing open.
    const denseName = config.dense?.encoder;
    const denseModel =
      denseName !== undefined && !BUILTIN_DENSE_ENCODERS.includes(denseName) ? await this.denseEncoder(denseName) : undefined;
    const storeConfig: StoreConfig = {
      dim: model ? model.dim : config.encoder === 'none' ? (config.dim as number) : GROWABLE_DIM,
      weighting: config.encoder === 'lexical' ? { kind: 'bm25', k1: 0.9, b: 0.4 } : { kind: 'none' },
      growableDictionary: model === undefined,
      build: config.index,
      metadataTypes: config.metadata,
      memtableMaxDocs: this.opts.memtableMaxDocs ?? 50_000,
      memtableMaxBytes: this.opts.memtableMaxBytes ?? MEMTABLE_MAX_BYTES_DEFAULT,
    };
    if (config.dense) storeConfig.denseDim = config.dense.dim;
    const store = await openCollectionStore({
      dir: path.join(this.collectionDir(name), 'store'),
      config: storeConfig,
      logger: this.opts.logger.child({ collection: name }),
      deferApproximate: this.opts.bulkLoad ?? false,
      observer: {
        walSync: (seconds) => this.emit({ kind: 'walSync', collection: name, seconds }),
        seal: (seconds, documents) => this.emit({ kind: 'seal', collection: name, seconds, documents }),
        merge: (seconds, documents) => this.emit({ kind: 'merge', collection: name, seconds, documents }),
      },
      searchPool: this.searchPool,
    });
    let binding: TextBinding;
    if (model && queryModel) binding = createModelBinding(model, queryModel);
    else if (config.encoder === 'lexical') binding = createLexicalBinding(store);
    else binding = createVectorsOnlyBinding(store);
    const logger = this.opts.logger.child({ collection: name });
    const dense = config.dense
      ? await openDensePart({
          config: config.dense,
          store,
          logger,
          modelPath: path.join(this.collectionDir(name), 'lsa.bin'),
          fitTimeoutMs: this.opts.lsaFitTimeoutMs,
          encoder: denseModel,
        })
      : null;
    return new Collection(name, config, store, binding, this.limits, logger, dense);
  }

  /** The collection `name` names: a collection, or the target of an alias (every read and write route). */
  private get(name: string): Collection {
    const own = this.collections.has(name) || this.broken.has(name);
    return this.getOwn(own ? name : (this.aliases?.resolve(name) ?? name));
  }

  /** The collection called `name` itself (aliases are not followed). */
  private getOwn(name: string): Collection {
    const c = this.collections.get(name);
    if (!c) {
      const broken = this.broken.get(name);
      if (broken) throw broken;
      if (!COLLECTION_NAME_RE.test(name)) throw invalidArgument('name', `"${name}" must match ${COLLECTION_NAME_RE.source}`);
      throw notFound(`collection "${name}" not found`);
    }
    return c;
  }

  /** Creates a collection; `created: false` when an identical one exists. CONFLICT when it differs. */
  async createCollection(name: string, body: unknown): Promise<{ created: boolean; collection: CollectionInfo }> {
    if (!COLLECTION_NAME_RE.test(name)) throw invalidArgument('name', `"${name}" must match ${COLLECTION_NAME_RE.source}`);
    const illFormed = findIllFormed(body, '');
    if (illFormed !== null) throw invalidArgument(illFormed || 'body', ILL_FORMED_MESSAGE);
    const parsed = safeParseWithMessages(CollectionConfigSchema, body ?? {});
    if (!parsed.success) throw zodToSpladexError(parsed.error);
    const config = parsed.data;
    if (config.cluster !== undefined) throw invalidArgument('cluster', 'only in cluster mode (SPLADEX_NATS_URL, docs/CLUSTER.md)');
    await this.checkEncoders(config);
    this.checkNotAlias(name);
    return this.serialise(name, async () => {
      const dir = this.collectionDir(name);
      const entries = this.collections.has(name) ? null : await readDirOrNull(dir);
      if (entries === null) this.broken.delete(name);
      // On disk but not loaded (restored from a backup, written by another process, or failed to open before):
      // open it, never replace it.
      if (entries !== null && (entries.includes(COLLECTION_FILE) || this.broken.has(name))) await this.openFromDisk(name);
      const existing = this.collections.get(name);
      if (existing) {
        if (stableJson(existing.config) === stableJson(config)) return { created: false, collection: existing.info() };
        throw new SpladexError('CONFLICT', `collection "${name}" exists with another configuration`);
      }
      // Each open collection holds file descriptors (WAL, lock, segment files); the budget keeps the process
      // clear of EMFILE (see docs of SPLADEX_MAX_COLLECTIONS). Broken ones count: their directories exist.
      if (this.collections.size + this.broken.size >= this.limits.maxCollections) {
        throw new SpladexError(
          'CONFLICT',
          `collections: at most ${this.limits.maxCollections} collections (SPLADEX_MAX_COLLECTIONS); delete one first`,
        );
      }
      const stray = entries === null ? null : await strayContents(dir, entries);
      if (stray !== null) throw strayConflict(name, stray);
      await fs.mkdir(dir, { recursive: true });
      const collection = await this.openCollection(name, config);
      const documents = collection.info().stats.documents;
      if (documents > 0) {
        await collection.close();
        throw strayConflict(name, `its store holds ${documents} documents`);
      }
      await writeFileAtomic(path.join(dir, COLLECTION_FILE), toCollectionFile(config));
      this.checkNotAlias(name);
      this.collections.set(name, collection);
      this.opts.logger.info({ collection: name, encoder: config.encoder }, 'collection created');
      return { created: true, collection: collection.info() };
    });
  }

  /** Opens a collection that is on disk but not loaded; CONFLICT with the reason (remembered) when it fails. */
  private async openFromDisk(name: string): Promise<void> {
    try {
      const raw = await fs.readFile(path.join(this.collectionDir(name), COLLECTION_FILE), 'utf8');
      this.collections.set(name, await this.openCollection(name, fromCollectionFile(raw, `${name}/${COLLECTION_FILE}`)));
      this.broken.delete(name);
      this.opts.logger.info({ collection: name }, 'collection opened');
    } catch (err) {
      const error = this.markBroken(name, err);
      throw new SpladexError(
        'CONFLICT',
        `collection "${name}" exists on disk but failed to open (${error.code}: ${error.message}); it is not replaced`,
      );
    }
  }

  /** Opens (once) and returns a named ONNX encoder; INVALID_ARGUMENT naming `field` for any problem. */
  private acquireEncoder(name: string): Promise<SparseEncoder | DenseEncoder> {
    let p = this.encoders.get(name);
    if (!p) {
      p = openEncoder(this.opts.encodersDir, name, {
        logger: this.opts.logger,
        threads: this.opts.encoderThreads ?? 1,
        queueSize: this.opts.encoderQueue ?? 64,
      });
      this.encoders.set(name, p);
      p.then(
        (enc) => this.openedEncoders.push(enc),
        () => this.encoders.delete(name),
      );
    }
    return p;
  }

  private async sparseEncoder(name: string, field: string): Promise<SparseEncoder> {
    let enc: SparseEncoder | DenseEncoder;
    try {
      enc = await this.acquireEncoder(name);
    } catch (e) {
      if (e instanceof SpladexError) throw invalidArgument(field, e.message);
      throw e;
    }
    if (enc.kind !== 'sparse') throw invalidArgument(field, `encoder "${name}" is a dense encoder, not a sparse one`);
    return enc;
  }

  /** Validates every encoder a config names, opening model directories now so errors come at creation. */
  private async checkEncoders(config: CollectionConfig): Promise<void> {
    if (config.encoder === 'none' && config.dim === undefined) {
      throw invalidArgument('dim', 'required when encoder is "none" (bounds the term ids)');
    }
    if (BUILTIN_ENCODERS.has(config.encoder)) {
      if (config.queryEncoder !== undefined && config.queryEncoder !== config.encoder) {
        throw invalidArgument('queryEncoder', `query encoder "${config.queryEncoder}" cannot be combined with encoder "${config.encoder}"`);
      }
    } else {
      const doc = await this.sparseEncoder(config.encoder, 'encoder');
      if (config.dim !== undefined && config.dim !== doc.dim) {
        throw invalidArgument('dim', `encoder "${config.encoder}" has vocabulary size ${doc.dim}, not ${config.dim}`);
      }
      if (config.queryEncoder !== undefined && config.queryEncoder !== config.encoder) {
        const q = await this.sparseEncoder(config.queryEncoder, 'queryEncoder');
        if (q.dim !== doc.dim) {
          throw invalidArgument(
            'queryEncoder',
            `encoder "${config.queryEncoder}" has vocabulary size ${q.dim}, but "${config.encoder}" has ${doc.dim}`,
          );
        }
      }
    }
    const denseName = config.dense?.encoder;
    if (denseName !== undefined && config.encoder === 'none') {
      throw invalidArgument('dense.encoder', `${denseName} encodes query text, which a collection with encoder "none" does not accept`);
    }
    if (config.dense !== undefined && denseName !== undefined && !BUILTIN_DENSE_ENCODERS.includes(denseName)) {
      const enc = await this.denseEncoder(denseName);
      if (enc.dim !== config.dense.dim) {
        throw invalidArgument('dense.dim', `dense encoder "${denseName}" gives vectors of dimension ${enc.dim}, not ${config.dense.dim}`);
      }
    }
    if (config.dense !== undefined) checkLsaConfig(config.dense);
  }

  /**
   * Opens (once) the ONNX dense encoder `name` (a collection's `dense.encoder`); INVALID_ARGUMENT naming
   * `dense.encoder` when there is no such directory (listing the dense encoders there are), when it is a sparse
   * encoder, or for any problem with its directory.
   */
  private async denseEncoder(name: string): Promise<DenseEncoder> {
    const st = await fs.stat(path.join(this.opts.encodersDir, name)).catch(() => undefined);
    if (st === undefined || !st.isDirectory()) {
      const listed = await listEncoders(this.opts.encodersDir);
      const available = [...BUILTIN_DENSE_ENCODERS, ...listed.filter((e) => e.kind === 'dense').map((e) => e.name)];
      throw invalidArgument('dense.encoder', `unknown dense encoder "${name}" (available: ${available.join(', ')})`);
    }
    let enc: SparseEncoder | DenseEncoder;
    try {
      enc = await this.acquireEncoder(name);
    } catch (e) {
      if (e instanceof SpladexError) throw invalidArgument('dense.encoder', e.message);
      throw e;
    }
    if (enc.kind !== 'dense') throw invalidArgument('dense.encoder', `encoder "${name}" is a sparse encoder, not a dense one`);
    return enc;
  }

  private async serialise<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.pending.get(name) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.pending.set(name, next);
    try {
      return await next;
    } finally {
      if (this.pending.get(name) === next) this.pending.delete(name);
    }
  }

  listCollections(): { collections: CollectionSummary[] } {
    const out: CollectionSummary[] = [];
    for (const c of [...this.collections.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const s = c.info().stats;
      out.push({ name: c.name, documents: s.documents, encoder: c.config.encoder, segments: s.segments });
    }
    for (const [name, err] of this.broken)
      out.push({ name, documents: 0, encoder: 'unknown', segments: 0, error: `${err.code}: ${err.message}` });
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { collections: out };
  }

  /**
   * The open collection itself, for a caller that orchestrates above the service (cluster mode's shard
   * replicas, src/cluster). Throws what every operation on `name` throws (NOT_FOUND, a broken collection's error).
   */
  openCollectionHandle(name: string): Collection {
    return this.get(name);
  }

  getCollection(name: string): CollectionInfo {
    return this.get(name).info();
  }

  /**
   * Deletes a loaded collection, or one that failed to open when its store's lock can be taken (CONFLICT naming
   * the holder otherwise: another process holds it). NOT_FOUND for a directory this service has not seen.
   */
  async deleteCollection(name: string): Promise<void> {
    this.checkNotAlias(name);
    const pointing = this.aliases?.aliasesOf(name) ?? [];
    if (pointing.length > 0) {
      throw new SpladexError(
        'CONFLICT',
        `collection "${name}" is the target of alias(es) ${pointing.map((a) => `"${a}"`).join(', ')}; delete or switch them first`,
      );
    }
    if (this.broken.has(name)) {
      await this.serialise(name, async () => {
        if (!this.broken.has(name)) throw notFound(`collection "${name}" not found`);
        const storeDir = path.join(this.collectionDir(name), 'store');
        let storeLock: DirLock | null = null;
        try {
          if ((await readDirOrNull(storeDir)) !== null) storeLock = await acquireDirLock(storeDir, { role: this.opts.role ?? 'library' });
        } catch (err) {
          if (!(err instanceof DirLockedError)) throw err;
          const why = relativeToDataDir(err.message, this.opts.dataDir);
          throw new SpladexError('CONFLICT', `collection "${name}" is held by another process (${why}); it is not deleted`);
        }
        let trash: string;
        try {
          trash = await moveToTrash(this.opts.dataDir, name);
        } finally {
          await storeLock?.release();
        }
        this.broken.delete(name);
        await fs.rm(trash, { recursive: true, force: true });
        this.opts.logger.info({ collection: name }, 'broken collection deleted');
      });
      return;
    }
    const c = this.getOwn(name);
    await this.serialise(name, async () => {
      this.collections.delete(name);
      await c.close();
      await fs.rm(await moveToTrash(this.opts.dataDir, name), { recursive: true, force: true });
      this.opts.logger.info({ collection: name }, 'collection deleted');
    });
  }

  /**
   * Seals and merges a collection. `body` is optimize's optional request body (`optimizeRequestSchema`: sample
   * `calibrationQueries` for the recall calibration), validated here too since the CLI's local client calls this
   * without the server; undefined or null keeps the plain optimize.
   */
  async optimize(name: string, body?: unknown): Promise<{ segments: number; tookMs: number }> {
    const c = this.get(name);
    const req = body === undefined || body === null ? {} : parseOrThrow(optimizeRequestSchema(this.limits), body);
    return c.optimize(req);
  }

  async upsertDocuments(name: string, docs: unknown[]) {
    if (docs.length > this.limits.maxDocsPerRequest) {
      throw invalidArgument('documents', `at most ${this.limits.maxDocsPerRequest} documents per request`);
    }
    const c = this.get(name);
    const result = await c.upsert(docs);
    if (result.indexed > 0) this.emit({ kind: 'indexed', collection: c.name, documents: result.indexed });
    return result;
  }

  /** Subscribes to engine events (metrics); returns the unsubscribe function. */
  addObserver(observer: EngineObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  private emit(event: EngineEvent): void {
    for (const o of this.observers) {
      try {
        o(event);
      } catch {
        // A metrics subscriber must not break a write.
      }
    }
  }

  getDocument(name: string, id: string, withVector: boolean): DocumentView {
    return this.get(name).get(id, withVector);
  }

  async deleteDocument(name: string, id: string): Promise<void> {
    return this.get(name).delete(id);
  }

  /** `body`: `{filter?}` (CountRequestSchema), validated here for the library door. */
  countDocuments(name: string, body: unknown = {}): { count: number } {
    const c = this.get(name);
    return c.count(parseOrThrow(CountRequestSchema, body ?? {}).filter);
  }

  /** `body`: `{ids}` or `{filter}` (deleteRequestSchema). */
  async deleteDocuments(name: string, body: unknown): Promise<{ deleted: number }> {
    const c = this.get(name);
    return c.deleteMany(parseOrThrow(deleteRequestSchema(this.limits), body));
  }

  /** `body`: the fields to change (patchRequestSchema); returns the stored document. */
  async patchDocument(name: string, id: string, body: unknown): Promise<DocumentView> {
    const c = this.get(name);
    const doc = await c.patch(id, parseOrThrow(patchRequestSchema(this.limits), body));
    this.emit({ kind: 'indexed', collection: c.name, documents: 1 });
    return doc;
  }

  /** One page of documents in id order (API.md "Scroll"). */
  listDocuments(name: string, req: ScrollRequest): ScrollPage {
    return this.get(name).scroll(req);
  }

  async search(name: string, req: SearchRequest): Promise<SearchResponse> {
    return this.get(name).search(req);
  }

  async searchBatch(name: string, reqs: SearchRequest[]): Promise<SearchResponse[]> {
    const out: SearchResponse[] = new Array(reqs.length);
    await this.runBatch(name, reqs, (i, r) => {
      out[i] = r;
    });
    return out;
  }

  /**
   * `searchBatch` as the UTF-8 bytes of its answer's JSON, `{"results": [...]}`, equal to
   * `JSON.stringify({results})`. Each result is serialised and encoded as soon as it is answered, while the
   * batch's other searches are still in the search workers, instead of all at the end with every worker idle (the
   * server's batch route; issue 14: ~14 µs a query of a 256-search batch, measured). Bytes, not one string: the
   * join of 256 results into a string, then its UTF-8 length and encoding for the socket, took ~1 ms between two
   * batches at 2 threads (the gap between one batch's last search and the next batch's first: mean 3.6–4.5 ms with
   * a string, 2.8–2.9 ms with bytes, measured with one client on 200k docs).
   */
  async searchBatchJson(name: string, reqs: SearchBatch): Promise<Buffer> {
    // [head, result 0, ',', result 1, …, tail]: the separators are shared, the results filled in as answered.
    const parts: Buffer[] = new Array(2 * reqs.length + 1);
    parts[0] = RESULTS_HEAD;
    for (let i = 1; i < reqs.length; i++) parts[2 * i] = RESULTS_COMMA;
    parts[2 * reqs.length] = RESULTS_TAIL;
    await this.runBatch(name, reqs, (i, r) => {
      parts[2 * i + 1] = Buffer.from(JSON.stringify(r));
    });
    return Buffer.concat(parts);
  }

  /** Runs the searches of a batch (see the comment inside), handing each answer to `done`. */
  private async runBatch(name: string, reqs: SearchBatch, done: (i: number, r: SearchResponse) => void): Promise<void> {
    const c = this.get(name);
    // With a search pool, `lanes` searches are in flight at once (search-pool.ts `batchLanes`: a number per lane
    // worker, at most half its queue), so a worker always has queries queued while the event loop merges, hydrates
    // or searches one itself (`laneStaysHere`), even when that thread is descheduled. Each lane takes the next
    // search as its own finishes, so a slow one holds no other back; without a pool, one lane: one search at a
    // time, as before. Answers keep the order asked; a failure stops the lanes and the batch fails with the first
    // failing search in that order, as when they ran one by one.
    const pool = this.searchPool;
    const lanes = pool === null ? 1 : pool.batchLanes;
    // The lowest failing index so far (-1: none).
    const failed = { at: -1, err: undefined as unknown };
    let next = 0;
    // 32 text queries of ~1 MB each froze the loop for 24 s: yield between searches once a slice is used.
    const slicer = new TimeSlicer();
    const lane = async (): Promise<void> => {
      while (failed.at < 0 && next < reqs.length) {
        if (slicer.due()) await slicer.yield();
        if (failed.at >= 0 || next >= reqs.length) return;
        const i = next++;
        try {
          // Read when its lane takes it: a lazy batch (server/lazy-batch.ts) parses and validates search i now.
          // A lane search (search-pool.ts `laneStaysHere`): to the lane workers, or on this thread while those hold
          // their share or what is left; never through the idle-loop shortcut, which after a time-slice yield let
          // every worker drain and then held up the merging and serialising of the others.
          const overrides: SearchOverrides = { lane: reqs.length - next };
          done(i, await c.search(reqs.at(i) as SearchRequest, overrides));
        } catch (err) {
          if (failed.at < 0 || i < failed.at) {
            failed.at = i;
            failed.err = err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, reqs.length) }, lane));
    if (failed.at >= 0) throw batchError(failed.err, failed.at);
  }

  async encode(req: EncodeRequest) {
    const collection = req.collection !== undefined ? this.get(req.collection) : undefined;
    if (req.encoder === 'none') throw invalidArgument('encoder', 'encoder "none" does not encode text');
    if (collection && collection.config.encoder !== req.encoder && collection.config.queryEncoder !== req.encoder) {
      throw invalidArgument(
        'collection',
        `collection "${collection.name}" uses encoder "${collection.config.encoder}", not "${req.encoder}"`,
      );
    }
    if (req.encoder === 'lexical') return { vectors: await encodeTexts(req, collection) };
    const enc = await this.sparseEncoder(req.encoder, 'encoder');
    const vectors = await enc.encode(req.texts, req.kind);
    return {
      vectors: vectors.map((v) => {
        const tokens: Record<string, number> = {};
        for (let i = 0; i < v.indices.length; i++) tokens[enc.decode(v.indices[i])] = v.values[i];
        return { indices: Array.from(v.indices), values: Array.from(v.values), tokens };
      }),
    };
  }

  // ---------------------------------------------------------------- snapshots

  private get snapshotDir(): string {
    return this.opts.snapshotDir ?? path.join(this.opts.dataDir, '.snapshots');
  }

  /**
   * Snapshots collection `name` (or an alias's target) while it serves (snapshots.ts): every write acknowledged
   * before the snapshot point is in it, none after. STORAGE_FULL when the snapshot volume fills.
   */
  async createSnapshot(name: string): Promise<SnapshotInfo & { tookMs: number }> {
    const c = this.get(name);
    const t0 = performance.now();
    // One snapshot of a collection at a time (each removes the `.tmp-*` a crashed one left); the key cannot be a
    // collection name, so creates and deletes of the collection are not held up.
    const info = await this.serialise(`\0snapshot:${c.name}`, () =>
      createSnapshot({ snapshotDir: this.snapshotDir, collection: c.name, collectionDir: this.collectionDir(c.name), store: c.store }),
    );
    const tookMs = performance.now() - t0;
    this.opts.logger.info({ collection: c.name, snapshot: info.id, documents: info.documents, ms: Math.round(tookMs) }, 'snapshot written');
    return { ...info, tookMs };
  }

  /** Snapshots of `name` (an alias's target; a deleted collection's snapshots too), oldest first. */
  async listSnapshots(name: string): Promise<{ snapshots: SnapshotInfo[] }> {
    if (!COLLECTION_NAME_RE.test(name)) throw invalidArgument('name', `"${name}" must match ${COLLECTION_NAME_RE.source}`);
    return { snapshots: await listSnapshots(this.snapshotDir, this.aliases?.resolve(name) ?? name) };
  }

  /**
   * Restores snapshot `snapshot` of `name` into a new collection `as`, verifying every file's sha256 first
   * (CORRUPT_INDEX naming a damaged one; nothing is created then). CONFLICT when `as` exists (a collection, an
   * alias or a directory in the data dir); NOT_FOUND for an unknown snapshot.
   */
  async restoreSnapshot(
    name: string,
    req: { snapshot: string; as: string },
  ): Promise<{ name: string; snapshot: string; documents: number; verifiedFiles: number }> {
    if (!COLLECTION_NAME_RE.test(req.as)) throw invalidArgument('as', `"${req.as}" must match ${COLLECTION_NAME_RE.source}`);
    const source = this.aliases?.resolve(name) ?? name;
    this.checkNotAlias(req.as);
    return this.serialise(req.as, async () => {
      const dir = this.collectionDir(req.as);
      if (this.collections.has(req.as) || this.broken.has(req.as) || (await readDirOrNull(dir)) !== null) {
        throw new SpladexError('CONFLICT', `as: collection "${req.as}" exists; restore into a new name`);
      }
      if (this.collections.size + this.broken.size >= this.limits.maxCollections) {
        throw new SpladexError(
          'CONFLICT',
          `collections: at most ${this.limits.maxCollections} collections (SPLADEX_MAX_COLLECTIONS); delete one first`,
        );
      }
      // Built under a `.trash-` name: a crash mid-restore leaves only what the next open removes.
      const tmp = path.join(this.opts.dataDir, `.trash-restore-${req.as}-${process.pid}-${Date.now()}`);
      let m: Awaited<ReturnType<typeof restoreSnapshot>>;
      try {
        m = await restoreSnapshot({ snapshotDir: this.snapshotDir, collection: source, id: req.snapshot, targetDir: tmp });
        this.checkNotAlias(req.as);
        await fs.rename(tmp, dir);
      } catch (err) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw err;
      }
      await fsyncDirOf(this.opts.dataDir);
      await this.openFromDisk(req.as);
      const documents = this.getOwn(req.as).info().stats.documents;
      this.opts.logger.info({ collection: req.as, from: source, snapshot: req.snapshot, documents }, 'snapshot restored');
      return { name: req.as, snapshot: req.snapshot, documents, verifiedFiles: m.files.length };
    });
  }

  // ---------------------------------------------------------------- aliases

  /** CONFLICT when `name` is an alias (a collection may not take an alias's name, nor be deleted through one). */
  private checkNotAlias(name: string): void {
    const target = this.aliases?.resolve(name);
    if (target !== undefined) {
      throw new SpladexError('CONFLICT', `name: "${name}" is an alias of collection "${target}" (DELETE /v1/aliases/${name} first)`);
    }
  }

  private aliasTable(): AliasTable {
    if (this.aliases === null) throw new SpladexError('INTERNAL', 'the service is not open');
    return this.aliases;
  }

  /** Every alias with its collection, by alias name. */
  listAliases(): { aliases: { alias: string; collection: string }[] } {
    return { aliases: this.aliasTable().list() };
  }

  /**
   * Points `alias` at `collection` (creating or switching it atomically, durable when it resolves). INVALID_ARGUMENT
   * for a bad name, CONFLICT when `alias` is a collection's name or `collection` is itself an alias, NOT_FOUND for
   * an unknown collection. Returns the alias, its collection and the collection it pointed to before (or null).
   */
  async putAlias(alias: string, collection: string): Promise<{ alias: string; collection: string; previous: string | null }> {
    if (!COLLECTION_NAME_RE.test(alias)) throw invalidArgument('alias', `"${alias}" must match ${COLLECTION_NAME_RE.source}`);
    if (!COLLECTION_NAME_RE.test(collection))
      throw invalidArgument('collection', `"${collection}" must match ${COLLECTION_NAME_RE.source}`);
    return this.aliasTable().update((next) => {
      if (this.collections.has(alias) || this.broken.has(alias)) {
        throw new SpladexError('CONFLICT', `alias: "${alias}" is the name of a collection; an alias cannot shadow it`);
      }
      if (next.has(collection)) {
        throw new SpladexError('CONFLICT', `collection: "${collection}" is an alias; point an alias at a collection`);
      }
      if (!this.collections.has(collection) && !this.broken.has(collection)) throw notFound(`collection "${collection}" not found`);
      const previous = next.get(alias) ?? null;
      next.set(alias, collection);
      this.opts.logger.info({ alias, collection, previous }, 'alias set');
      return { alias, collection, previous };
    });
  }

  /** Removes `alias` (durable when it resolves); NOT_FOUND when there is no such alias. */
  async deleteAlias(alias: string): Promise<void> {
    await this.aliasTable().update((next) => {
      if (!next.delete(alias)) throw notFound(`alias "${alias}" not found`);
      this.opts.logger.info({ alias }, 'alias deleted');
    });
  }

  metricsSnapshot() {
    return {
      collections: [...this.collections.values()].map((c) => {
        const s = c.info().stats;
        return { name: c.name, documents: s.documents, memtableDocuments: s.memtableDocuments, segments: s.segments };
      }),
      encoderQueueDepth: this.encoderQueueDepth,
    };
  }

  /** Requests waiting for an encoder worker, summed over open encoders (refreshed as encoders resolve). */
  private get encoderQueueDepth(): number {
    let depth = 0;
    for (const enc of this.openedEncoders) depth += (enc as { queueDepth?: number }).queueDepth ?? 0;
    return depth;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.collections.values()) await c.close();
    this.collections.clear();
    await this.searchPool?.close();
    const encoders = await Promise.allSettled([...this.encoders.values()]);
    for (const r of encoders) if (r.status === 'fulfilled') await r.value.close();
    this.encoders.clear();
    await this.dataDirLock?.release();
  }
}

/** Opens a service (taking the data dir's lock); nothing stays open or locked when it throws. */
export async function openSpladexService(opts: ServiceOptions): Promise<SpladexService> {
  const s = new SpladexService(opts);
  try {
    await s.open();
  } catch (err) {
    await s.close();
    throw err;
  }
  return s;
}

/** The error of search `i` of a batch: an INVALID_ARGUMENT names its place (`searches[1].query: …`), as schema errors do. */
function batchError(err: unknown, i: number): unknown {
  if (err instanceof SpladexError && err.code === 'INVALID_ARGUMENT') {
    return new SpladexError('INVALID_ARGUMENT', `searches[${i}].${err.message}`, { cause: err });
  }
  return err;
}

function strayConflict(name: string, why: string): SpladexError {
  return new SpladexError(
    'CONFLICT',
    `a directory "${name}" without ${COLLECTION_FILE} is in the data dir and ${why}; it is not replaced (remove or restore it)`,
  );
}

/** JSON with sorted keys, for comparing configs. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : val,
  );
}
