/**
 * Retrieval metrics with pytrec_eval / trec_eval semantics as BEIR reports them:
 * - a query's hits are ordered like trec_eval: score descending, ties by doc id descending (string order);
 * - hits whose doc id equals the query id are removed first (BEIR's `ignore_identical_ids`);
 * - nDCG@k: gain = graded relevance (not 2^rel − 1), discount log2(rank + 1), ideal DCG from the qrels' positive
 *   judgements; 0 when the query has none;
 * - Recall@k: relevant (rel > 0) docs in the top k / relevant docs judged;
 * - MRR@k: 1 / rank of the first relevant doc within the top k, else 0;
 * - averages run over every query in the qrels; a qrels query absent from the run scores 0 (trec_eval -c).
 * Callers: the BEIR runner, the TREC-run round-trip test.
 */
import type { Qrels } from './beir-loader.js';

/** One retrieved document. */
export interface RunHit {
  id: string;
  score: number;
}

/** qid → retrieved hits (any order; metrics sort them). */
export type Run = Map<string, RunHit[]>;

/** Per-query values and means over the qrels' queries. */
export interface Evaluation {
  queries: number;
  ndcg10: number;
  recall100: number;
  mrr10: number;
  perQuery: Map<string, { ndcg10: number; recall100: number; mrr10: number }>;
}

/** trec_eval order: score descending, then doc id descending; drops hits whose id equals `qid`. */
export function rankHits(qid: string, hits: readonly RunHit[]): RunHit[] {
  return hits.filter((h) => h.id !== qid).sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** nDCG@k of hits already in rank order (see module comment). */
export function ndcgAt(ranked: readonly RunHit[], rels: ReadonlyMap<string, number>, k: number): number {
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) {
    const rel = rels.get(ranked[i].id) ?? 0;
    if (rel > 0) dcg += rel / Math.log2(i + 2);
  }
  const ideal = [...rels.values()].filter((r) => r > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i] / Math.log2(i + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/** Recall@k of ranked hits: relevant retrieved in the top k / relevant judged (0 when none judged relevant). */
export function recallAt(ranked: readonly RunHit[], rels: ReadonlyMap<string, number>, k: number): number {
  let numRel = 0;
  for (const r of rels.values()) if (r > 0) numRel++;
  if (numRel === 0) return 0;
  let found = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) if ((rels.get(ranked[i].id) ?? 0) > 0) found++;
  return found / numRel;
}

/** Reciprocal rank of the first relevant hit within the top k, else 0. */
export function mrrAt(ranked: readonly RunHit[], rels: ReadonlyMap<string, number>, k: number): number {
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) if ((rels.get(ranked[i].id) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

/** Scores a run against qrels: nDCG@10, Recall@100, MRR@10, averaged over the qrels' queries. */
export function evaluateRun(run: Run, qrels: Qrels): Evaluation {
  const perQuery = new Map<string, { ndcg10: number; recall100: number; mrr10: number }>();
  let sn = 0;
  let sr = 0;
  let sm = 0;
  for (const [qid, rels] of qrels) {
    const ranked = rankHits(qid, run.get(qid) ?? []);
    const q = { ndcg10: ndcgAt(ranked, rels, 10), recall100: recallAt(ranked, rels, 100), mrr10: mrrAt(ranked, rels, 10) };
    perQuery.set(qid, q);
    sn += q.ndcg10;
    sr += q.recall100;
    sm += q.mrr10;
  }
  const n = qrels.size;
  return { queries: n, ndcg10: n ? sn / n : 0, recall100: n ? sr / n : 0, mrr10: n ? sm / n : 0, perQuery };
}

/** Mean over queries of |approx top-k ∩ exact top-k| / min(k, |exact top-k|) (queries with no exact hits skipped). */
export function overlapRecall(approx: Run, exact: Run, k: number): number {
  let sum = 0;
  let n = 0;
  for (const [qid, ex] of exact) {
    const top = ex.slice(0, k);
    if (top.length === 0) continue;
    const got = new Set((approx.get(qid) ?? []).slice(0, k).map((h) => h.id));
    let inter = 0;
    for (const h of top) if (got.has(h.id)) inter++;
    sum += inter / top.length;
    n++;
  }
  return n ? sum / n : 1;
}
