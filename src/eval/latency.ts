/**
 * Latency summaries for the evaluation reports (BEIR runner, Seismic bench, collection bench): mean and
 * nearest-rank percentiles of a sample in milliseconds. Callers: beir-runner.ts, bench-runner.ts,
 * collection-bench.ts.
 */

/** Mean, p50 and p99 (nearest rank: the smallest sample with at least p% of the samples at or below it); all 0 when empty. */
export function latencySummary(xs: readonly number[]): { mean: number; p50: number; p99: number } {
  if (xs.length === 0) return { mean: 0, p50: 0, p99: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: rank(50), p99: rank(99) };
}
