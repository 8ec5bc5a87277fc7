/**
 * BEIR evaluation end to end (`npm run beir`, `spladex eval`): index a dataset's corpus into a fresh collection
 * through the bulk indexer (src/ingest/bulk-index.ts, the same path as `spladex index`), seal it, run the test
 * queries (those in qrels/test.tsv) through the search service one at a time, and report nDCG@10, Recall@100,
 * MRR@10 (metrics.ts), latency p50/p99 (wall time per search call, query encoding included) and, unless `exact`,
 * recall@10 of the approximate answers against `exact: true` answers. Writes `<out>/<name>.summary.json` and
 * `<out>/<name>.run.trec`. `sweep` adds a (queryCut, heapFactor) grid of recall@10 / nDCG@10 / latency.
 *
 * Faithful to BM25 by construction: nothing here knows the dataset; every number comes from the collection's
 * default configuration unless an option says otherwise. Callers: scripts/beir-eval.ts, src/cli/run-cli.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { EnvConfig } from '../config/env.js';
import type { SearchRequest } from '../config/request-schemas.js';
import { bulkIndex } from '../ingest/bulk-index.js';
import type { SpladexClient } from '../ingest/client.js';
import { openTarget } from '../ingest/open-target.js';
import { createProgress, SILENT_PROGRESS } from '../ingest/progress.js';
import { intOption, parseCommandArgs, UsageError, type CliIo } from '../cli/usage.js';
import { notFound } from '../core/errors.js';
import { loadQrels, loadQueries, type Qrels } from './beir-loader.js';
import { latencySummary } from './latency.js';
import { evaluateRun, overlapRecall, type Run } from './metrics.js';
import { writeTrecRun } from './trec-run.js';

/** Options of one evaluation. */
export interface BeirOptions {
  /** Dataset folder with corpus.jsonl, queries.jsonl, qrels/<split>.tsv. */
  dataset: string;
  /** Output folder for the summary and run file (default beir-out). */
  out?: string;
  encoder?: string;
  /** Search exactly only (no approximate run, no approx-vs-exact recall). */
  exact?: boolean;
  /** Also measure a (queryCut, heapFactor) grid. */
  sweep?: boolean;
  /** Data dir to index into; default a fresh temp dir, removed afterwards. */
  data?: string;
  /** `index.approximateThreshold` of the new collection (segments smaller than this are searched exactly). */
  approximateThreshold?: number;
  /** Hits scored per query (default 100: Recall@100 needs them); k + 1 are retrieved (see runQueries). */
  k?: number;
  batchSize?: number;
  split?: string;
  logLevel?: string;
}

/** One configuration's aggregate numbers. */
export interface RunStats {
  ndcg10: number;
  recall100: number;
  mrr10: number;
  latencyMs: { p50: number; p99: number; mean: number };
  /** Fraction of searches the service answered exactly. */
  exactFraction: number;
}

/** Everything the evaluation measured (also written as the summary JSON). */
export interface BeirSummary {
  dataset: string;
  collection: string;
  encoder: string;
  documents: number;
  skippedLines: number;
  indexMs: number;
  indexDocsPerSec: number;
  optimizeMs: number;
  segments: number;
  queries: number;
  k: number;
  main: RunStats;
  /** Mean recall@10 of approximate vs exact answers; null with `exact`. */
  approxRecall10: number | null;
  exactRun: RunStats | null;
  sweep: (RunStats & { queryCut: number; heapFactor: number; recall10: number })[] | null;
  node: string;
  date: string;
}

/** Collection name derived from the dataset folder ("scifact", "limit-small"). */
export function collectionNameFor(dataset: string): string {
  const n = basename(resolve(dataset))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return (n || 'beir').slice(0, 64);
}

async function runQueries(
  client: SpladexClient,
  collection: string,
  queries: [string, string][],
  k: number,
  params: SearchRequest['params'],
  io: CliIo,
): Promise<{ run: Run; stats: Omit<RunStats, 'ndcg10' | 'recall100' | 'mrr10'> }> {
  const run: Run = new Map();
  const lat: number[] = [];
  let exact = 0;
  let failures = 0;
  for (const [qid, text] of queries) {
    // One extra hit: a document whose id equals the query id is dropped when scoring (BEIR), and Recall@100
    // must still see 100 others.
    const req: SearchRequest = { query: text, k: Math.min(1000, k + 1) };
    if (params) req.params = params;
    const t0 = performance.now();
    try {
      const res = await client.search(collection, req);
      lat.push(performance.now() - t0);
      if (res.stats.exact) exact++;
      run.set(
        qid,
        res.hits.map((h) => ({ id: h.id, score: h.score })),
      );
    } catch (e) {
      lat.push(performance.now() - t0);
      run.set(qid, []);
      if (failures++ < 5) io.stderr(`query ${qid}: ${(e as { code?: string }).code ?? 'ERROR'}: ${(e as Error).message}\n`);
    }
  }
  return {
    run,
    stats: { latencyMs: latencySummary(lat), exactFraction: exact / Math.max(1, queries.length) },
  };
}

