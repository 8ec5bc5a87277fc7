/**
 * Retrieval-quality comparison of the search variants of issue 5 on one BEIR dataset: sparse (lexical BM25),
 * sparse + PRF, hybrid sparse + LSA (convex fusion, given alpha) and LSA alone, all through the search service
 * (one collection `{encoder: lexical, dense: {dim, metric: cosine, encoder: lsa}}`, optimize = seal + LSA fit).
 * Metrics from metrics.ts (pytrec_eval semantics). Callers: scripts/hybrid-eval.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SearchRequest } from '../config/request-schemas.js';
import { openSpladexService } from '../search/spladex-service.js';
import { loadQrels, loadQueries, readBeirCorpus } from './beir-loader.js';
import { evaluateRun, type Run } from './metrics.js';

export interface HybridEvalOptions {
  dataset: string;
  /** LSA rank / dense dim (default 128). */
  dim?: number;
  /** alpha of the hybrid variant (default 0.8). */
  alpha?: number;
  k?: number;
}

export interface VariantResult {
  name: string;
  ndcg10: number;
  recall100: number;
  mrr10: number;
  meanMs: number;
}

export interface HybridEvalResult {
  dataset: string;
  documents: number;
  queries: number;
  indexMs: number;
  optimizeMs: number;
  variants: VariantResult[];
}

/** Indexes the dataset into a temp dir, runs every variant over the qrels' queries, returns the metrics. */
export async function runHybridEval(opts: HybridEvalOptions): Promise<HybridEvalResult> {
  const dim = opts.dim ?? 128;
  const alpha = opts.alpha ?? 0.8;
  const k = opts.k ?? 100;
  const dir = mkdtempSync(join(tmpdir(), 'spladex-hybrid-eval-'));
  const service = await openSpladexService({
    dataDir: join(dir, 'index'),
    encodersDir: join(dir, 'enc'),
    logger: pino({ level: 'silent' }),
  });
  try {
    const name = 'ds';
    await service.createCollection(name, { dense: { dim, metric: 'cosine', encoder: 'lsa' } });
    const t0 = performance.now();
    let batch: { id: string; title?: string; text?: string }[] = [];
    let documents = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const r = await service.upsertDocuments(name, batch);
      documents += r.indexed;
      batch = [];
    };
    for await (const d of readBeirCorpus(join(opts.dataset, 'corpus.jsonl'))) {
      const doc: { id: string; title?: string; text?: string } = { id: d.id };
      if (d.title !== '') doc.title = d.title;
      if (d.text !== '' || d.title === '') doc.text = d.text === '' ? ' ' : d.text;
      batch.push(doc);
      if (batch.length >= 1000) await flush();
    }
    await flush();
    const t1 = performance.now();
    await service.optimize(name);
    const t2 = performance.now();
    const qrels = await loadQrels(join(opts.dataset, 'qrels', 'test.tsv'));
    const texts = await loadQueries(join(opts.dataset, 'queries.jsonl'));
    const queries = [...qrels.keys()].filter((q) => texts.has(q)).map((q) => [q, texts.get(q) as string] as const);
    const hybrid = (a: number): SearchRequest['hybrid'] => ({
      method: 'convex',
      alpha: a,
      normalization: 'minmax',
      rrfK: 60,
      candidates: 100,
    });
    // The collection's LSA encoder makes every text query hybrid; alpha 1 is exactly the sparse ranking.
    const variants: [string, Partial<SearchRequest>][] = [
      ['sparse (BM25)', { hybrid: hybrid(1) }],
      ['sparse + default PRF (5 docs, 20 terms, 0.5)', { prf: { docs: 5, terms: 20, weight: 0.5 }, hybrid: hybrid(1) }],
      [`hybrid BM25 + LSA (alpha ${alpha}, minmax)`, { hybrid: hybrid(alpha) }],
      ['hybrid BM25 + LSA (rrf)', { hybrid: { method: 'rrf', alpha: 0.5, normalization: 'minmax', rrfK: 60, candidates: 100 } }],
      [`hybrid BM25 + PRF + LSA (alpha ${alpha})`, { prf: { docs: 5, terms: 20, weight: 0.5 }, hybrid: hybrid(alpha) }],
      ['LSA only (alpha 0 over the candidates)', { hybrid: hybrid(0) }],
    ];
    const results: VariantResult[] = [];
    for (const [vname, extra] of variants) {
      const run: Run = new Map();
      const ts = performance.now();
      for (const [qid, text] of queries) {
        const res = await service.search(name, { query: text, k, include: [], ...extra } as SearchRequest);
        run.set(
          qid,
          res.hits.map((h) => ({ id: h.id, score: h.score })),
        );
      }
      const e = evaluateRun(run, qrels);
      results.push({
        name: vname,
        ndcg10: e.ndcg10,
        recall100: e.recall100,
        mrr10: e.mrr10,
        meanMs: (performance.now() - ts) / Math.max(1, queries.length),
      });
    }
    return { dataset: opts.dataset, documents, queries: queries.length, indexMs: t1 - t0, optimizeMs: t2 - t1, variants: results };
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as a text table. */
export function formatHybridEval(r: HybridEvalResult): string {
  const lines = [
    `${r.dataset}: ${r.documents} docs, ${r.queries} queries; index ${(r.indexMs / 1000).toFixed(1)} s, optimize (seal + LSA fit) ${(r.optimizeMs / 1000).toFixed(1)} s`,
    `${'variant'.padEnd(44)} nDCG@10  R@100   MRR@10  ms/query`,
  ];
  for (const v of r.variants) {
    lines.push(`${v.name.padEnd(44)} ${v.ndcg10.toFixed(4)}   ${v.recall100.toFixed(4)}  ${v.mrr10.toFixed(4)}  ${v.meanMs.toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}
