/**
 * Bulk indexing of a JSONL file (BEIR `corpus.jsonl` or spladex documents, with or without pre-encoded `vector`)
 * into a collection, through a SpladexClient (in-process service or HTTP). The file is streamed line by line and
 * sent in batches of `batchSize` (document-batches.ts); at most `maxInFlight` batches are in flight while the
 * next one is read, so memory is bounded by a few batches whatever the file size. Lines that are not JSON
 * objects, lack an id, or are rejected by the service are reported through `onBadLine` with their 1-based line
 * number and skipped (the service's `documents[i].` prefix dropped: the line number names the document).
 *
 * The collection is created when absent: with `encoder` when given, else `none` (vectors only, `dim`) when the
 * first batch carries vectors, else `lexical`. This is THE indexing path: the `index` command and the BEIR runner
 * (src/eval/beir-runner.ts) both call `bulkIndex`.
 */
import { SpladexError } from '../core/errors.js';
import type { SpladexClient } from './client.js';
import { readDocumentBatches, type BadLine } from './document-batches.js';
import type { ProgressReporter } from './progress.js';

export type { BadLine } from './document-batches.js';

export interface BulkIndexOptions {
  input: string;
  collection: string;
  client: SpladexClient;
  /** Documents per request (1 .. 10,000). */
  batchSize: number;
  /** Encoder for a new collection; default: inferred from the first batch. */
  encoder?: string;
  /** `dim` of a new vectors-only collection (default 30,522, BERT's vocabulary). */
  dim?: number;
  /** Further configuration of a new collection (e.g. `{index: {approximateThreshold: 0}}`), merged in. */
  collectionConfig?: Record<string, unknown>;
  /**
   * Batches sent concurrently (default 2). More than one lets the WAL group-commit several batches into one
   * fsync while the next batch is parsed; memory stays bounded by (maxInFlight + 1) batches. Batches are handed
   * to the client in file order, so for the same id a later line wins.
   */
  maxInFlight?: number;
  progress?: ProgressReporter;
  onBadLine?: (bad: BadLine) => void;
}

export interface BulkIndexResult {
  /** Non-blank lines read. */
  lines: number;
  indexed: number;
  failed: number;
  /** Whether this run created the collection. */
  created: boolean;
  /** Wall time of the whole run, ms. */
  tookMs: number;
}

/** Default vocabulary bound for a vectors-only collection created from pre-encoded documents. */
export const DEFAULT_VECTOR_DIM = 30_522;

interface Pending {
  docs: Record<string, unknown>[];
  lines: number[];
}

/** Streams `input` into `collection`. Throws (SpladexError) only for failures that stop the run. */
export async function bulkIndex(opts: BulkIndexOptions): Promise<BulkIndexResult> {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new SpladexError('INVALID_ARGUMENT', `batch size must be a positive integer, got ${opts.batchSize}`);
  }
  const t0 = performance.now();
  const progress = opts.progress;
  const report = opts.onBadLine ?? (() => {});
  let lines = 0;
  let chars = 0;
  let indexed = 0;
  let failed = 0;
  let created = false;
  let ensured = false;
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
  const inflight: Promise<void>[] = [];

  const ensureCollection = async (first: Pending): Promise<void> => {
    ensured = true;
    if (await opts.client.findCollection(opts.collection)) return;
    let encoder = opts.encoder;
    if (encoder === undefined) encoder = first.docs.some((d) => d.vector !== undefined) ? 'none' : 'lexical';
    const config: Record<string, unknown> = { ...opts.collectionConfig, encoder };
    if (encoder === 'none') config.dim = opts.dim ?? config.dim ?? DEFAULT_VECTOR_DIM;
    created = (await opts.client.createCollection(opts.collection, config)).created;
  };

  const send = async (batch: Pending, charsSoFar: number): Promise<void> => {
    const r = await opts.client.upsert(opts.collection, batch.docs);
    indexed += r.indexed;
    for (const e of r.errors) {
      failed++;
      report({ line: batch.lines[e.index] ?? 0, id: e.id, code: e.code, message: lineMessage(e.message, e.index) });
    }
    progress?.update(indexed, charsSoFar);
  };

  const flush = async (batch: Pending): Promise<void> => {
    // Wait for the oldest batch when the window is full; its failure surfaces here and stops the run.
    while (inflight.length >= maxInFlight) await inflight.shift();
    if (!ensured) await ensureCollection(batch);
    const p = send(batch, chars);
    // Surface a failure at the await above (or below) rather than as an unhandled rejection.
    p.catch(() => {});
    inflight.push(p);
  };

  for await (const b of readDocumentBatches(opts.input, opts.batchSize)) {
    lines += b.lineCount;
    chars += b.chars;
    for (const bad of b.bad) {
      failed++;
      report(bad);
    }
    if (b.docs.length > 0) await flush({ docs: b.docs, lines: b.lines });
  }
  while (inflight.length > 0) await inflight.shift();
  if (!ensured) await ensureCollection({ docs: [], lines: [] });
  progress?.stop(indexed, chars);
  return { lines, indexed, failed, created, tookMs: performance.now() - t0 };
}

/** A service message about `documents[index]` as the CLI reports it after `line N:` (`documents[3].id: x` → `id: x`). */
function lineMessage(message: string, index: number): string {
  const prefix = `documents[${index}]`;
  if (!message.startsWith(prefix)) return message;
  const rest = message.slice(prefix.length);
  if (rest.startsWith('.')) return rest.slice(1);
  if (rest.startsWith(': ')) return rest.slice(2);
  return message;
}
