/**
 * `npx tsx bench/bench-filter.ts [numDocs=1000000] [numQueries=200]`: thin wrapper over bench/filter-bench.ts
 * — recall@10 and latency of 10%- and 0.1%-selective filtered search vs unfiltered on a synthetic Seismic segment.
 */
import { runFilterBench } from './filter-bench.js';

const [n, q] = process.argv.slice(2);
const r = runFilterBench({
  numDocs: n ? Number(n) : 1_000_000,
  numQueries: q ? Number(q) : 200,
  log: (l) => process.stdout.write(`${l}\n`),
});
process.stdout.write(`${JSON.stringify(r)}\n`);
