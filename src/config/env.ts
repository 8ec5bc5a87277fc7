/**
 * The only reader of `process.env`: parses the `SPLADEX_*` variables into a typed, validated `EnvConfig`.
 * Callers pass `process.env` (or a test's object) in; nothing else in src/ reads the environment.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { SpladexError } from '../core/errors.js';
import { DEFAULT_LIMITS } from './request-schemas.js';

const intFrom = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const EnvSchema = z.object({
  SPLADEX_HOST: z.string().min(1).default('127.0.0.1'),
  SPLADEX_PORT: intFrom(8080).pipe(z.number().max(65535)),
  SPLADEX_DATA_DIR: z.string().min(1).default('./index'),
  SPLADEX_ENCODERS_DIR: z.string().min(1).default('./encoders'),
  SPLADEX_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SPLADEX_API_KEY: z.string().min(1).optional(),
  /** Scoped keys: comma-separated `ro:KEY` (read-only) and `rw:KEY` (read-write) entries (parseApiKeys). */
  SPLADEX_API_KEYS: z.string().optional(),
  /** Comma-separated origins allowed by CORS (`*` = any); unset or empty = CORS off. */
  SPLADEX_CORS_ORIGINS: z.string().optional(),
  /** Where snapshots are written; default `<SPLADEX_DATA_DIR>/.snapshots`. */
  SPLADEX_SNAPSHOT_DIR: z.string().min(1).optional(),
  SPLADEX_MAX_BODY_BYTES: intFrom(32 * 1024 * 1024, 1024),
  SPLADEX_ENCODER_THREADS: intFrom(1, 1),
  SPLADEX_ENCODER_QUEUE: intFrom(64, 1),
  /** Search worker threads over sealed segments: 0 (default) = one per available core, 1 = search on the event loop. */
  SPLADEX_SEARCH_THREADS: intFrom(0, 0),
  /** Queries one search worker may hold before searches answer 503 BUSY. */
  SPLADEX_SEARCH_QUEUE: intFrom(64, 1),
  SPLADEX_REQUEST_TIMEOUT_MS: intFrom(30_000, 100),
  SPLADEX_MEMTABLE_MAX_DOCS: intFrom(50_000, 1),
  /** The memtable also seals at this many estimated bytes (text, metadata, vectors): default 256 MiB. */
  SPLADEX_MEMTABLE_MAX_BYTES: intFrom(256 * 1024 * 1024, 1024 * 1024),
  /** Wall-clock budget of one LSA fit; past it the fit's worker is terminated and the fit logged as cancelled. */
  SPLADEX_LSA_FIT_TIMEOUT_MS: intFrom(120_000, 100),
  /** Requests per window per client IP on /v1/*; 0 = no rate limit (default). */
  SPLADEX_RATE_LIMIT_MAX: intFrom(0),
  SPLADEX_RATE_LIMIT_WINDOW_MS: intFrom(60_000, 1),
  /** Per-document metadata limits (src/search/document-input.ts), checked before any per-key work. */
  SPLADEX_MAX_METADATA_KEYS: intFrom(256, 1),
  SPLADEX_MAX_METADATA_BYTES: intFrom(64 * 1024, 64),
  /** Terms of a query: vector entries, and distinct analyzed terms of query text (400 naming the field past it). */
  SPLADEX_MAX_QUERY_TERMS: intFrom(DEFAULT_LIMITS.maxQueryTerms, 1),
  /** Failed authentications per client IP per window before 429; 0 = off. */
  SPLADEX_AUTH_FAIL_MAX: intFrom(10),
  SPLADEX_AUTH_FAIL_WINDOW_MS: intFrom(60_000, 1),
  /** Comma-separated Host names answered; `*` = any. Default: loopback names when SPLADEX_HOST is loopback, else any. */
  SPLADEX_ALLOWED_HOSTS: z.string().optional(),
  SPLADEX_MAX_COLLECTIONS: intFrom(DEFAULT_LIMITS.maxCollections, 1),
  SPLADEX_MAX_RESPONSE_HITS: intFrom(DEFAULT_LIMITS.maxResponseHits, 1),
  SPLADEX_MAX_RESPONSE_EXPLAIN_TERMS: intFrom(DEFAULT_LIMITS.maxResponseExplainTerms, 0),
  SPLADEX_MAX_RESPONSE_INCLUDED_HITS: intFrom(DEFAULT_LIMITS.maxResponseIncludedHits, 0),
  SPLADEX_MAX_RESULT_WINDOW: intFrom(DEFAULT_LIMITS.maxResultWindow, 1),
  SPLADEX_MAX_CURSORS: intFrom(DEFAULT_LIMITS.maxCursors, 1),
  SPLADEX_CURSOR_TTL_MS: intFrom(DEFAULT_LIMITS.cursorTtlMs, 1000),
  /** Cluster mode (docs/CLUSTER.md): comma-separated NATS server URLs; unset = the single process. */
  SPLADEX_NATS_URL: z.string().optional(),
  /** This node's name in the cluster (a NATS subject token); default: the host name. */
  SPLADEX_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (1-64)')
    .optional(),
  /** The URL other nodes and clients reach this node's HTTP API at; default: the bound address. */
  SPLADEX_ADVERTISE_URL: z.string().url().optional(),
  /** How long a cluster member may be dead before its shard replicas are placed on live members, ms. */
  SPLADEX_REPLACE_AFTER_MS: intFrom(300_000, 1000),
});

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Host names answered by default: loopback names when bound to a loopback address, else any (undefined). */
export function defaultAllowedHosts(host: string, setting: string | undefined): string[] | undefined {
  if (setting !== undefined && setting.trim() !== '') {
    const list = setting
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    return list.includes('*') ? undefined : list;
  }
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return loopback ? [...LOOPBACK_HOSTS, host.includes(':') ? `[${host}]` : host] : undefined;
}

