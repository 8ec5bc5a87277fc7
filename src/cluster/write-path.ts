/**
 * The accepting side of a write in cluster mode: validate each document with the document model the single
 * process uses (document-input.ts: shape, id, aliases, metadata limits and types, vector-or-text by encoder), so
 * the answer reports bad documents by index exactly as one process does; route the good ones to shard
 * `fnv1a32(id) mod shards` in batch order; cut each shard's list into messages below MAX_MESSAGE_BYTES (NATS's
 * payload limit, 1 MiB by default; docker-compose and Kubernetes set 8 MiB so a single 1 MiB-text document fits);
 * publish them, in order per shard, in parallel across shards; resolve after every JetStream ack with the
 * highest sequence per shard (what `?refresh=wait_for` waits for). Checks that need the shard's own state
 * (token ids against a model vocabulary, dense sizes) run again when replicas apply; a refusal there is logged
 * and counted (`rejected` in GET /v1/cluster). Called by cluster-node.ts.
 */
import { randomUUID } from 'node:crypto';
import { SpladexError } from '../core/errors.js';
import { CollectionConfigSchema, type CollectionConfig } from '../config/index-config.js';
import { documentSchema, type Limits } from '../config/request-schemas.js';
import { normaliseDocument, rawDocumentId, type DocumentRules } from '../search/document-input.js';
import type { CollectionSpec } from './cluster-state.js';
import type { NatsLink } from './nats-link.js';
import { shardOf } from './placement.js';
import { shardSubject, type ShardOp, toBytes } from './wire.js';

/** Bytes of one stream message's JSON at most (below NATS's default 1 MiB max_payload, with headers). */
export const MAX_MESSAGE_BYTES = 900 * 1024;

export interface WriteError {
  index: number;
  id?: string;
  code: string;
  message: string;
}

/** What a validated batch becomes: raw documents per shard (batch order), distinct ids, per-document errors. */
export interface RoutedBatch {
  byShard: Map<number, unknown[]>;
  distinctIds: number;
  errors: WriteError[];
}

/** Per-collection document rules, built once per spec. */
export function documentRules(spec: CollectionSpec, limits: Limits): { rules: DocumentRules; config: CollectionConfig } {
  const config = CollectionConfigSchema.parse(spec.config);
  return { rules: { schema: documentSchema(limits), limits, metadataTypes: config.metadata }, config };
}

/** Validates and routes a batch. */
export function routeBatch(raw: readonly unknown[], spec: CollectionSpec, rules: DocumentRules, config: CollectionConfig): RoutedBatch {
  const byShard = new Map<number, unknown[]>();
  const errors: WriteError[] = [];
  const ids = new Set<string>();
  for (let i = 0; i < raw.length; i++) {
    const field = `documents[${i}]`;
    try {
      const d = normaliseDocument(raw[i], field, rules);
      if (config.encoder === 'none' && d.vector === undefined) {
        throw new SpladexError(
          'INVALID_ARGUMENT',
          `${field}.vector: this collection has encoder "none": every document must carry a vector`,
        );
      }
      if (config.encoder === 'lexical' && d.vector !== undefined) {
        throw new SpladexError(
          'INVALID_ARGUMENT',
          `${field}.vector: collection encoder "lexical" computes vectors from text; use encoder "none" for pre-encoded vectors`,
        );
      }
      const shard = shardOf(d.id, spec.cluster.shards);
      let list = byShard.get(shard);
      if (list === undefined) byShard.set(shard, (list = []));
      list.push(raw[i]);
      ids.add(d.id);
    } catch (e) {
      if (!(e instanceof SpladexError)) throw e;
      errors.push({ index: i, id: rawDocumentId(raw[i]), code: e.code, message: e.message });
    }
  }
  return { byShard, distinctIds: ids.size, errors };
}

/** Cuts a shard's documents into upsert messages of at most MAX_MESSAGE_BYTES each (one document may exceed it). */
export function toMessages(docs: readonly unknown[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cur: unknown[] = [];
  let bytes = 0;
  for (const d of docs) {
    const n = Buffer.byteLength(JSON.stringify(d));
    if (cur.length > 0 && bytes + n + 1 > MAX_MESSAGE_BYTES) {
      out.push(toBytes({ op: 'upsert', docs: cur } satisfies ShardOp));
      cur = [];
      bytes = 32;
    }
    cur.push(d);
    bytes += n + 1;
  }
  if (cur.length > 0) out.push(toBytes({ op: 'upsert', docs: cur } satisfies ShardOp));
  return out;
}

/** Cuts ids into delete messages of at most `maxIds` ids and MAX_MESSAGE_BYTES each (the replica's one store delete). */
export function deleteMessages(ids: readonly string[], maxIds: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const id of ids) {
    const n = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (cur.length > 0 && (cur.length >= maxIds || bytes + n > MAX_MESSAGE_BYTES)) {
      out.push(toBytes({ op: 'delete', ids: cur } satisfies ShardOp));
      cur = [];
      bytes = 32;
    }
    cur.push(id);
    bytes += n;
  }
  if (cur.length > 0) out.push(toBytes({ op: 'delete', ids: cur } satisfies ShardOp));
  return out;
}

/** Publishes the messages of each shard (in order per shard) and resolves with the last acked sequence per shard. */
export async function publishShards(link: NatsLink, collection: string, messages: Map<number, Uint8Array[]>): Promise<Map<number, number>> {
  const lastSeq = new Map<number, number>();
  await Promise.all(
    [...messages].map(async ([shard, list]) => {
      for (const m of list) lastSeq.set(shard, await link.publish(shardSubject(collection, shard), m, randomUUID()));
    }),
  );
  return lastSeq;
}
