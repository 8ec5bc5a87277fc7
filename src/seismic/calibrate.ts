/**
 * Recall calibration (DESIGN.md §5 "Auto-tuning"): picks the cheapest (queryCut, heapFactor) whose recall@k
 * against the exact brute-force oracle on sample queries reaches a target with one-sided 95% confidence: the
 * sample mean minus 1.645 standard errors of the per-query recalls must reach it. (Picking on the mean alone sat on
 * the edge: on 1M synthetic docs a mean of 0.963 over 128 queries for target 0.95 measured 0.9425 on 1000 others.)
 * Cost is a deterministic work model (doc entries scored + summary entries read), so the choice does not depend on
 * machine load.
 * For a fixed queryCut recall only grows as heapFactor falls, so each queryCut scans heapFactor downwards and
 * stops at the first setting that reaches the target.
 *
 * Sample queries: real logged queries when the caller has them, else `sampleDocQueries` (top terms of sampled
 * docs, each searched with its own doc excluded, so the trivial self-match does not inflate recall).
 * Runs at seal time: one batched brute-force pass for all sample queries (exact.ts) plus ≤ 12×8 approximate
 * searches per query; seconds on 1M docs.
 * Callers: the segment builder (seal), bench-runner.ts, tests.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import { topTerms } from '../core/sparse-vector.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { docVector } from '../index/forward-index.js';
import { bruteForceBatch, type ExactResult } from './exact.js';
import { Rng } from '../core/rng.js';
import type { SeismicIndex } from './seismic-index.js';
import { SeismicSearcher } from './searcher.js';

/** A sample query; `excludeOrd` (≥ 0) is a doc to leave out of both oracle and approximate results. */
export interface CalibrationQuery {
  vector: SparseVector;
  excludeOrd: number;
}

/** Outcome of calibration. `estimatedRecall` is the sample mean recall@k at the chosen setting. */
export interface CalibrationResult {
  queryCut: number;
  heapFactor: number;
  estimatedRecall: number;
  /** One-sided 95% lower confidence bound of the recall: mean − 1.645 · standard error over the sample queries. */
  recallLowerBound: number;
  /** Mean work per query at the chosen setting (model units). */
  cost: number;
  /**
   * False when no setting's lower bound reached the target; then the cheapest setting whose mean does is returned,
   * else the most accurate one.
   */
  reached: boolean;
}

/** z of a one-sided 95% bound. */
const CONFIDENCE_Z = 1.645;

export const CALIBRATION_QUERY_CUTS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30];
export const CALIBRATION_HEAP_FACTORS = [1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5];

/**
 * `n` queries made of the top `terms` terms of docs sampled (seeded, without replacement) from the forward index,
 * each excluding its own doc.
 */
export function sampleDocQueries(forward: ForwardIndex, n: number, opts: { seed: number; terms?: number }): CalibrationQuery[] {
  const rng = new Rng(opts.seed);
  const count = Math.min(n, forward.numDocs);
  const chosen = new Set<number>();
  const out: CalibrationQuery[] = [];
  while (out.length < count) {
    const d = rng.int(forward.numDocs);
    if (chosen.has(d)) continue;
    chosen.add(d);
    if (forward.offsets[d + 1] === forward.offsets[d]) continue;
    out.push({ vector: topTerms(docVector(forward, d), opts.terms ?? 43), excludeOrd: d });
    if (chosen.size >= forward.numDocs) break;
  }
  return out;
}

/** Targets calibrated at seal time (`withCalibration`); a request's target maps to the smallest row ≥ it. */
export const DEFAULT_CALIBRATION_TARGETS = [0.8, 0.85, 0.9, 0.95, 0.97, 0.99];

/**
 * Chooses (queryCut, heapFactor). `sampleQueries` may be plain vectors (nothing excluded) or CalibrationQuery
 * objects; an empty sample gets 64 doc-derived queries. `truth` (exact top-k per query) may be passed when the
 * caller has it, else one batched brute-force pass computes it.
 */
export function calibrate(
  forward: ForwardIndex,
  index: SeismicIndex,
  sampleQueries: readonly (SparseVector | CalibrationQuery)[],
  targetRecall: number,
  k = 10,
  opts: { truth?: readonly ExactResult[]; seed?: number } = {},
): CalibrationResult {
  return calibrateTable(forward, index, sampleQueries, [targetRecall], k, opts)[0];
}

