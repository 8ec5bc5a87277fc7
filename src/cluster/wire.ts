/**
 * What travels over NATS between cluster nodes, as JSON: the operations of a shard's stream (`ShardOp`), the
 * shard requests of the fan-out (`ShardRequest`) and their answer envelope (`{ok, value}` or `{ok: false, code,
 * message}`, so a shard's SpladexError reaches the coordinating node with its code), and the names derived from a
 * collection (stream, subjects, local collection). Used by cluster-node.ts, shard-replica.ts, fan-out.ts.
 */
import { isErrorCode, SpladexError } from '../core/errors.js';
import type { SearchRequest } from '../config/request-schemas.js';

/** One message of a shard's stream: documents to upsert (validated at the accepting node) or ids to delete. */
export type ShardOp = { op: 'upsert'; docs: unknown[] } | { op: 'delete'; ids: string[] };

/** Collection-wide lexical statistics for a `dfs` search (sums over every shard). */
export interface GlobalStats {
  numDocs: number;
  avgdl: number;
  /** Document frequency per analyzed query term. */
  df: Record<string, number>;
}

/** Requests a node answers for the shard replicas it hosts (subject `spladex.rpc.<node>`). */
export type ShardRequest =
  | { op: 'search'; collection: string; shard: number; req: SearchRequest; stats?: GlobalStats }
  | { op: 'termStats'; collection: string; shard: number; query: string }
  | { op: 'get'; collection: string; shard: number; id: string; withVector: boolean }
  | { op: 'info'; collection: string; shard: number }
  | { op: 'waitApplied'; collection: string; shard: number; seq: number; timeoutMs: number }
  | { op: 'optimize'; collection: string; shard: number; body?: unknown }
  | { op: 'count'; collection: string; shard: number; filter?: unknown }
  | { op: 'liveIds'; collection: string; shard: number; ids?: string[]; filter?: unknown }
  | { op: 'prfInput'; collection: string; shard: number; req: SearchRequest; ids: string[] };

/** A sparse vector as JSON. */
export interface PlainVector {
  indices: number[];
  values: number[];
}

/** The answer to `prfInput`: the query vector as the shard resolves it, and the vectors of `ids` (null: absent). */
export interface PrfInput {
  query: PlainVector | null;
  vectors: (PlainVector | null)[];
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