function score(run: Run, qrels: Qrels, stats: Omit<RunStats, 'ndcg10' | 'recall100' | 'mrr10'>): RunStats {
  const e = evaluateRun(run, qrels);
  return { ndcg10: e.ndcg10, recall100: e.recall100, mrr10: e.mrr10, ...stats };
}

/** Runs one evaluation; prints progress to `io.stderr` and the results table to `io.stdout`. */
export async function runBeir(opts: BeirOptions, env: EnvConfig, io: CliIo): Promise<BeirSummary> {
  const split = opts.split ?? 'test';
  const corpus = join(opts.dataset, 'corpus.jsonl');
  const qrelsPath = join(opts.dataset, 'qrels', `${split}.tsv`);
  for (const f of [corpus, join(opts.dataset, 'queries.jsonl'), qrelsPath]) if (!existsSync(f)) throw notFound(`file not found: ${f}`);
  const qrels = await loadQrels(qrelsPath);
  const allQueries = await loadQueries(join(opts.dataset, 'queries.jsonl'));
  const queries: [string, string][] = [];
  for (const qid of qrels.keys()) {
    const text = allQueries.get(qid);
    if (text !== undefined) queries.push([qid, text]);
    else io.stderr(`warning: query ${qid} is in the qrels but not in queries.jsonl (scores 0)\n`);
  }
  const k = opts.k ?? 100;
  const collection = collectionNameFor(opts.dataset);
  const tempData = opts.data === undefined ? mkdtempSync(join(tmpdir(), 'spladex-beir-')) : null;
  const dataDir = opts.data ?? (tempData as string);
  const client = await openTarget({ data: dataDir, 'log-level': opts.logLevel }, env, { defaultLogLevel: 'error' });
  try {
    const collectionConfig: Record<string, unknown> = {};
    if (opts.approximateThreshold !== undefined) collectionConfig.index = { approximateThreshold: opts.approximateThreshold };
    let bad = 0;
    const idx = await bulkIndex({
      input: corpus,
      collection,
      client,
      batchSize: opts.batchSize ?? 1000,
      encoder: opts.encoder ?? 'lexical',
      collectionConfig,
      progress: opts.logLevel === 'silent' ? SILENT_PROGRESS : createProgress(io, statSize(corpus), `indexing ${collection}`),
      onBadLine: (b) => {
        if (bad++ < 10) io.stderr(`line ${b.line}: ${b.code}: ${b.message}\n`);
      },
    });
    const opt = await client.optimize(collection);
    io.stderr(
      `indexed ${idx.indexed} docs in ${(idx.tookMs / 1000).toFixed(2)} s; optimize ${Math.round(opt.tookMs)} ms, ${opt.segments} segments\n`,
    );

    // One warm-up pass over a few queries so the first timed queries do not pay JIT compilation.
    await runQueries(client, collection, queries.slice(0, 20), k, undefined, io);
    let main: RunStats;
    let mainRun: Run;
    let exactRun: RunStats | null = null;
    let approxRecall10: number | null = null;
    const ex = await runQueries(client, collection, queries, k, { exact: true }, io);
    const exactStats = score(ex.run, qrels, ex.stats);
    if (opts.exact) {
      main = exactStats;
      mainRun = ex.run;
    } else {
      const ap = await runQueries(client, collection, queries, k, undefined, io);
      main = score(ap.run, qrels, ap.stats);
      mainRun = ap.run;
      exactRun = exactStats;
      approxRecall10 = overlapRecall(ap.run, ex.run, 10);
    }
    let sweep: BeirSummary['sweep'] = null;
    if (opts.sweep) {
      sweep = [];
      for (const queryCut of [3, 5, 10, 20]) {
        for (const heapFactor of [0.7, 0.8, 0.9, 1.0]) {
          const r = await runQueries(client, collection, queries, k, { queryCut, heapFactor }, io);
          sweep.push({ queryCut, heapFactor, recall10: overlapRecall(r.run, ex.run, 10), ...score(r.run, qrels, r.stats) });
        }
      }
    }
    const summary: BeirSummary = {
      dataset: resolve(opts.dataset),
      collection,
      encoder: opts.encoder ?? 'lexical',
      documents: idx.indexed,
      skippedLines: idx.failed,
      indexMs: idx.tookMs,
      indexDocsPerSec: idx.indexed / Math.max(1e-9, idx.tookMs / 1000),
      optimizeMs: opt.tookMs,
      segments: opt.segments,
      queries: qrels.size,
      k,
      main,
      approxRecall10,
      exactRun,
      sweep,
      node: process.version,
      date: new Date().toISOString(),
    };
    const out = opts.out ?? 'beir-out';
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `${collection}.summary.json`), `${JSON.stringify(summary, null, 2)}\n`);
    await writeTrecRun(join(out, `${collection}.run.trec`), mainRun);
    io.stdout(formatSummary(summary, out));
    return summary;
  } finally {
    await client.close();
    if (tempData) rmSync(tempData, { recursive: true, force: true });
  }
}

