/**
 * Filtered-search benchmark (issue 5 target): on a seeded synthetic SPLADE-like segment (synthetic.ts) with a
 * Seismic index (default build config), compare per query
 * - unfiltered approximate search,
 * - a 10%-selective keyword filter (`in` over 100 of 1,000 buckets): evaluateFilter → excluded bitset → the
 *   Seismic kernel skips excluded docs inside block scoring,
 * - a 0.1%-selective filter (`eq` one bucket): ≤ SELECTIVE_FILTER_MAX_DOCS accepted → exact scoring of the
 *   accepted docs over the forward index (filtered-search.ts),
 * exactly as collection-store.ts runs them per segment (filter evaluation time included in the latency).
 * Recall@10 is against brute force with the same excluded bitset. Bucket of doc d = hash(d) mod 1000, independent
 * of the topic model. Callers: bench/bench-filter.ts.
 */
import { IndexBuildConfigSchema } from '../src/config/index-config.js';
import type { FilterInput } from '../src/config/request-schemas.js';
import { bruteForceSearch } from '../src/index/exact-search.js';
import { filteredExactSearch, SELECTIVE_FILTER_MAX_DOCS } from '../src/filter/filtered-search.js';
import { buildMetadataIndex, clearOrds, countBits, evaluateFilter } from '../src/filter/metadata-index.js';
import { buildSeismicIndex } from '../src/seismic/build.js';
import { segmentPostings } from '../src/seismic/approximate.js';
import { SeismicSearcher } from '../src/seismic/searcher.js';
import { buildSyntheticForwardIndex, createSyntheticModel, generateQueries } from '../src/eval/synthetic.js';

/** Collection size, query count and Seismic query knobs of one benchmark run. */
export interface FilterBenchOptions {
  numDocs: number;
  numQueries?: number;
  seed?: number;
  k?: number;
  queryCut?: number;
  heapFactor?: number;
  log?: (line: string) => void;
}

/** One configuration's recall@10 against filtered brute force and its latency (ms). */
export interface FilterBenchRow {
  name: string;
  acceptedDocs: number;
  recall10: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

function hash32(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs the benchmark; see the file header. */
export function runFilterBench(opts: FilterBenchOptions): { buildMs: number; rows: FilterBenchRow[] } {
  const log = opts.log ?? (() => undefined);
  const k = opts.k ?? 10;
  const model = createSyntheticModel({ seed: opts.seed ?? 42 });
  const t0 = performance.now();
  const forward = buildSyntheticForwardIndex(model, opts.numDocs);
  log(`generated ${opts.numDocs} docs, ${forward.offsets[opts.numDocs]} nnz in ${Math.round(performance.now() - t0)} ms`);
  // nPostings scaled to the collection exactly as a sealed segment does (approximate.ts).
  const defaults = IndexBuildConfigSchema.parse({});
  const config = { ...defaults, nPostings: segmentPostings(defaults.nPostings, opts.numDocs) };
  const tb = performance.now();
  const index = buildSeismicIndex(forward, config);
  const buildMs = performance.now() - tb;
  log(`seismic build ${Math.round(buildMs)} ms`);
  const metas = Array.from({ length: opts.numDocs }, (_, d) => ({ bucket: `b${hash32(d) % 1000}` }));
  const md = buildMetadataIndex(metas, { bucket: 'keyword' });
  const searcher = new SeismicSearcher(forward, index);
  const queries = generateQueries(model, opts.numQueries ?? 200);
  const params = { k, queryCut: opts.queryCut ?? 10, heapFactor: opts.heapFactor ?? 0.9, nKnn: 0 };
  const filters: [string, FilterInput | null][] = [
    ['unfiltered', null],
    ['10% filter (in: 100 buckets)', { must: [{ field: 'bucket', in: Array.from({ length: 100 }, (_, i) => `b${i}`) }] }],
    ['0.1% filter (eq: 1 bucket)', { must: [{ field: 'bucket', eq: 'b7' }] }],
  ];
  const rows: FilterBenchRow[] = [];
  const dense = new Float32Array(forward.dim);
  for (const [name, filter] of filters) {
    const lat: number[] = [];
    let recallSum = 0;
    let accepted = opts.numDocs;
    for (let pass = 0; pass < 2; pass++) {
      // pass 0 warms the JIT; pass 1 is measured
      for (const q of queries) {
        const ts = performance.now();
        let ords: Int32Array;
        let excluded: Uint32Array | null = null;
        if (filter === null) ords = searcher.search(q, { ...params, excluded: null }).ords;
        else {
          excluded = evaluateFilter(md, filter, opts.numDocs);
          accepted = opts.numDocs - countBits(excluded, opts.numDocs);
          if (accepted <= SELECTIVE_FILTER_MAX_DOCS)
            ords = filteredExactSearch(forward, q, clearOrds(excluded, opts.numDocs), k, dense).ords;
          else ords = searcher.search(q, { ...params, excluded }).ords;
        }
        const ms = performance.now() - ts;
        if (pass === 1) {
          lat.push(ms);
          const want = bruteForceSearch(forward, q, k, excluded, dense).ords;
          const got = new Set(ords);
          let inter = 0;
          for (const o of want) if (got.has(o)) inter++;
          recallSum += want.length === 0 ? 1 : inter / want.length;
        }
      }
    }
    const sorted = [...lat].sort((a, b) => a - b);
    const row = {
      name,
      acceptedDocs: accepted,
      recall10: recallSum / queries.length,
      meanMs: lat.reduce((a, b) => a + b, 0) / lat.length,
      p50Ms: pct(sorted, 50),
      p99Ms: pct(sorted, 99),
    };
    log(
      `${name}: accepted ${accepted}, recall@10 ${row.recall10.toFixed(4)}, mean ${row.meanMs.toFixed(2)} ms, p50 ${row.p50Ms.toFixed(2)}, p99 ${row.p99Ms.toFixed(2)}`,
    );
    rows.push(row);
  }
  return { buildMs, rows };
}
