/**
 * What travels over NATS between cluster nodes, as JSON: the operations of a shard's stream (`ShardOp`), the
 * shard requests of the fan-out (`ShardRequest`) and their answer envelope (`{ok, value}` or `{ok: false, code,
 * message}`, so a shard's SpladexError reaches the coordinating node with its code), and the names derived from a
 * collection (stream, subjects, local collection). Used by cluster-node.ts, shard-replica.ts, fan-out.ts.
 */
import { isErrorCode, SpladexError } from '../core/errors.js';
import type { ScrollRequest, SearchRequest } from '../config/request-schemas.js';

/** One message of a shard's stream: documents to upsert (validated at the accepting node), ids to delete, a patch. */
export type ShardOp =
  | { op: 'upsert'; docs: unknown[] }
  | { op: 'delete'; ids: string[] }
  /** A partial update (PATCH), merged by each replica at its place in the log. */
  | { op: 'patch'; id: string; patch: unknown };

/** Collection-wide lexical statistics for a `dfs` search (sums over every shard). */
export interface GlobalStats {
  numDocs: number;
  avgdl: number;
  /** Document frequency per analyzed query term. */
  df: Record<string, number>;
}

/**
 * A sparse query fixed by the coordinator instead of the shard's own encoding (the expanded query of PRF through
 * the fan-out): `vector` in the collection's term ids (ids are the same on every shard: encoder "none" and model
 * vocabularies), or `terms` for lexical collections, whose dictionaries (hence ids) are per shard.
 */
export interface QueryOverride {
  vector?: PlainVector;
  terms?: TermVector;
}

/** A lexical sparse vector keyed by analyzed term (the same on every shard), weights as the shard's ids would carry. */
export interface TermVector {
  terms: string[];
  values: number[];
}

/** The parts of a search request every shard-side search step takes: the request, dfs statistics, an override. */
export interface ShardSearchParts {
  collection: string;
  shard: number;
  req: SearchRequest;
  stats?: GlobalStats;
  override?: QueryOverride;
  /** `searchAfter` through the fan-out (cluster-paging.ts): only hits ranking after (score, id). */
  after?: { score: number; id: string };
}

/** Requests a node answers for the shard replicas it hosts (subject `spladex.rpc.<node>`). */
export type ShardRequest =
  | ({ op: 'search' } & ShardSearchParts)
  | ({ op: 'prfFeedback'; k: number; docs: number } & ShardSearchParts)
  | ({ op: 'hybrid' } & ShardSearchParts)
  | ({ op: 'hydrate'; hits: { id: string; sparse: number }[] } & ShardSearchParts)
  | { op: 'termDf'; collection: string; shard: number; terms: string[] }
  | { op: 'scroll'; collection: string; shard: number; req: ScrollRequest; after: string | null }
  | { op: 'termStats'; collection: string; shard: number; query: string }
  | { op: 'get'; collection: string; shard: number; id: string; withVector: boolean }
  | { op: 'info'; collection: string; shard: number }
  /** With `getId`: also that document as this replica holds it once `seq` is applied (PATCH's answer). */
  | { op: 'waitApplied'; collection: string; shard: number; seq: number; timeoutMs: number; getId?: string }
  | { op: 'optimize'; collection: string; shard: number; body?: unknown }
  | { op: 'count'; collection: string; shard: number; filter?: unknown }
  | { op: 'liveIds'; collection: string; shard: number; ids?: string[]; filter?: unknown };

/** A sparse vector as JSON. */
export interface PlainVector {
  indices: number[];
  values: number[];
}

/** A first-round hit of PRF with its weighted vector (ids, or terms for lexical collections). */
export interface FeedbackHit {
  id: string;
  score: number;
  vector: PlainVector | TermVector;
}

/**
 * The answer to `prfFeedback`: the query vector as the shard resolves it (null: the request has none) and the
 * shard's best `docs` hits of the first round, searched with k = max(k, docs) as one process does.
 */
export interface PrfFeedback {
  query: PlainVector | TermVector | null;
  hits: FeedbackHit[];
}

/**
 * One hybrid candidate of a shard (hybrid-fan-out.ts): `sparse` and `dense` when it is in the shard's sparse top
 * (the store's score, and the dense similarity), `dot` and `denseTop` when it is in the shard's dense top (the
 * sparse score computed from the stored vector, and the dense top-k's similarity): the numbers one process uses
 * for it, whichever top it reaches collection-wide.
 */
export interface HybridCandidate {
  id: string;
  sparse?: number;
  dense?: number | null;
  dot?: number;
  denseTop?: number;
}

/** The answer to `hybrid`: candidates, the sparse part's work counters, whether the request had a sparse query. */
export interface HybridCandidates {
  candidates: HybridCandidate[];
  hasSparse: boolean;
  work: { docsScored: number; blocksScored: number; blocksSkipped: number; exact: boolean };
  warnings: string[];
}

/** Per-shard lexical statistics of the `termStats` request. */
export interface ShardTermStats {
  numDocs: number;
  sumDl: number;
  df: Record<string, number>;
}

const enc = new TextEncoder();

export function toBytes(v: unknown): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

export function fromBytes<T>(b: Uint8Array): T {
  return JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')) as T;
}

/** The answer envelope of a shard request. */
export function okReply(value: unknown): Uint8Array {
  return toBytes({ ok: true, value });
}

export function errorReply(err: unknown): Uint8Array {
  if (err instanceof SpladexError) return toBytes({ ok: false, code: err.code, message: err.message });
  return toBytes({ ok: false, code: 'INTERNAL', message: 'shard request failed' });
}

/** The value of an answer, or its error rethrown as a SpladexError with the shard's code. */
export function unwrapReply<T>(b: Uint8Array): T {
  const r = fromBytes<{ ok: boolean; value?: T; code?: string; message?: string }>(b);
  if (r.ok) return r.value as T;
  throw new SpladexError(isErrorCode(r.code) ? r.code : 'INTERNAL', r.message ?? 'shard request failed');
}

/** The JetStream stream of a collection (one per collection; a subject per shard). */
export function streamName(collection: string): string {
  return `SPLADEX_${collection}`;
}

export function shardSubject(collection: string, shard: number): string {
  return `spladex.docs.${collection}.${shard}`;
}

/** The local collection that holds a shard replica on a node. */
export function localName(collection: string, shard: number): string {
  return `${collection}_s${shard}`;
}

export function rpcSubject(node: string): string {
  return `spladex.rpc.${node}`;
}
