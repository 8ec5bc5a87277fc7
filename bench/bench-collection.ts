/**
 * `npx tsx bench/bench-collection.ts --data DIR --collection NAME [--queries 1000] [--seed 1] [--k 10]
 * [--target-recall 0.9,0.95]`: recall@10 and latency of a stored vectors-only collection through the service
 * (approximate vs `exact: true`), e.g. one built by `scripts/make-vectors.ts` + `spladex index` + `spladex optimize`.
 * Thin wrapper over bench/collection-bench.ts.
 */
import { parseArgs } from 'node:util';
import { runCollectionBench } from './collection-bench.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    collection: { type: 'string' },
    queries: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    k: { type: 'string', default: '10' },
    'target-recall': { type: 'string', default: '0.9,0.95' },
  },
});
if (values.data === undefined || values.collection === undefined) {
  process.stderr.write(
    'usage: bench-collection.ts --data DIR --collection NAME [--queries N] [--seed S] [--k K] [--target-recall 0.9,0.95]\n',
  );
  process.exit(2);
}
await runCollectionBench(
  {
    dataDir: values.data,
    collection: values.collection,
    queries: Number(values.queries),
    seed: Number(values.seed),
    k: Number(values.k),
    targetRecalls: values['target-recall']
      .split(',')
      .filter((s) => s !== '')
      .map(Number),
  },
  (line) => process.stdout.write(`${line}\n`),
);
