/**
 * The benchmark behind `npm run bench` (DESIGN.md §7): builds a forward index (synthetic SPLADE-like collection, or
 * a JSONL file of pre-encoded vectors) and a Seismic index, then reports build time, bytes per nonzero, index vs
 * forward-index bytes, resident memory, and recall@10 against exact search with mean and p99 single-thread latency
 * for a sweep of (queryCut, heapFactor), next to exact brute force and exact term-at-a-time search timed in the same
 * run; finally calibrates `targetRecall: 0.95` on held-out queries and measures it on the test queries. With
 * `--input FILE --queries FILE [--gt FILE]` (Seismic-style JSONL, bench-input.ts) it runs the user's documents and
 * queries, against their ground truth when given (else the exact oracle), so the qc × hf table compares with their
 * own Seismic runs; the build parameters are printed first. `--cache DIR` keeps a synthetic run's forward index, Seismic
 * index and exact truth for the next run (bench-cache.ts). Next to the sweep it A/Bs, at the cheapest settings
 * reaching 0.90 and 0.95, the half-float ranking against f32 scoring and the quantised-bound filter. Writes JSON and an SVG recall–latency plot to `--out`. Output lines go through the injected `log` (no console here).
 * Callers: bench/bench.ts, the CLI's `bench` command.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import type { SparseVector } from '../core/sparse-vector.js';
import { IndexBuildConfigSchema, type IndexBuildConfig } from '../config/index-config.js';
import { invalidArgument } from '../core/errors.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { buildSeismicIndexParallel } from '../seismic/build-parallel.js';
import { seismicIndexBytes, seismicInWasmMemory } from '../seismic/seismic-index.js';
import { SeismicSearcher } from '../seismic/searcher.js';
import { forwardInWasmMemory } from '../index/wasm-kernels.js';
import { buildQuantisedRows } from '../seismic/quantised-rows.js';
import { bruteForceSearch, buildExactInvertedIndex, ExactTaatSearcher, type ExactResult } from '../seismic/exact.js';
import { measureValueLayouts } from '../seismic/value-layout.js';
import { segmentPostings } from '../seismic/approximate.js';
import { latencySummary } from './latency.js';
import { calibrate, recallOf, sampleDocQueries, withExcluded, type CalibrationQuery } from '../seismic/calibrate.js';
import { buildSyntheticForwardIndex, createSyntheticModel, generateQueries, generateQuery } from './synthetic.js';
import { BenchCache } from './bench-cache.js';
import { readBenchDocs, readBenchQueries, readGroundTruth, truthOrds, type BenchDocs } from './bench-input.js';

/** Parsed command-line options. */
export interface BenchOptions {
  docs: number;
  queries: number;
  /** Query vectors (JSONL, bench-input.ts) instead of synthetic or doc-sampled queries. */
  queriesFile: string | null;
  /** Ground truth for `queriesFile` (bench-input.ts formats); null = the exact oracle computed here. */
  gt: string | null;
  seed: number;
  input: string | null;
  out: string;
  /** Build-config overrides (JSON via --config), on top of the paper defaults. */
  config: Partial<IndexBuildConfig>;
  /** Queries timed for brute force (it is ~100 ms/query at 1M docs). */
  bruteQueries: number;
  /** Worker threads for the per-list build phase (1 = build on the main thread). */
  threads: number;
  /** Directory keeping the synthetic forward index, Seismic index and exact truth between runs (bench-cache.ts). */
  cache: string | null;
}

/** One row of the recall–latency table. */
export interface SweepRow {
  queryCut: number;
  heapFactor: number;
  recall: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  docsScored: number;
}

const SWEEP_CUTS = [1, 2, 3, 5, 8, 10, 15, 20];
const SWEEP_HEAP = [1.0, 0.9, 0.8, 0.7];

