/**
 * The fixed per-query cost of another checkout, for before/after tables (issue 14 acceptance 2):
 * `npx tsx bench/bench-fixed-cost-ab.ts --root DIR --data DIR [--queries 2000]`. Loads `DIR/src` (any checkout
 * of this repository with the service API, e.g. `git worktree add /tmp/base <commit>` with this checkout's
 * node_modules linked in), builds with that checkout's own code a 50k-doc synthetic vectors-only collection into
 * `--data` once (seed 1, as bench-fixed-cost.ts), and prints the mean and p50 of `service.search`'s
 * `took.searchMs` at queryCut 1, heapFactor 0.9, k 10, for two passes after a warm-up pass, with the mean docs
 * scored. Run the roots alternately under `flock /tmp/bench.lock`; each builds its own index (builds differ).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';

const { values } = parseArgs({
  options: { root: { type: 'string' }, data: { type: 'string' }, queries: { type: 'string', default: '2000' } },
});
if (values.root === undefined || values.data === undefined) throw new Error('--root DIR and --data DIR are required');
const root = path.resolve(values.root);
const dataDir = values.data;
const NAME = 'fixed';
const { openSpladexService } = await import(path.join(root, 'src/search/spladex-service.ts'));
const { createSyntheticModel, generateQuery, syntheticDocs } = await import(path.join(root, 'src/eval/synthetic.ts'));
const model = createSyntheticModel({ seed: 1 });
const open = () => openSpladexService({ dataDir, encodersDir: 'encoders', logger: pino({ level: 'error' }) });
let svc = await open();
if (!svc.listCollections().collections.some((c: { name: string }) => c.name === NAME)) {
  await svc.createCollection(NAME, { encoder: 'none', dim: 30522 });
  let batch: unknown[] = [];
  for (const d of syntheticDocs(model, 50000)) {
    batch.push({ id: d.id, vector: { indices: Array.from(d.vector.indices), values: Array.from(d.vector.values) } });
    if (batch.length === 2000) {
      await svc.upsertDocuments(NAME, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await svc.upsertDocuments(NAME, batch);
  await svc.optimize(NAME);
  await svc.close();
  svc = await open();
}
const reqs = Array.from({ length: Number(values.queries) }, (_, i) => {
  const q = generateQuery(model, i);
  return { vector: { indices: Array.from(q.indices), values: Array.from(q.values) }, k: 10, params: { queryCut: 1, heapFactor: 0.9 } };
});
for (let pass = 0; pass < 3; pass++) {
  const us: number[] = [];
  let scored = 0;
  for (const r of reqs) {
    const res = await svc.search(NAME, r);
    us.push(res.took.searchMs * 1000);
    scored += res.stats.docsScored;
  }
  if (pass === 0) continue;
  us.sort((a, b) => a - b);
  const mean = us.reduce((a, b) => a + b, 0) / us.length;
  process.stdout.write(
    `${root} pass ${pass}: took.searchMs mean ${mean.toFixed(1)} µs, p50 ${us[us.length >> 1].toFixed(1)} µs; docs scored ${(scored / reqs.length).toFixed(1)}\n`,
  );
}
await svc.close();
