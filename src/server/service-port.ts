/**
 * The slice of the search service (src/search/spladex-service.ts) that the HTTP layer calls, as a structural
 * type: the app depends on this shape, not on the class, so the composition root (src/main.ts) passes the real
 * `SpladexService` and the compiler checks it fits. Return values the server only forwards are typed loosely.
 * Every method throws `SpladexError` (INVALID_ARGUMENT, NOT_FOUND, CONFLICT, BUSY, CORRUPT_INDEX, INTERNAL).
 */
import type { EncodeRequest, Limits, ScrollRequest, SearchBatch, SearchRequest } from '../config/request-schemas.js';
import type { EngineObserver } from '../search/engine-events.js';

/** Per-collection numbers that feed the Prometheus gauges. */
export interface ServiceMetricsSnapshot {
  collections: { name: string; documents: number; memtableDocuments: number; segments: number }[];
  encoderQueueDepth: number;
  /** Cluster mode: each shard replica this node hosts, its applied sequence and lag (src/cluster/shard-replica.ts). */
  replicas?: { collection: string; shard: number; applied: number; lag: number; lagMs: number | null }[];
}

/** Per-write options from the query string (`?refresh=wait_for`: answer once every live replica applied it). */
export interface WriteOptions {
  refresh?: 'wait_for';
}

/** What the server needs from the search service. */
export interface ServerService {
  readonly limits: Limits;
  isReady(): boolean;
  createCollection(name: string, body: unknown): Promise<{ created: boolean; collection: unknown }>;
  listCollections(): { collections: unknown[] } | Promise<{ collections: unknown[] }>;
  getCollection(name: string): unknown;
  deleteCollection(name: string): Promise<void>;
  /** `body`: optimize's validated request body (`optimizeRequestSchema`), or undefined when none was sent. */
  optimize(name: string, body?: unknown): Promise<{ segments: number; tookMs: number }>;
  upsertDocuments(
    name: string,
    docs: unknown[],
    options?: WriteOptions,
  ): Promise<{ indexed: number; errors: { index: number; id?: string; code: string; message: string }[] }>;
  getDocument(name: string, id: string, withVector: boolean): unknown;
  deleteDocument(name: string, id: string, options?: WriteOptions): Promise<void>;
  countDocuments(name: string, body?: unknown): { count: number } | Promise<{ count: number }>;
  deleteDocuments(name: string, body: unknown, options?: WriteOptions): Promise<{ deleted: number }>;
  patchDocument(name: string, id: string, body: unknown, options?: WriteOptions): Promise<unknown>;
  listDocuments(
    name: string,
    req: ScrollRequest,
  ): { documents: unknown[]; nextCursor: string | null } | Promise<{ documents: unknown[]; nextCursor: string | null }>;
  search(name: string, req: SearchRequest): Promise<unknown>;
  searchBatch(name: string, reqs: SearchRequest[]): Promise<unknown[]>;
  /**
   * `searchBatch`'s answer as the UTF-8 bytes of its JSON, `{"results": [...]}` (what `JSON.stringify({results})`
   * gives), built while the batch runs; the batch route uses it when the service has it (the single-process service
   * does). `reqs` is read in order, each search once (the route's LazySearchBatch parses a search when it is read).
   */
  searchBatchJson?(name: string, reqs: SearchBatch): Promise<Buffer>;
  encode(req: EncodeRequest): Promise<unknown>;
  createSnapshot(name: string): Promise<{ id: string; tookMs: number }>;
  listSnapshots(name: string): Promise<{ snapshots: unknown[] }>;
  restoreSnapshot(name: string, req: { snapshot: string; as: string }): Promise<unknown>;
  listAliases(): { aliases: { alias: string; collection: string }[] };
  putAlias(alias: string, collection: string): Promise<{ alias: string; collection: string; previous: string | null }>;
  deleteAlias(alias: string): Promise<void>;
  metricsSnapshot(): ServiceMetricsSnapshot;
  /** Subscribes to engine events (documents indexed, WAL syncs, seals, merges); returns the unsubscribe. */
  addObserver(observer: EngineObserver): () => void;
  close(): Promise<void>;
  /** Cluster mode only (src/cluster): members, shard map, replica lag, health for `GET /v1/cluster`. */
  clusterInfo?(): Promise<unknown>;
  /** Cluster mode only: whether every shard has a live replica (`/ready` is 503 otherwise). */
  clusterReady?(): boolean;
}

/**
 * A service `startServer` runs: the server's port plus the lifecycle start-server.ts drives (lock the data dir,
 * say who holds it, open). `SpladexService` is one; cluster mode's node (src/cluster) wraps one.
 */
export interface HostedService extends ServerService {
  lockDataDir(): Promise<void>;
  describeOwner(info: { url: string }): Promise<void>;
  open(): Promise<void>;
}
