/**
 * The library entry (`import … from 'spladex'`, package.json "exports" → dist/lib.js + dist/lib.d.ts): the
 * engine embedded in a Node app, at three depths.
 *
 * - `openSpladexService`: collections under a data directory, in-process (what the REST API and the CLI call):
 *   create, upsert text or vectors, search, optimize, close.
 * - `buildApp` (the Fastify app over a service: inject or listen yourself) and `startServer` (environment →
 *   listening server, what `npm start` runs).
 * - `openCollectionStore`: the storage engine alone, over sparse vectors (no text, no encoders, no HTTP).
 *
 * The wrappers here only make the logger optional (a pino logger at `warn` on stdout by default), so a consumer
 * needs no direct pino dependency; everything else is the implementation's own function. Every call throws
 * `SpladexError` with a `code` (`INVALID_ARGUMENT`, `NOT_FOUND`, `CONFLICT`, `BUSY`, `CORRUPT_INDEX`, …).
 * The service's methods trust their argument types: the REST layer validates request bodies with the zod schemas
 * of src/config/request-schemas.ts, exported below for callers that take input from outside.
 * No barrel elsewhere in src/: this file is the package's one public surface (see README "Use as a library").
 */
import { pino, type Logger } from 'pino';
import { IndexBuildConfigSchema } from './config/index-config.js';
import {
  openCollectionStore as openStore,
  type OpenCollectionStoreOptions,
  type SealableCollectionStore,
} from './storage/collection-store.js';
import type { StoreConfig } from './storage/store-types.js';
import { openSpladexService as openService, type ServiceOptions, type SpladexService } from './search/spladex-service.js';

export { SpladexError, isSpladexError, type ErrorCode } from './core/errors.js';
export type { SparseVector } from './core/sparse-vector.js';
export {
  CollectionConfigSchema,
  IndexBuildConfigSchema,
  type CollectionConfig,
  type DenseConfig,
  type IndexBuildConfig,
  type SearchDefaults,
} from './config/index-config.js';
export {
  CountRequestSchema,
  DEFAULT_LIMITS,
  deleteRequestSchema,
  EncodeRequestSchema,
  HighlightSchema,
  patchRequestSchema,
  searchRequestSchema,
  type CountRequest,
  type DeleteRequest,
  type HighlightParams,
  type PatchRequest,
  type ScrollRequest,
  type DocumentInput,
  type EncodeRequest,
  type FilterInput,
  type HybridParams,
  type Limits,
  type PrfParams,
  type SearchRequest,
  type VectorInput,
} from './config/request-schemas.js';
export { loadEnv, type EnvConfig } from './config/env.js';
export type { CollectionInfo, DocError, DocumentView, SearchHit, SearchResponse } from './search/collection.js';
export type { ScrollPage } from './search/document-ops.js';
export type { CollectionSummary, ServiceOptions, SpladexService } from './search/spladex-service.js';
export type {
  CollectionStore,
  ListOptions,
  StoreSnapshot,
  DocWeighting,
  StoreConfig,
  StoreDocument,
  StoreHit,
  StoreSearchOptions,
  StoreSearchResult,
  StoreStats,
} from './storage/store-types.js';
export type { SealableCollectionStore } from './storage/collection-store.js';
export { buildApp, type AppOptions } from './server/app.js';
export type { ServerService } from './server/service-port.js';
export { startServer, StoppedBeforeReady, type RunningServer, type StartOptions } from './server/start-server.js';

function defaultLogger(): Logger {
  return pino({ level: 'warn', base: { service: 'spladex' } });
}

/** Options of `openSpladexService`: the service's own, with `logger` optional. */
export type OpenServiceOptions = Omit<ServiceOptions, 'logger'> & { logger?: Logger };

/**
 * Opens every collection under `dataDir` (created when missing); ONNX encoders are looked up in `encodersDir`.
 * Close it with `close()` (flushes and closes every collection's log). Throws what opening throws, e.g. BUSY when
 * another process holds a collection's lock.
 */
export function openSpladexService(options: OpenServiceOptions): Promise<SpladexService> {
  return openService({ ...options, logger: options.logger ?? defaultLogger() });
}

/** Options of `openCollectionStore`: `logger` optional, and `config.build` defaults to the Seismic defaults. */
export type OpenStoreOptions = Omit<OpenCollectionStoreOptions, 'logger' | 'config'> & {
  logger?: Logger;
  config: Omit<StoreConfig, 'build'> & { build?: StoreConfig['build'] };
};

/**
 * Opens (creating when missing) one collection store in `dir`: the directory lock, the segments (every checksum
 * verified), the WAL replay. Throws BUSY when another live process holds the lock, CORRUPT_INDEX naming the file.
 */
export function openCollectionStore(options: OpenStoreOptions): Promise<SealableCollectionStore> {
  const build = options.config.build ?? IndexBuildConfigSchema.parse({});
  return openStore({ ...options, config: { ...options.config, build }, logger: options.logger ?? defaultLogger() });
}
