/**
 * The CLI's subcommands (except `serve` and `eval`/`bench`, which forward to other modules): `index`, `search`,
 * `optimize`, `encode`, `inspect`. Each takes its argv tail, the parsed environment and the io sink, and returns
 * the exit code; errors are thrown (UsageError → 2, SpladexError → 1) and printed by run-cli.ts.
 */
import { statSync } from 'node:fs';
import type { EnvConfig } from '../config/env.js';
import { EncodeRequestSchema, type SearchRequest } from '../config/request-schemas.js';
import { encodeTexts } from '../search/encode.js';
import { bulkIndex, type BadLine } from '../ingest/bulk-index.js';
import { readCalibrationQueries } from './calibration-queries.js';
import { openTarget } from '../ingest/open-target.js';
import { createProgress, SILENT_PROGRESS } from '../ingest/progress.js';
import { COMMON_OPTIONS, intOption, parseCommandArgs, positional, UsageError, type CliIo } from './usage.js';

/** Help text per command, printed by `--help`. */
export const COMMAND_HELP: Record<string, string> = {
  index: `spladex index <collection> --input FILE [options]
  Streams a JSONL file (BEIR corpus.jsonl {_id,title,text} or {id,title,text,vector,dense,metadata}) into a
  collection, creating it when absent. Bad lines are reported with their line number and skipped.
  --input FILE       JSONL file (required)
  --batch N          documents per batch (default 1000, at most 10000)
  --in-flight N      batches sent concurrently (default 2; the log group-commits them)
  --encoder NAME     encoder of a new collection (default: "none" if documents carry vectors, else "lexical")
  --dim N            vocabulary bound of a new "none" collection (default 30522)
  --config JSON      further configuration of a new collection, e.g. '{"index":{"approximateThreshold":0}}'
  --memtable N       documents held in memory before a seal, for --data loads (default 200000; memory stays
                     near two memtables whatever the file size)
  --optimize         seal and merge segments when done (builds the approximate index of a bulk load)
  --quiet            no progress output
  --url URL          send to a running server instead of writing the data dir
  --data DIR         data dir (default SPLADEX_DATA_DIR or ./index)
  Exit code 1 when any line was skipped.`,
  search: `spladex search <collection> "query text" [-k N] [--exact] [--json] [--url URL | --data DIR]
  Prints rank, score, id and title of the top hits (--json: the full response).`,
  optimize: `spladex optimize <collection> [--calibration-queries FILE] [--url URL | --data DIR]
  Seals the memtable and merges segments.
  --calibration-queries FILE  JSONL of 16..1000 sample queries ({"query": "text"}, {"vector": ...} or BEIR
                     {"_id","text"}) on which targetRecall is calibrated instead of documents used as queries`,
  encode: `spladex encode [--encoder lexical] [--collection NAME] [--document] "text" ...
  Prints the sparse vector of each text as JSON ({indices, values, tokens}). Query encoding by default.
  With --collection the collection's dictionary and statistics are used (opens --data or --url).`,
  snapshot: `spladex snapshot <collection> [--list] [--data DIR | --url URL]
  Makes a consistent snapshot of the collection (in SPLADEX_SNAPSHOT_DIR, default <data dir>/.snapshots) and prints
  it as JSON ({id, documents, walGeneration, files, bytes, ...}); --list prints the existing snapshots instead.`,
  restore: `spladex restore <collection> <snapshot-id> --as NEW [--data DIR | --url URL]
  Verifies every file of the snapshot (sha256) and restores it into the new collection NEW; prints
  {name, snapshot, documents, verifiedFiles}. A damaged snapshot fails with CORRUPT_INDEX naming the file.`,
  inspect: `spladex inspect <collection> [--data DIR | --url URL]
  Opens the collection (verifying every segment checksum) and prints its configuration and statistics as JSON.`,
};

function wantsHelp(args: string[], io: CliIo, cmd: string): boolean {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${COMMAND_HELP[cmd]}\n`);
    return true;
  }
  return false;
}

/** `spladex index`. */
export async function indexCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (wantsHelp(args, io, 'index')) return 0;
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    input: { type: 'string', short: 'i' },
    batch: { type: 'string' },
    'in-flight': { type: 'string' },
    config: { type: 'string' },
    encoder: { type: 'string' },
    dim: { type: 'string' },
    optimize: { type: 'boolean' },
    memtable: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const collection = positional(positionals, 0, 'collection name');
  const memtableMaxDocs = intOption('memtable', values.memtable, 1, 10_000_000) ?? 200_000;
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (values.input === undefined) throw new UsageError('--input FILE is required');
  const batchSize = intOption('batch', values.batch, 1, 10_000) ?? 1000;
  const dim = intOption('dim', values.dim, 1, 1 << 30);
  const maxInFlight = intOption('in-flight', values['in-flight'], 1, 64);
  let collectionConfig: Record<string, unknown> | undefined;
  if (values.config !== undefined) {
    try {
      collectionConfig = JSON.parse(values.config) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--config is not valid JSON: ${(e as Error).message}`);
    }
    if (collectionConfig === null || typeof collectionConfig !== 'object' || Array.isArray(collectionConfig)) {
      throw new UsageError('--config must be a JSON object');
    }
  }
  let totalBytes: number;
  try {
    totalBytes = statSync(values.input).size;
  } catch {
    throw new UsageError(`cannot read --input ${values.input}`);
  }
  // Into a data dir, seals skip the Seismic build; --optimize (or a later `spladex optimize`) builds it once.
  const client = await openTarget(values, env, { defaultLogLevel: 'error', bulkLoad: true, memtableMaxDocs });
  let shown = 0;
  const MAX_SHOWN = 100;
  const onBadLine = (b: BadLine) => {
    if (shown++ < MAX_SHOWN) io.stderr(`line ${b.line}: ${b.code}: ${b.message}${b.id !== undefined ? ` (id ${b.id})` : ''}\n`);
  };
  try {
    const progress = values.quiet ? SILENT_PROGRESS : createProgress(io, totalBytes, `indexing ${collection}`);
    const r = await bulkIndex({
      input: values.input,
      collection,
      client,
      batchSize,
      maxInFlight,
      encoder: values.encoder,
      dim,
      collectionConfig,
      progress,
      onBadLine,
    });
    if (shown > MAX_SHOWN) io.stderr(`... and ${shown - MAX_SHOWN} more bad lines\n`);
    const secs = r.tookMs / 1000;
    io.stdout(
      `indexed ${r.indexed} documents into ${collection}${r.created ? ' (created)' : ''}, ${r.failed} skipped, ` +
        `${r.lines} lines in ${secs.toFixed(2)} s (${Math.round(r.indexed / Math.max(secs, 1e-9))} docs/s)\n`,
    );
    if (values.optimize) {
      const o = await client.optimize(collection);
      io.stdout(`optimized ${collection}: ${o.segments} segments in ${Math.round(o.tookMs)} ms\n`);
    }
    return r.failed > 0 ? 1 : 0;
  } finally {
    await client.close();
  }
}

