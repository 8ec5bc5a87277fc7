/**
 * One interface over the two ways the CLI reaches an index: in-process through a SpladexService opened on a data
 * dir (the storage layer locks each collection, so a running server on the same dir makes this fail with BUSY),
 * or over HTTP to a running server (`--url`, API.md). Errors come back as SpladexError either way, so commands
 * handle them once. Callers: the CLI commands, the bulk indexer, the BEIR runner (local only).
 */
import { isErrorCode, SpladexError, type ErrorCode } from '../core/errors.js';
import type { EncodeRequest, ScrollRequest, SearchRequest } from '../config/request-schemas.js';
import type { EncodedVector } from '../search/encode.js';
import type { CollectionInfo, SearchResponse } from '../search/collection.js';
import type { SpladexService } from '../search/spladex-service.js';
import type { SnapshotInfo } from '../search/snapshots.js';

/** Result of a document batch: per-document errors refer to positions in the batch. */
export interface UpsertResult {
  indexed: number;
  errors: { index: number; id?: string; code: string; message: string }[];
}

/** What the CLI needs from a spladex index, local or remote. */
export interface SpladexClient {
  /** Collection info, or undefined when it does not exist. */
  findCollection(name: string): Promise<CollectionInfo | undefined>;
  createCollection(name: string, config: Record<string, unknown>): Promise<{ created: boolean }>;
  upsert(name: string, docs: unknown[]): Promise<UpsertResult>;
  search(name: string, req: SearchRequest): Promise<SearchResponse>;
  /** `body`: optimize's request body (API.md; `{calibrationQueries}`), validated by the service or server. */
  optimize(name: string, body?: { calibrationQueries: unknown[] }): Promise<{ segments: number; tookMs: number }>;
  encode(req: EncodeRequest): Promise<{ vectors: EncodedVector[] }>;
  /** Snapshots a collection (API.md "Snapshots"). */
  snapshot(name: string): Promise<SnapshotInfo>;
  listSnapshots(name: string): Promise<{ snapshots: SnapshotInfo[] }>;
  /** Restores snapshot `req.snapshot` of `name` into the new collection `req.as`, verifying every checksum. */
  restore(name: string, req: { snapshot: string; as: string }): Promise<RestoreResult>;
  /** One page of documents in id order (API.md "Scroll"): `GET …/documents` or the service's `listDocuments`. */
  listDocuments(name: string, req: ScrollRequest): Promise<{ documents: Record<string, unknown>[]; nextCursor: string | null }>;
  close(): Promise<void>;
}

/** What a restore answers. */
export interface RestoreResult {
  name: string;
  snapshot: string;
  documents: number;
  verifiedFiles: number;
}

/** Client over an open service. `close` closes the service (flushes logs, releases locks). */
export function createLocalClient(service: SpladexService): SpladexClient {
  return {
    async findCollection(name) {
      try {
        return service.getCollection(name);
      } catch (e) {
        if (e instanceof SpladexError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      }
    },
    async createCollection(name, config) {
      const r = await service.createCollection(name, config);
      return { created: r.created };
    },
    upsert: (name, docs) => service.upsertDocuments(name, docs),
    search: (name, req) => service.search(name, req),
    optimize: (name, body) => service.optimize(name, body),
    encode: (req) => service.encode(req),
    snapshot: (name) => service.createSnapshot(name),
    listSnapshots: (name) => service.listSnapshots(name),
    restore: (name, req) => service.restoreSnapshot(name, req),
    listDocuments: async (name, req) => service.listDocuments(name, req),
    close: () => service.close(),
  };
}

/** Options of the HTTP client. */
export interface HttpClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080`. */
  url: string;
  apiKey?: string;
  /** Retries of a request answered 503 BUSY, waiting Retry-After seconds (default 5). */
  busyRetries?: number;
}

/** Client speaking the REST API with fetch. Connection failures become INTERNAL errors naming the URL. */
export function createHttpClient(opts: HttpClientOptions): SpladexClient {
  const base = opts.url.replace(/\/+$/, '');
  const retries = opts.busyRetries ?? 5;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> => {
    const headers: Record<string, string> = {};
    // A POST without a content type is refused (415), bodyless ones included.
    if (body !== undefined || method === 'POST') headers['content-type'] = 'application/json';
    if (opts.apiKey !== undefined) headers.authorization = `Bearer ${opts.apiKey}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
        throw new SpladexError('INTERNAL', `cannot reach ${base}: ${cause}`, { cause: e });
      }
      const text = await res.text();
      if (res.ok) return { status: res.status, data: (text === '' ? undefined : JSON.parse(text)) as T };
      let code: ErrorCode = 'INTERNAL';
      let message = `${method} ${path}: HTTP ${res.status}`;
      try {
        const err = JSON.parse(text) as { code?: string; message?: string };
        if (isErrorCode(err.code)) code = err.code;
        if (err.message !== undefined) message = err.message;
      } catch {
        // not JSON: keep the status line
      }
      const retryAfter = Number(res.headers.get('retry-after') ?? '1');
      if (res.status === 503 && attempt < retries) {
        // Back-off on an overloaded server, not synchronisation: the server asked us to wait.
        await new Promise((r) => setTimeout(r, Math.max(0.1, Number.isFinite(retryAfter) ? retryAfter : 1) * 1000));
        continue;
      }
      throw new SpladexError(code, message, code === 'BUSY' ? { retryAfterSeconds: retryAfter } : {});
    }
  };
  const coll = (name: string) => `/v1/collections/${encodeURIComponent(name)}`;
  return {
    async findCollection(name) {
      try {
        return (await call<CollectionInfo>('GET', coll(name))).data;
      } catch (e) {
        if (e instanceof SpladexError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      }
    },
    async createCollection(name, config) {
      const r = await call<unknown>('PUT', coll(name), config);
      return { created: r.status === 201 };
    },
    async upsert(name, docs) {
      return (await call<UpsertResult>('POST', `${coll(name)}/documents`, { documents: docs })).data;
    },
    async search(name, req) {
      return (await call<SearchResponse>('POST', `${coll(name)}/search`, req)).data;
    },
    async optimize(name, body) {
      return (await call<{ segments: number; tookMs: number }>('POST', `${coll(name)}/optimize`, body)).data;
    },
    async encode(req) {
      return (await call<{ vectors: EncodedVector[] }>('POST', '/v1/encode', req)).data;
    },
    async snapshot(name) {
      return (await call<SnapshotInfo>('POST', `${coll(name)}/snapshots`)).data;
    },
    async listSnapshots(name) {
      return (await call<{ snapshots: SnapshotInfo[] }>('GET', `${coll(name)}/snapshots`)).data;
    },
    async restore(name, req) {
      return (await call<RestoreResult>('POST', `${coll(name)}/restore`, req)).data;
    },
    async listDocuments(name, req) {
      const q = new URLSearchParams();
      if (req.limit !== undefined) q.set('limit', String(req.limit));
      if (req.cursor !== undefined) q.set('cursor', req.cursor);
      if (req.include !== undefined) q.set('include', req.include.join(','));
      if (req.vector !== undefined) q.set('vector', String(req.vector));
      if (req.filter !== undefined) q.set('filter', JSON.stringify(req.filter));
      if (req.format !== undefined) q.set('format', req.format);
      const qs = q.toString();
      return (
        await call<{ documents: Record<string, unknown>[]; nextCursor: string | null }>(
          'GET',
          `${coll(name)}/documents${qs === '' ? '' : `?${qs}`}`,
        )
      ).data;
    },
    async close() {},
  };
}
