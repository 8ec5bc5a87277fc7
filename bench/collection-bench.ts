/**
 * Product-path search benchmark (`bench/bench-collection.ts`): opens a data dir through the service exactly as
 * `npm start` does (open time reported), then runs synthetic queries (the generator of src/eval/synthetic.ts with
 * the seed that made the collection's documents, so queries follow the same topics) against a vectors-only
 * collection: once with `exact: true` as the oracle, then through the approximate path with the collection's
 * defaults and with given `targetRecall` values. Reports recall@10 against the oracle and the service-side latency
 * (`took.searchMs`, one query at a time on one thread). Complements `npm run bench`, which times the kernel on a
 * forward index it builds itself; this one measures what a user's collection answers.
 */
import { pino } from 'pino';
import type { SparseVector } from '../src/core/sparse-vector.js';
import { openSpladexService } from '../src/search/spladex-service.js';
import type { SearchRequest } from '../src/config/request-schemas.js';
import { latencySummary } from '../src/eval/latency.js';
import { createSyntheticModel, generateQuery } from '../src/eval/synthetic.js';

export interface CollectionBenchOptions {
  dataDir: string;
  collection: string;
  queries: number;
  /** Seed of the synthetic model that generated the documents (scripts/make-vectors.ts `--seed`, default 1). */
  seed: number;
  targetRecalls: number[];
  k: number;
}

export interface CollectionBenchRow {
  setting: string;
  recall: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  docsScored: number;
}

/** Runs the benchmark; `log` receives the report lines. */
export async function runCollectionBench(
  o: CollectionBenchOptions,
  log: (line: string) => void,
): Promise<{ openMs: number; rows: CollectionBenchRow[] }> {
  const t0 = performance.now();
  const service = await openSpladexService({ dataDir: o.dataDir, encodersDir: 'encoders', logger: pino({ level: 'error' }) });
  const openMs = performance.now() - t0;
  try {
    const info = service.getCollection(o.collection);
    log(`opened ${o.dataDir} in ${(openMs / 1000).toFixed(2)} s; collection ${o.collection} stats: ${JSON.stringify(info.stats)}`);
    const model = createSyntheticModel({ seed: o.seed });
    const queries: SparseVector[] = [];
    for (let i = 0; i < o.queries; i++) queries.push(generateQuery(model, i));
    const request = (q: SparseVector, params: SearchRequest['params']): SearchRequest =>
      ({ vector: { indices: Array.from(q.indices), values: Array.from(q.values) }, k: o.k, params }) as SearchRequest;
    const truth: Set<string>[] = [];
    const exactMs: number[] = [];
    for (const q of queries) {
      const r = await service.search(o.collection, request(q, { exact: true }));
      truth.push(new Set(r.hits.map((h) => h.id)));
      exactMs.push(r.took.searchMs);
    }
    const settings: [string, SearchRequest['params']][] = [
      ['collection defaults', {}],
      ...o.targetRecalls.map((t): [string, SearchRequest['params']] => [`targetRecall ${t}`, { targetRecall: t }]),
    ];
    const rows: CollectionBenchRow[] = [];
    const exact = latencySummary(exactMs);
    rows.push({ setting: 'exact: true (oracle)', recall: 1, meanMs: exact.mean, p50Ms: exact.p50, p99Ms: exact.p99, docsScored: 0 });
    for (const [name, params] of settings) {
      // One unmeasured pass warms the JIT and the page cache for this setting.
      for (const q of queries.slice(0, 50)) await service.search(o.collection, request(q, params));
      const ms: number[] = [];
      let hit = 0;
      let total = 0;
      let scored = 0;
      for (let i = 0; i < queries.length; i++) {
        const r = await service.search(o.collection, request(queries[i], params));
        ms.push(r.took.searchMs);
        scored += r.stats.docsScored;
        for (const h of r.hits) if (truth[i].has(h.id)) hit++;
        total += truth[i].size;
      }
      const lat = latencySummary(ms);
      rows.push({
        setting: name,
        recall: total === 0 ? 1 : hit / total,
        meanMs: lat.mean,
        p50Ms: lat.p50,
        p99Ms: lat.p99,
        docsScored: scored / queries.length,
      });
    }
    log('setting                    recall@10  mean_ms  p50_ms  p99_ms  docs_scored');
    for (const r of rows) {
      log(
        `${r.setting.padEnd(26)} ${r.recall.toFixed(4).padStart(9)} ${r.meanMs.toFixed(3).padStart(8)} ${r.p50Ms.toFixed(3).padStart(7)} ${r.p99Ms.toFixed(3).padStart(7)} ${r.docsScored.toFixed(0).padStart(12)}`,
      );
    }
    return { openMs, rows };
  } finally {
    await service.close();
  }
}
