/**
 * Hybrid sparse + dense score fusion over a candidate set (DESIGN.md §5). The caller (collection.ts) builds the
 * candidates as sparse top-`candidates` ∪ dense top-`candidates` and computes *both* scores of every candidate
 * exactly (both vectors are stored), so fusion here is a pure function of those numbers.
 *
 * Methods:
 * - `convex`: `alpha·norm(sparse) + (1−alpha)·norm(dense)`, norm per side over the candidate set:
 *   - `minmax`: `(s − min) / (max − min)`; when max = min (constant scores, a single candidate) every score maps
 *     to 0: a side without spread carries no ranking information, so the other side decides (no division by 0).
 *   - `zscore`: `(s − mean) / σ` (population σ); σ = 0 maps every score to 0, for the same reason.
 *   - `none`: the raw scores.
 * - `rrf`: `1/(rrfK + rank_sparse) + 1/(rrfK + rank_dense)`, ranks 1-based inside the candidate set, each side
 *   ordered by score descending then id ascending. `alpha` does not apply to rrf.
 *
 * Candidates without a dense vector (`dense: null`, a doc stored without one) get the worst dense value: the
 * smallest normalised dense score present among the candidates (0 when none is present) for convex, and no
 * dense term at all for rrf.
 *
 * Invariants: the output is sorted by fused score descending, ties by id ascending (API.md's rule); with convex,
 * alpha = 1 yields fused = norm(sparse) exactly (so the sparse ranking, minmax/zscore being increasing maps) and
 * alpha = 0 fused = norm(dense) exactly (the dense ranking of the candidates).
 */
import type { HybridParams } from '../config/request-schemas.js';

/** One candidate with both exact scores; `dense` is null when the document has no dense vector. */
export interface FusionCandidate {
  id: string;
  sparse: number;
  dense: number | null;
}

/** A fused candidate: the inputs plus the fused score. */
export interface FusedCandidate extends FusionCandidate {
  fused: number;
}

/** Normalisation of one side's scores over the candidate set. */
export type Normalization = HybridParams['normalization'];

/**
 * Normalises `scores` (NaN = missing) per `kind` (see the file header); missing entries get the smallest
 * normalised present value (0 when none is present). Returns a new array of the same length.
 */
export function normalizeScores(scores: Float64Array, kind: Normalization): Float64Array {
  const out = new Float64Array(scores.length);
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (Number.isNaN(s)) continue;
    n++;
    sum += s;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  if (n === 0) return out;
  // v = (s − shift) / denom; denom 0 means "no spread": every present score maps to 0.
  let shift = 0;
  let denom = 1;
  if (kind === 'minmax') {
    shift = min;
    denom = max - min;
  } else if (kind === 'zscore') {
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < scores.length; i++) if (!Number.isNaN(scores[i])) ss += (scores[i] - mean) * (scores[i] - mean);
    shift = mean;
    // Equal scores can leave a rounding-noise σ (e.g. 1e-17): test the spread itself.
    denom = max > min ? Math.sqrt(ss / n) : 0;
  }
  let worst = Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) continue;
    const v = kind === 'none' ? scores[i] : denom > 0 ? (scores[i] - shift) / denom : 0;
    out[i] = v;
    if (v < worst) worst = v;
  }
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) out[i] = worst;
  return out;
}

/** 1-based ranks of `scores` (NaN = absent → rank 0) ordered by score descending, then id ascending. */
function ranks(ids: readonly string[], scores: Float64Array): Int32Array {
  const order: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!Number.isNaN(scores[i])) order.push(i);
  order.sort((a, b) => scores[b] - scores[a] || compareIds(ids[a], ids[b]));
  const r = new Int32Array(scores.length);
  for (let i = 0; i < order.length; i++) r[order[i]] = i + 1;
  return r;
}

/** Id order of API.md ties (UTF-16 code unit order, as `<` on strings). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Fuses the candidates per `params` and returns them sorted by fused score descending, ties by id ascending.
 * Candidate ids must be unique (the caller merges the two top lists).
 */
export function fuse(candidates: readonly FusionCandidate[], params: HybridParams): FusedCandidate[] {
  const n = candidates.length;
  const ids = candidates.map((c) => c.id);
  const sparse = new Float64Array(n);
  const dense = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    sparse[i] = candidates[i].sparse;
    const d = candidates[i].dense;
    dense[i] = d === null ? NaN : d;
  }
  const fused = new Float64Array(n);
  if (params.method === 'rrf') {
    const rs = ranks(ids, sparse);
    const rd = ranks(ids, dense);
    for (let i = 0; i < n; i++) {
      fused[i] = 1 / (params.rrfK + rs[i]) + (rd[i] > 0 ? 1 / (params.rrfK + rd[i]) : 0);
    }
  } else {
    const ns = normalizeScores(sparse, params.normalization);
    const nd = normalizeScores(dense, params.normalization);
    const a = params.alpha;
    for (let i = 0; i < n; i++) {
      // Exact at the ends: 1·x + 0·y = x and 0·x + 1·y = y in IEEE arithmetic (x, y finite).
      fused[i] = a * ns[i] + (1 - a) * nd[i];
    }
  }
  // At alpha 1 (0) the normalisation is an increasing map of the sparse (dense) scores, but with extreme ranges
  // (denormals) float64 division can merge two distinct scores; the raw score as a secondary key keeps the
  // promised ranking exact. It never reorders distinct fused values.
  const raw = params.method === 'convex' && params.alpha === 1 ? sparse : params.method === 'convex' && params.alpha === 0 ? dense : null;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((x, y) => {
    const d = fused[y] - fused[x];
    if (d !== 0) return d;
    if (raw !== null) {
      const rx = Number.isNaN(raw[x]) ? -Infinity : raw[x];
      const ry = Number.isNaN(raw[y]) ? -Infinity : raw[y];
      if (rx !== ry) return ry > rx ? 1 : -1;
    }
    return compareIds(ids[x], ids[y]);
  });
  return order.map((i) => ({ id: ids[i], sparse: candidates[i].sparse, dense: candidates[i].dense, fused: fused[i] }));
}