/** `calibrate` for several targets at once (one grid evaluation), results in the order of `targets`. */
export function calibrateTable(
  forward: ForwardIndex,
  index: SeismicIndex,
  sampleQueries: readonly (SparseVector | CalibrationQuery)[],
  targets: readonly number[],
  k = 10,
  opts: { truth?: readonly ExactResult[]; seed?: number } = {},
): CalibrationResult[] {
  const qs: CalibrationQuery[] =
    sampleQueries.length > 0
      ? sampleQueries.map((q) => ('vector' in q ? q : { vector: q, excludeOrd: -1 }))
      : sampleDocQueries(forward, 64, { seed: opts.seed ?? 1 });
  const excluded = new Uint32Array((forward.numDocs + 31) >>> 5);
  const truth: ExactResult[] = opts.truth
    ? [...opts.truth]
    : bruteForceBatch(
        forward,
        qs.map((q) => q.vector),
        k,
        qs.map((q) => q.excludeOrd),
      );
  const searcher = new SeismicSearcher(forward, index);
  const avgNnz = forward.numDocs > 0 ? forward.offsets[forward.numDocs] / forward.numDocs : 0;
  const truthSets = truth.map((t) => new Set(t.ords));
  const maxTarget = Math.max(...targets);

  const grid: CalibrationResult[] = [];
  for (const queryCut of CALIBRATION_QUERY_CUTS) {
    for (const heapFactor of CALIBRATION_HEAP_FACTORS) {
      let recall = 0;
      let recallSq = 0;
      let cost = 0;
      for (let i = 0; i < qs.length; i++) {
        const q = qs[i];
        const r = withExcluded(excluded, q.excludeOrd, () =>
          searcher.search(q.vector, { k, queryCut, heapFactor, nKnn: 0, excluded: q.excludeOrd >= 0 ? excluded : null }),
        );
        const ri = recallOf(r.ords, truthSets[i], truth[i].ords.length, k);
        recall += ri;
        recallSq += ri * ri;
        cost += r.docsScored * avgNnz + searcher.lastSummaryEntries;
      }
      const n = Math.max(1, qs.length);
      const mean = recall / n;
      const variance = n > 1 ? Math.max(0, (recallSq - n * mean * mean) / (n - 1)) : 0;
      const res: CalibrationResult = {
        queryCut,
        heapFactor,
        estimatedRecall: mean,
        recallLowerBound: mean - CONFIDENCE_Z * Math.sqrt(variance / n),
        cost: cost / n,
        reached: true,
      };
      grid.push(res);
      if (res.recallLowerBound >= maxTarget) break; // lower heapFactors only cost more for this queryCut
    }
  }
  let mostAccurate = grid[0];
  for (const g of grid) {
    if (
      g.estimatedRecall > mostAccurate.estimatedRecall ||
      (g.estimatedRecall === mostAccurate.estimatedRecall && g.cost < mostAccurate.cost)
    )
      mostAccurate = g;
  }
  const cheapest = (ok: (g: CalibrationResult) => boolean): CalibrationResult | null => {
    let best: CalibrationResult | null = null;
    for (const g of grid) if (ok(g) && (!best || g.cost < best.cost)) best = g;
    return best;
  };
  return targets.map((target) => {
    const confident = cheapest((g) => g.recallLowerBound >= target);
    if (confident) return confident;
    return { ...(cheapest((g) => g.estimatedRecall >= target) ?? mostAccurate), reached: false };
  });
}

/**
 * Returns `index` with a calibration table for `DEFAULT_CALIBRATION_TARGETS` (stored in the `seismic.calibration`
 * section; read back with `tunedParams`), on `opts.queries` when given (real sample queries, e.g. those passed to
 * optimize; nothing excluded), else on 64 doc-derived queries. Doc-derived queries are flatter than real SPLADE
 * queries, so their table over-delivers (1M synthetic docs: target 0.95 picked queryCut 6, measured 0.996).
 * Seal-time cost: one batched brute-force pass plus the grid's approximate searches per sample query (≈ 5 s at 1M
 * docs for 64 queries, well under a second at 20k).
 */
export function withCalibration(
  forward: ForwardIndex,
  index: SeismicIndex,
  opts: { seed?: number; queries?: readonly SparseVector[] } = {},
): SeismicIndex {
  if (forward.numDocs === 0) return index;
  const targets = DEFAULT_CALIBRATION_TARGETS;
  const rows = calibrateTable(forward, index, opts.queries ?? [], targets, 10, { seed: opts.seed ?? 1 });
  const table = new Float64Array(targets.length * 4);
  rows.forEach((r, i) => table.set([targets[i], r.queryCut, r.heapFactor, r.estimatedRecall], i * 4));
  return { ...index, calibration: table };
}

/** recall@k of `got` against the exact set (|exact| may be < k when few docs match). */
export function recallOf(got: Int32Array, exact: Set<number>, exactCount: number, k: number): number {
  const denom = Math.min(k, exactCount);
  if (denom === 0) return 1;
  let hit = 0;
  for (let i = 0; i < got.length && i < k; i++) if (exact.has(got[i])) hit++;
  return hit / denom;
}

/**
 * Runs `fn` with doc `ord` marked in the exclusion bitset `bits` (one bit per ord), and clears the bit afterwards,
 * also when `fn` throws; `ord < 0` means no exclusion. Used by calibration and the benchmark.
 */
export function withExcluded<T>(bits: Uint32Array, ord: number, fn: () => T): T {
  if (ord < 0) return fn();
  bits[ord >>> 5] |= 1 << (ord & 31);
  try {
    return fn();
  } finally {
    bits[ord >>> 5] &= ~(1 << (ord & 31));
  }
}