/** `spladex search`. */
export async function searchCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (wantsHelp(args, io, 'search')) return 0;
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    k: { type: 'string', short: 'k' },
    exact: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const collection = positional(positionals, 0, 'collection name');
  const text = positionals.slice(1).join(' ');
  if (text.trim() === '') throw new UsageError('missing query text');
  const k = intOption('k', values.k, 1, 1000) ?? 10;
  const req: SearchRequest = { query: text, k, include: ['title'] };
  if (values.exact) req.params = { exact: true };
  const client = await openTarget(values, env);
  try {
    const res = await client.search(collection, req);
    if (values.json) {
      io.stdout(`${JSON.stringify(res, null, 2)}\n`);
      return 0;
    }
    res.hits.forEach((h, i) => {
      const title = h.title !== undefined ? `  ${h.title.length > 80 ? `${h.title.slice(0, 77)}...` : h.title}` : '';
      io.stdout(`${String(i + 1).padStart(3)}  ${h.score.toFixed(4).padStart(9)}  ${h.id}${title}\n`);
    });
    for (const w of res.warnings) io.stderr(`warning: ${w}\n`);
    io.stderr(
      `${res.hits.length} hits in ${res.took.totalMs.toFixed(1)} ms (${res.stats.exact ? 'exact' : 'approximate'}, ${res.stats.docsScored} docs scored)\n`,
    );
    return 0;
  } finally {
    await client.close();
  }
}

/** `spladex optimize`. */
export async function optimizeCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (wantsHelp(args, io, 'optimize')) return 0;
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, 'calibration-queries': { type: 'string' } });
  const collection = positional(positionals, 0, 'collection name');
  const file = values['calibration-queries'];
  const body = file === undefined ? undefined : { calibrationQueries: readCalibrationQueries(file) };
  const client = await openTarget(values, env);
  try {
    const o = await client.optimize(collection, body);
    io.stdout(`optimized ${collection}: ${o.segments} segments in ${Math.round(o.tookMs)} ms\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** `spladex encode`. */
export async function encodeCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (wantsHelp(args, io, 'encode')) return 0;
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    encoder: { type: 'string' },
    collection: { type: 'string' },
    document: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('missing text to encode');
  const parsed = EncodeRequestSchema.safeParse({
    encoder: values.encoder ?? 'lexical',
    collection: values.collection,
    kind: values.document ? 'document' : 'query',
    texts: positionals,
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
  const req = parsed.data;
  let vectors;
  if (req.collection === undefined && values.url === undefined) {
    if (req.encoder !== 'lexical')
      throw new UsageError(`encoder "${req.encoder}" needs --collection or --url (only lexical encodes offline)`);
    vectors = await encodeTexts(req, undefined);
  } else {
    const client = await openTarget(values, env);
    try {
      vectors = (await client.encode(req)).vectors;
    } finally {
      await client.close();
    }
  }
  io.stdout(`${JSON.stringify(vectors.length === 1 ? vectors[0] : vectors, null, 2)}\n`);
  return 0;
}

/** `spladex inspect`. */
export async function inspectCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (wantsHelp(args, io, 'inspect')) return 0;
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS });
  const collection = positional(positionals, 0, 'collection name');
  const client = await openTarget(values, env);
  try {
    const info = await client.findCollection(collection);
    if (!info) {
      io.stderr(`spladex: error: NOT_FOUND: collection "${collection}" not found\n`);
      return 1;
    }
    io.stdout(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** `spladex snapshot`. */
export async function snapshotCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (wantsHelp(args, io, 'snapshot')) return 0;
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, list: { type: 'boolean' } });
  const collection = positional(positionals, 0, 'collection name');
  const client = await openTarget(values, env);
  try {
    const out = values.list ? await client.listSnapshots(collection) : await client.snapshot(collection);
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** `spladex restore`. */
export async function restoreCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (wantsHelp(args, io, 'restore')) return 0;
  const { values, positionals } = parseCommandArgs(args, { ...COMMON_OPTIONS, as: { type: 'string' } });
  const collection = positional(positionals, 0, 'collection name');
  const snapshot = positional(positionals, 1, 'snapshot id');
  if (values.as === undefined || values.as === '') throw new UsageError('missing --as NEW (the collection to restore into)');
  const client = await openTarget(values, env);
  try {
    io.stdout(`${JSON.stringify(await client.restore(collection, { snapshot, as: values.as }), null, 2)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}