/** One API key and what it may do: `read` (searches and reads) or `write` (everything). */
export interface ApiKey {
  key: string;
  scope: 'read' | 'write';
}

/**
 * Parses `SPLADEX_API_KEYS` (`ro:KEY1,rw:KEY2`; whitespace around entries ignored) plus the single
 * `SPLADEX_API_KEY` (read-write). INVALID_ARGUMENT naming the variable for an entry without `ro:`/`rw:` or with
 * an empty key (the key itself is never echoed).
 */
export function parseApiKeys(keys: string | undefined, single: string | undefined): ApiKey[] {
  const out: ApiKey[] = single === undefined ? [] : [{ key: single, scope: 'write' }];
  if (keys === undefined) return out;
  const entries = keys.split(',').map((e) => e.trim());
  entries.forEach((e, i) => {
    if (e === '') return;
    const m = /^(ro|rw):(.+)$/.exec(e);
    if (m === null) {
      throw new SpladexError('INVALID_ARGUMENT', `SPLADEX_API_KEYS: entry ${i + 1} must be "ro:<key>" or "rw:<key>"`);
    }
    out.push({ key: m[2], scope: m[1] === 'ro' ? 'read' : 'write' });
  });
  return out;
}

/** Comma-separated list → entries (trimmed, empty ones dropped); undefined when nothing is left. */
function listOf(setting: string | undefined): string[] | undefined {
  const list = (setting ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return list.length === 0 ? undefined : list;
}

export interface EnvConfig {
  host: string;
  port: number;
  dataDir: string;
  encodersDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  apiKey: string | undefined;
  /** Every accepted key with its scope (SPLADEX_API_KEY is read-write); empty = no auth. */
  apiKeys: ApiKey[];
  /** Allowed CORS origins (`*` = any); undefined = CORS off. */
  corsOrigins: string[] | undefined;
  snapshotDir: string;
  maxBodyBytes: number;
  encoderThreads: number;
  encoderQueue: number;
  /** Search worker threads (≥ 1; 1 = no pool). */
  searchThreads: number;
  searchQueue: number;
  requestTimeoutMs: number;
  memtableMaxDocs: number;
  memtableMaxBytes: number;
  lsaFitTimeoutMs: number;
  /** Per-IP requests per window on /v1/* (0 = off). */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  maxMetadataKeys: number;
  maxMetadataBytes: number;
  maxQueryTerms: number;
  authFailMax: number;
  authFailWindowMs: number;
  /** Host names answered; undefined = any. */
  allowedHosts: string[] | undefined;
  maxCollections: number;
  maxResponseHits: number;
  maxResponseExplainTerms: number;
  maxResponseIncludedHits: number;
  maxResultWindow: number;
  maxCursors: number;
  cursorTtlMs: number;
  /** Cluster mode settings; null without SPLADEX_NATS_URL. */
  cluster: ClusterEnv | null;
}

export interface ClusterEnv {
  natsUrls: string[];
  /** undefined: the host name. */
  nodeId: string | undefined;
  /** undefined: the bound address. */
  advertiseUrl: string | undefined;
  /** A member dead this long is gone for good: its replicas are placed on live members (docs/CLUSTER.md). */
  replaceAfterMs: number;
}

function clusterEnv(e: z.infer<typeof EnvSchema>): ClusterEnv | null {
  const urls = (e.SPLADEX_NATS_URL ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) return null;
  return { natsUrls: urls, nodeId: e.SPLADEX_NODE_ID, advertiseUrl: e.SPLADEX_ADVERTISE_URL, replaceAfterMs: e.SPLADEX_REPLACE_AFTER_MS };
}

/** Parses environment variables; throws INVALID_ARGUMENT naming the variable on a bad value. */
export function loadEnv(env: Record<string, string | undefined>): EnvConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpladexError('INVALID_ARGUMENT', `${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    host: e.SPLADEX_HOST,
    port: e.SPLADEX_PORT,
    dataDir: e.SPLADEX_DATA_DIR,
    encodersDir: e.SPLADEX_ENCODERS_DIR,
    logLevel: e.SPLADEX_LOG_LEVEL,
    apiKey: e.SPLADEX_API_KEY,
    apiKeys: parseApiKeys(e.SPLADEX_API_KEYS, e.SPLADEX_API_KEY),
    corsOrigins: listOf(e.SPLADEX_CORS_ORIGINS),
    snapshotDir: e.SPLADEX_SNAPSHOT_DIR ?? join(e.SPLADEX_DATA_DIR, '.snapshots'),
    maxBodyBytes: e.SPLADEX_MAX_BODY_BYTES,
    encoderThreads: e.SPLADEX_ENCODER_THREADS,
    encoderQueue: e.SPLADEX_ENCODER_QUEUE,
    searchThreads: e.SPLADEX_SEARCH_THREADS === 0 ? availableParallelism() : e.SPLADEX_SEARCH_THREADS,
    searchQueue: e.SPLADEX_SEARCH_QUEUE,
    requestTimeoutMs: e.SPLADEX_REQUEST_TIMEOUT_MS,
    memtableMaxDocs: e.SPLADEX_MEMTABLE_MAX_DOCS,
    memtableMaxBytes: e.SPLADEX_MEMTABLE_MAX_BYTES,
    lsaFitTimeoutMs: e.SPLADEX_LSA_FIT_TIMEOUT_MS,
    rateLimitMax: e.SPLADEX_RATE_LIMIT_MAX,
    rateLimitWindowMs: e.SPLADEX_RATE_LIMIT_WINDOW_MS,
    maxMetadataKeys: e.SPLADEX_MAX_METADATA_KEYS,
    maxMetadataBytes: e.SPLADEX_MAX_METADATA_BYTES,
    maxQueryTerms: e.SPLADEX_MAX_QUERY_TERMS,
    authFailMax: e.SPLADEX_AUTH_FAIL_MAX,
    authFailWindowMs: e.SPLADEX_AUTH_FAIL_WINDOW_MS,
    allowedHosts: defaultAllowedHosts(e.SPLADEX_HOST, e.SPLADEX_ALLOWED_HOSTS),
    maxCollections: e.SPLADEX_MAX_COLLECTIONS,
    maxResponseHits: e.SPLADEX_MAX_RESPONSE_HITS,
    maxResponseExplainTerms: e.SPLADEX_MAX_RESPONSE_EXPLAIN_TERMS,
    maxResponseIncludedHits: e.SPLADEX_MAX_RESPONSE_INCLUDED_HITS,
    maxResultWindow: e.SPLADEX_MAX_RESULT_WINDOW,
    maxCursors: e.SPLADEX_MAX_CURSORS,
    cursorTtlMs: e.SPLADEX_CURSOR_TTL_MS,
    cluster: clusterEnv(e),
  };
}