function statSize(path: string): number {
  // Progress only: a failure here must not stop the evaluation.
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Human-readable result table. */
export function formatSummary(s: BeirSummary, out: string): string {
  const f = (x: number) => x.toFixed(4);
  const lines = [
    `dataset     ${s.collection}: ${s.documents} docs, ${s.queries} queries, encoder ${s.encoder}`,
    `indexing    ${(s.indexMs / 1000).toFixed(2)} s (${Math.round(s.indexDocsPerSec)} docs/s), optimize ${Math.round(s.optimizeMs)} ms, ${s.segments} segment(s)`,
    `nDCG@10     ${f(s.main.ndcg10)}`,
    `Recall@100  ${f(s.main.recall100)}`,
    `MRR@10      ${f(s.main.mrr10)}`,
    `latency     p50 ${s.main.latencyMs.p50.toFixed(2)} ms, p99 ${s.main.latencyMs.p99.toFixed(2)} ms (${(100 * s.main.exactFraction).toFixed(0)}% answered exactly)`,
  ];
  if (s.approxRecall10 !== null && s.exactRun) {
    lines.push(
      `approx/exact recall@10 ${f(s.approxRecall10)} (exact: nDCG@10 ${f(s.exactRun.ndcg10)}, p50 ${s.exactRun.latencyMs.p50.toFixed(2)} ms)`,
    );
  }
  if (s.sweep) {
    lines.push('sweep       queryCut heapFactor recall@10 nDCG@10  p50ms   p99ms');
    for (const r of s.sweep) {
      lines.push(
        `            ${String(r.queryCut).padStart(8)} ${r.heapFactor.toFixed(1).padStart(10)} ${f(r.recall10).padStart(9)} ${f(r.ndcg10)} ${r.latencyMs.p50.toFixed(2).padStart(6)} ${r.latencyMs.p99.toFixed(2).padStart(7)}`,
      );
    }
  }
  lines.push(`wrote       ${join(out, `${s.collection}.summary.json`)}, ${join(out, `${s.collection}.run.trec`)}`);
  return `${lines.join('\n')}\n`;
}

export const BEIR_HELP = `npm run beir -- --dataset DIR [options]   (or: spladex eval --dataset DIR [options])
  Indexes DIR/corpus.jsonl into a fresh collection, runs the queries of DIR/qrels/test.tsv, prints nDCG@10,
  Recall@100, MRR@10, latency p50/p99 and approximate-vs-exact recall@10; writes a summary JSON and a TREC run.
  --out DIR          output folder (default beir-out)
  --encoder NAME     collection encoder (default lexical)
  --exact            exact search only
  --sweep            also measure queryCut × heapFactor
  --data DIR         index into DIR (kept) instead of a temp dir (removed)
  --threshold N      index.approximateThreshold of the collection (0: always use the approximate index)
  --split NAME       qrels split (default test)
  --batch N          indexing batch size (default 1000)
  --log-level LEVEL  service log level on stderr (default error)`;

/** Parses `npm run beir` / `spladex eval` arguments and runs; resolves to the exit code. */
export async function runBeirCli(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${BEIR_HELP}\n`);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(args, {
    dataset: { type: 'string' },
    out: { type: 'string' },
    encoder: { type: 'string' },
    exact: { type: 'boolean' },
    sweep: { type: 'boolean' },
    data: { type: 'string' },
    threshold: { type: 'string' },
    split: { type: 'string' },
    batch: { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.dataset === undefined) throw new UsageError('--dataset DIR is required');
  await runBeir(
    {
      dataset: values.dataset,
      out: values.out,
      encoder: values.encoder,
      exact: values.exact,
      sweep: values.sweep,
      data: values.data,
      approximateThreshold: intOption('threshold', values.threshold, 0, 2 ** 31 - 1),
      split: values.split,
      batchSize: intOption('batch', values.batch, 1, 10_000),
      logLevel: values['log-level'],
    },
    env,
    io,
  );
  return 0;
}