/**
 * Parses `--docs N [--queries Q|FILE] [--gt FILE] [--seed S] [--input FILE] [--out DIR] [--config JSON]
 * [--brute-queries B] [--threads T] [--cache DIR]`. `--queries` takes a count or a JSONL file of query vectors (needs
 * `--input`); `--gt` needs a queries file. Throws INVALID_ARGUMENT on anything else.
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    docs: 100_000,
    queries: 1000,
    queriesFile: null,
    gt: null,
    seed: 42,
    input: null,
    out: 'bench-out',
    config: {},
    bruteQueries: 50,
    threads: 2,
    cache: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const num = (): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw invalidArgument(a, `expected a non-negative integer, got ${v}`);
      i++;
      return n;
    };
    const str = (): string => {
      if (v === undefined || v.startsWith('--')) throw invalidArgument(a, 'expected a value');
      i++;
      return v;
    };
    if (a === '--docs') o.docs = num();
    else if (a === '--queries') {
      if (v !== undefined && /^\d+$/.test(v)) o.queries = num();
      else o.queriesFile = str();
    } else if (a === '--gt') o.gt = str();
    else if (a === '--seed') o.seed = num();
    else if (a === '--brute-queries') o.bruteQueries = num();
    else if (a === '--threads') o.threads = Math.max(1, num());
    else if (a === '--input') o.input = str();
    else if (a === '--out') o.out = str();
    else if (a === '--cache') o.cache = str();
    else if (a === '--config') {
      const text = str();
      try {
        o.config = JSON.parse(text) as Partial<IndexBuildConfig>;
      } catch {
        throw invalidArgument(a, `not valid JSON: ${text}`);
      }
    } else
      throw invalidArgument(
        a,
        'unknown option (expected --docs, --queries, --gt, --seed, --input, --out, --config, --brute-queries, --threads, --cache)',
      );
  }
  if (o.queriesFile !== null && o.input === null) throw invalidArgument('--queries', 'a queries file needs --input (the documents)');
  if (o.gt !== null && o.queriesFile === null) throw invalidArgument('--gt', 'ground truth needs --queries FILE');
  if (o.cache !== null && o.input !== null) throw invalidArgument('--cache', 'caches synthetic runs only (not --input)');
  return o;
}

/** Runs the benchmark; returns the JSON summary it also writes to `opts.out`. */
export async function runBench(opts: BenchOptions, log: (line: string) => void): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const cache = opts.cache !== null ? new BenchCache(opts.cache, opts.docs, opts.seed, opts.queries) : null;
  let forward: ForwardIndex;
  let queries: CalibrationQuery[];
  let heldOut: CalibrationQuery[];
  let userQueries: { ids: string[]; vectors: SparseVector[] } | null = null;
  let userDocs: BenchDocs | null = null;
  if (opts.input) {
    log(`reading ${opts.input} ...`);
    userDocs = await readBenchDocs(opts.input, opts.docs, log);
    forward = userDocs.forward;
    if (opts.queriesFile) {
      userQueries = await readBenchQueries(opts.queriesFile, userDocs);
      log(`read ${userQueries.vectors.length} queries from ${opts.queriesFile}`);
      queries = userQueries.vectors.map((vector) => ({ vector, excludeOrd: -1 }));
      heldOut = sampleDocQueries(forward, 128, { seed: opts.seed });
    } else {
      const all = sampleDocQueries(forward, opts.queries + 128, { seed: opts.seed });
      queries = all.slice(0, opts.queries);
      heldOut = all.slice(opts.queries);
    }
  } else {
    const model = createSyntheticModel({ seed: opts.seed });
    const cached = cache !== null ? await cache.loadForward() : null;
    if (cached !== null) {
      log(`read ${cached.numDocs} synthetic docs (seed ${opts.seed}) from the cache ${opts.cache}`);
      forward = cached;
    } else {
      log(`generating ${opts.docs} synthetic docs (seed ${opts.seed}) ...`);
      forward = buildSyntheticForwardIndex(model, opts.docs, (d) => log(`  generated ${d} docs`));
      if (cache !== null) await cache.saveForward(forward);
    }
    queries = generateQueries(model, opts.queries).map((vector) => ({ vector, excludeOrd: -1 }));
    heldOut = Array.from({ length: 128 }, (_, i) => ({ vector: generateQuery(model, opts.queries + i), excludeOrd: -1 }));
  }
  const nnz = forward.offsets[forward.numDocs];
  log(
    `forward index: ${forward.numDocs} docs, ${nnz} nnz (${(nnz / Math.max(1, forward.numDocs)).toFixed(1)}/doc), ` +
      `${(performance.now() - t0).toFixed(0)} ms`,
  );

  // The paper's nPostings (4000) is for 8.8M docs; unless --config sets it, scale it with the collection exactly
  // as a sealed segment does (approximate.ts `segmentPostings`: 452 at 1M), so the bench measures what the product
  // builds.
  const defaults = IndexBuildConfigSchema.parse({});
  const config = IndexBuildConfigSchema.parse({
    nPostings: segmentPostings(defaults.nPostings, forward.numDocs),
    ...opts.config,
  });
  log(
    `build parameters: nPostings ${config.nPostings}, centroidFraction ${config.centroidFraction}, summaryEnergy ` +
      `${config.summaryEnergy}, maxFraction ${config.maxFraction}, docCut ${config.docCut}, minClusterSize ` +
      `${config.minClusterSize}, nKnn ${config.nKnn}, seed ${config.seed}`,
  );
  log(`building Seismic index ${JSON.stringify(config)} on ${opts.threads} thread(s) ...`);
  const tb = performance.now();
  const cachedIndex = cache !== null ? await cache.loadIndex(config) : null;
  const index =
    cachedIndex ??
    (await buildSeismicIndexParallel(forward, config, {
      threads: opts.threads,
      onProgress: (p) => log(`  ${p.phase} ${p.done}/${p.total} ${(p.elapsedMs / 1000).toFixed(1)} s`),
    }));
  const buildMs = performance.now() - tb;
  if (cachedIndex !== null) log('read the Seismic index from the cache (build time below is the read)');
  else if (cache !== null) await cache.saveIndex(config, index);
  const forwardBytes = forward.offsets.byteLength + forward.termIds.byteLength + forward.values.byteLength;
  const indexBytes = seismicIndexBytes(index);
  const rssBytes = process.memoryUsage().rss;
  log(
    `build ${(buildMs / 1000).toFixed(1)} s; postings ${index.postingDocs.length}, blocks ${index.summaryMin.length}, ` +
      `summary entries ${index.entryCodes.length}; index ${mb(indexBytes)} = ${(indexBytes / forwardBytes).toFixed(2)}× forward ` +
      `${mb(forwardBytes)}; ${(indexBytes / nnz).toFixed(2)} index bytes/nnz, ${(forwardBytes / nnz).toFixed(2)} forward bytes/nnz; RSS ${mb(rssBytes)}`,
  );

  log('exact oracle (term-at-a-time over unpruned lists) ...');
  const excluded = new Uint32Array((forward.numDocs + 31) >>> 5);
  const taatLat: number[] = [];
  const cachedTruth = cache !== null ? await cache.loadTruth() : null;
  let exactTruth: { ords: Int32Array }[];
  if (cachedTruth !== null) {
    log('read the exact top-10 from the cache (exact TAAT not timed)');
    exactTruth = cachedTruth.map((ords) => ({ ords }));
  } else {
    const taat = new ExactTaatSearcher(buildExactInvertedIndex(forward));
    exactTruth = queries.map((q): ExactResult => {
      const s = performance.now();
      const r = withExcluded(excluded, q.excludeOrd, () => taat.search(q.vector, 10, q.excludeOrd >= 0 ? excluded : null));
      taatLat.push(performance.now() - s);
      return r;
    });
    if (cache !== null) await cache.saveTruth(exactTruth.map((r) => r.ords));
  }
  // Recall is measured against the user's ground truth when given, else against the exact oracle.
  const truth: { ords: Int32Array }[] =
    opts.gt !== null && userQueries !== null && userDocs !== null
      ? truthOrds(userQueries.ids, await readGroundTruth(opts.gt), userDocs.ids, 10).map((ords) => ({ ords }))
      : exactTruth;
  if (opts.gt !== null) {
    let agree = 0;
    for (let i = 0; i < queries.length; i++) {
      agree += recallOf(exactTruth[i].ords, new Set(truth[i].ords), truth[i].ords.length, 10);
    }
    log(`ground truth ${opts.gt}: the exact oracle here reaches recall@10 ${(agree / Math.max(1, queries.length)).toFixed(4)} against it`);
  }
  const bruteLat: number[] = [];
  const bruteScratch = { qDense: new Float32Array(forward.dim), heap: new (await import('../core/top-k.js')).TopK(10) };
  let bruteAgree = 0;
  for (let i = 0; i < Math.min(opts.bruteQueries, queries.length); i++) {
    const q = queries[i];
    const s = performance.now();
    const r = withExcluded(excluded, q.excludeOrd, () =>
      bruteForceSearch(forward, q.vector, 10, q.excludeOrd >= 0 ? excluded : null, bruteScratch),
    );
    bruteLat.push(performance.now() - s);
    bruteAgree += recallOf(r.ords, new Set(exactTruth[i].ords), exactTruth[i].ords.length, 10);
  }
  const brute = latencySummary(bruteLat);
  const exactTaat = latencySummary(taatLat);
  log(
    `brute force: mean ${brute.mean.toFixed(2)} ms, p99 ${brute.p99.toFixed(2)} ms (${bruteLat.length} queries; ` +
      `agreement with TAAT ${(bruteAgree / Math.max(1, bruteLat.length)).toFixed(4)})`,
  );
  log(`exact TAAT:  mean ${exactTaat.mean.toFixed(2)} ms, p99 ${exactTaat.p99.toFixed(2)} ms (${taatLat.length} queries)`);

  // The product scores in wasm over segment files read into wasm memories (index/wasm-kernels.ts): the sweep does
  // too, over copies of the built arrays; `jsScoring` is the same index scored by the JavaScript loops.
  const wasmForward = forwardInWasmMemory(forward);
  // The rows and the block summaries in one memory, as seismic.bin is read (the summary kernel reads both there).
  const wasmRows = seismicInWasmMemory(index);
  const wasmIndex = wasmRows?.index ?? index;
  const searcher = new SeismicSearcher(wasmForward, wasmIndex, { halfRowsMemory: wasmRows?.memory });
  const jsScoring = new SeismicSearcher(forward, index, { wasm: false });
  const truthSets = truth.map((t) => new Set(t.ords));
  log(
    `load average (1/5/15 min) before the sweep: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${cpus().length} cores`,
  );
  // Several searchers on the same queries take turns per query, first one then the next (rotating who goes first),
  // so an A/B sees the same machine state: this 2-core box is shared and a sequential A then B drifted by ±20%.
  // `split`: instead, in round j query i goes to searcher (i + j) mod m, so no searcher finds a query's rows in cache
  // from the one before it (an A/B of how the rows are read from memory).
  const measureMany = (queryCut: number, heapFactor: number, searchers: readonly SeismicSearcher[], split = false): SweepRow[] => {
    const m = searchers.length;
    const lat: number[][] = searchers.map(() => []);
    const recall = new Float64Array(m);
    const docs = new Float64Array(m);
    for (let i = 0; i < queries.length * (split ? m : 1); i++) {
      const qi = i % queries.length;
      const q = queries[qi];
      const ex = q.excludeOrd >= 0 ? excluded : null;
      if (ex) ex[q.excludeOrd >>> 5] |= 1 << (q.excludeOrd & 31);
      for (let j = 0; j < (split ? 1 : m); j++) {
        const w = split ? (qi + Math.floor(i / queries.length)) % m : (i + j) % m;
        const s = performance.now();
        const r = searchers[w].search(q.vector, { k: 10, queryCut, heapFactor, nKnn: 0, excluded: ex });
        lat[w].push(performance.now() - s);
        recall[w] += recallOf(r.ords, truthSets[qi], truth[qi].ords.length, 10);
        docs[w] += r.docsScored;
      }
      if (ex) ex[q.excludeOrd >>> 5] &= ~(1 << (q.excludeOrd & 31));
    }
    return searchers.map((_, w) => {
      const st = latencySummary(lat[w]);
      const n = queries.length;
      return { queryCut, heapFactor, recall: recall[w] / n, meanMs: st.mean, p50Ms: st.p50, p99Ms: st.p99, docsScored: docs[w] / n };
    });
  };
  const measure = (queryCut: number, heapFactor: number, with_: SeismicSearcher = searcher): SweepRow =>
    measureMany(queryCut, heapFactor, [with_])[0];
  measure(10, 0.9); // warm-up (JIT, caches)
  const rows: SweepRow[] = [];
  log('queryCut heapFactor recall@10  mean_ms   p50_ms  p99_ms  docs_scored');
  for (const qc of SWEEP_CUTS) {
    for (const hf of SWEEP_HEAP) {
      const r = measure(qc, hf);
      rows.push(r);
      log(
        `${String(qc).padStart(8)} ${hf.toFixed(2).padStart(10)} ${r.recall.toFixed(4).padStart(9)} ${r.meanMs.toFixed(3).padStart(8)} ${r.p50Ms.toFixed(3).padStart(8)} ` +
          `${r.p99Ms.toFixed(3).padStart(7)} ${r.docsScored.toFixed(0).padStart(12)}`,
      );
    }
  }
  const cheapest = (target: number): SweepRow | null =>
    rows.filter((r) => r.recall >= target).sort((a, b) => a.meanMs - b.meanMs)[0] ?? null;
  const at95 = cheapest(0.95);
  const at90 = cheapest(0.9);
  // The quantised-bound candidate filter (quantised-rows.ts, off in the product) against exact scoring of every
  // candidate, same run, both in JavaScript (the bound filter has no wasm kernel).
  const bounded = new SeismicSearcher(forward, index, { quantisedRows: buildQuantisedRows(forward) });
  const boundAb: { queryCut: number; heapFactor: number; withBoundMs: number; exactOnlyMs: number }[] = [];
  for (const r of [at90, at95]) {
    if (r === null) continue;
    measureMany(r.queryCut, r.heapFactor, [bounded, jsScoring]);
    const [a, b] = measureMany(r.queryCut, r.heapFactor, [bounded, jsScoring]);
    boundAb.push({ queryCut: r.queryCut, heapFactor: r.heapFactor, withBoundMs: a.meanMs, exactOnlyMs: b.meanMs });
    log(
      `qc ${r.queryCut} hf ${r.heapFactor}: candidate bound filter ${a.meanMs.toFixed(3)} ms mean, exact scoring of every ` +
        `candidate ${b.meanMs.toFixed(3)} ms (recall ${a.recall.toFixed(4)} / ${b.recall.toFixed(4)})`,
    );
  }

  // Half-float ranking in wasm (the product's, when the index carries rows: rows from the first candidate,
  // searcher.ts ROWS_FROM_PER_K), the rule before it (a query's first 24·k candidates in f32, rows after), and f32
  // scoring in wasm.
  const f32Only = new SeismicSearcher(wasmForward, index, { halfRows: false });
  const f32First = new SeismicSearcher(wasmForward, wasmIndex, { halfRowsMemory: wasmRows?.memory, rowsFromDocs: 240 });
  const halfAb: {
    queryCut: number;
    heapFactor: number;
    halfMs: number;
    f32FirstMs: number;
    f32Ms: number;
    halfRecall: number;
    f32Recall: number;
  }[] = [];
  if (index.halfRows) {
    for (const r of [at90, at95]) {
      if (r === null) continue;
      measureMany(r.queryCut, r.heapFactor, [searcher, f32First, f32Only]);
      const [a, c, b] = measureMany(r.queryCut, r.heapFactor, [searcher, f32First, f32Only]);
      halfAb.push({
        queryCut: r.queryCut,
        heapFactor: r.heapFactor,
        halfMs: a.meanMs,
        f32FirstMs: c.meanMs,
        f32Ms: b.meanMs,
        halfRecall: a.recall,
        f32Recall: b.recall,
      });
      log(
        `qc ${r.queryCut} hf ${r.heapFactor}: half-float ranking ${a.meanMs.toFixed(3)} ms mean, the first 240 docs in ` +
          `f32 ${c.meanMs.toFixed(3)} ms, f32 scoring ${b.meanMs.toFixed(3)} ms (recall ${a.recall.toFixed(4)} / ` +
          `${c.recall.toFixed(4)} / ${b.recall.toFixed(4)})`,
      );
    }
  }

  // The wasm kernels against the JavaScript loops, same index, same run (the results are equal bit for bit).
  const wasmAb: { queryCut: number; heapFactor: number; wasmMs: number; jsMs: number; wasmRecall: number; jsRecall: number }[] = [];
  for (const r of [at90, at95]) {
    if (r === null) continue;
    measureMany(r.queryCut, r.heapFactor, [searcher, jsScoring]);
    const [a, b] = measureMany(r.queryCut, r.heapFactor, [searcher, jsScoring]);
    wasmAb.push({
      queryCut: r.queryCut,
      heapFactor: r.heapFactor,
      wasmMs: a.meanMs,
      jsMs: b.meanMs,
      wasmRecall: a.recall,
      jsRecall: b.recall,
    });
    log(
      `qc ${r.queryCut} hf ${r.heapFactor}: wasm scoring ${a.meanMs.toFixed(3)} ms mean, JavaScript scoring ${b.meanMs.toFixed(3)} ms ` +
        `(recall ${a.recall.toFixed(4)} / ${b.recall.toFixed(4)})`,
    );
  }

  // The doc kernels' touch pass (index/wasm-kernels.ts) against none, same index, same run (the same scores): at
  // the two cheapest settings and at qc 1 / hf 0.9, where doc scoring is most of a query; each searcher takes every
  // other query, so neither reads rows the other just read.
  const untouched = new SeismicSearcher(wasmForward, wasmIndex, { halfRowsMemory: wasmRows?.memory, touchRows: false });
  const touchAb: { queryCut: number; heapFactor: number; touchMs: number; untouchedMs: number; recall: number }[] = [];
  for (const r of [{ queryCut: 1, heapFactor: 0.9 }, at90, at95]) {
    if (r === null) continue;
    measureMany(r.queryCut, r.heapFactor, [searcher, untouched], true);
    const [a, b] = measureMany(r.queryCut, r.heapFactor, [searcher, untouched], true);
    touchAb.push({ queryCut: r.queryCut, heapFactor: r.heapFactor, touchMs: a.meanMs, untouchedMs: b.meanMs, recall: a.recall });
    log(
      `qc ${r.queryCut} hf ${r.heapFactor}: rows touched before scoring ${a.meanMs.toFixed(3)} ms mean (p50 ${a.p50Ms.toFixed(3)}), ` +
        `untouched ${b.meanMs.toFixed(3)} ms (p50 ${b.p50Ms.toFixed(3)}) (recall ${a.recall.toFixed(4)} / ${b.recall.toFixed(4)})`,
    );
  }

  const layouts = measureValueLayouts(
    forward,
    queries.slice(0, 50).map((q) => q.vector),
  );
  if (layouts !== null)
    log(
      `doc scoring in JavaScript (the fallback loops, not the wasm kernels), random docs, four in lockstep: f32 forward ` +
        `index ${layouts.f32NsPerDoc.toFixed(0)} ns/doc, half-float rows ` +
        `${layouts.halfRowsNsPerDoc.toFixed(0)} ns/doc (max relative rounding of a weight ${layouts.maxRelError.toExponential(1)})`,
    );

  const tc = performance.now();
  const cal = calibrate(forward, index, heldOut, 0.95, 10);
  const calMs = performance.now() - tc;
  const calMeasured = measure(cal.queryCut, cal.heapFactor);
  log(
    `calibrate(target 0.95) on ${heldOut.length} held-out queries in ${(calMs / 1000).toFixed(1)} s → queryCut ${cal.queryCut}, ` +
      `heapFactor ${cal.heapFactor}, estimated ${cal.estimatedRecall.toFixed(4)} (95% lower bound ${cal.recallLowerBound.toFixed(4)}); measured on test queries ${calMeasured.recall.toFixed(4)} ` +
      `(mean ${calMeasured.meanMs.toFixed(3)} ms)`,
  );
  if (at95)
    log(`cheapest recall ≥ 0.95: ${at95.meanMs.toFixed(3)} ms mean → ${(brute.mean / at95.meanMs).toFixed(0)}× faster than brute force`);
  if (at90) log(`cheapest recall ≥ 0.90: ${at90.meanMs.toFixed(3)} ms mean`);

  const summary = {
    docs: forward.numDocs,
    nnz,
    queries: queries.length,
    seed: opts.seed,
    input: opts.input,
    queriesFile: opts.queriesFile,
    groundTruth: opts.gt,
    config,
    threads: opts.threads,
    buildSeconds: buildMs / 1000,
    forwardBytes,
    indexBytes,
    indexToForward: indexBytes / forwardBytes,
    indexBytesPerNnz: indexBytes / nnz,
    forwardBytesPerNnz: forwardBytes / nnz,
    rssBytes,
    postings: index.postingDocs.length,
    blocks: index.summaryMin.length,
    summaryEntries: index.entryCodes.length,
    bruteForce: brute,
    exactTaat,
    sweep: rows,
    cheapestAt95: at95,
    cheapestAt90: at90,
    speedupVsBruteAt95: at95 ? brute.mean / at95.meanMs : null,
    calibration: { ...cal, seconds: calMs / 1000, measured: calMeasured },
    valueLayouts: layouts,
    boundFilter: boundAb,
    halfRowsAb: halfAb,
    wasmAb,
    touchAb,
    node: process.version,
    loadAverageAtEnd: loadavg(),
  };
  mkdirSync(opts.out, { recursive: true });
  const base = join(opts.out, `bench-${forward.numDocs}`);
  writeFileSync(`${base}.json`, JSON.stringify(summary, null, 2));
  writeFileSync(`${base}.svg`, renderSvg(rows, brute.mean, exactTaat.mean, `${forward.numDocs} docs`));
  log(`wrote ${base}.json and ${base}.svg`);
  return summary;
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Recall (y) against mean latency (x, log scale) for each queryCut, with the exact baselines as vertical lines. */
function renderSvg(rows: SweepRow[], bruteMs: number, taatMs: number, title: string): string {
  const W = 720;
  const H = 440;
  const L = 60;
  const R = 20;
  const T = 40;
  const B = 50;
  const xs = [...rows.map((r) => r.meanMs), bruteMs, taatMs].filter((x) => x > 0);
  const xmin = Math.log10(Math.min(...xs) * 0.8);
  const xmax = Math.log10(Math.max(...xs) * 1.25);
  const ymin = Math.min(0.5, ...rows.map((r) => r.recall)) - 0.02;
  const px = (ms: number): number => L + ((Math.log10(ms) - xmin) / (xmax - xmin)) * (W - L - R);
  const py = (rec: number): number => T + (1 - (rec - ymin) / (1.0 + 0.01 - ymin)) * (H - T - B);
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">Seismic recall@10 vs mean latency (${title})</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">mean latency per query (ms, log scale)</text>`,
    `<text x="15" y="${H / 2}" transform="rotate(-90 15 ${H / 2})" text-anchor="middle">recall@10</text>`,
  ];
  for (let e = Math.ceil(xmin); e <= Math.floor(xmax); e++) {
    parts.push(
      `<line x1="${px(10 ** e)}" y1="${H - B}" x2="${px(10 ** e)}" y2="${H - B + 5}" stroke="black"/>`,
      `<text x="${px(10 ** e)}" y="${H - B + 18}" text-anchor="middle">${10 ** e}</text>`,
    );
  }
  for (let y = Math.ceil(ymin * 20) / 20; y <= 1.0001; y += 0.05) {
    parts.push(
      `<line x1="${L - 5}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#eee"/>`,
      `<text x="${L - 8}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(2)}</text>`,
    );
  }
  for (const [ms, name] of [
    [bruteMs, 'brute force'],
    [taatMs, 'exact TAAT'],
  ] as const) {
    if (ms <= 0) continue;
    parts.push(
      `<line x1="${px(ms)}" y1="${T}" x2="${px(ms)}" y2="${H - B}" stroke="#888" stroke-dasharray="4 3"/>`,
      `<text x="${px(ms) - 4}" y="${T + 12}" text-anchor="end" fill="#555">${name}</text>`,
    );
  }
  const cuts = [...new Set(rows.map((r) => r.queryCut))];
  cuts.forEach((qc, i) => {
    const pts = rows.filter((r) => r.queryCut === qc).sort((a, b) => a.meanMs - b.meanMs);
    const c = colors[i % colors.length];
    parts.push(`<polyline fill="none" stroke="${c}" points="${pts.map((r) => `${px(r.meanMs)},${py(r.recall)}`).join(' ')}"/>`);
    for (const r of pts)
      parts.push(
        `<circle cx="${px(r.meanMs)}" cy="${py(r.recall)}" r="3" fill="${c}"><title>queryCut ${qc}, heapFactor ${r.heapFactor}: ${r.recall.toFixed(3)} @ ${r.meanMs.toFixed(3)} ms</title></circle>`,
      );
    parts.push(`<text x="${W - R - 90}" y="${H - B - 10 - 16 * i}" fill="${c}">queryCut ${qc}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
