/**
 * The fixed per-query cost of an approximate search (issue 14): `npx tsx bench/bench-fixed-cost.ts [--docs 50000]
 * [--queries 2000] [--query-cut 1] [--heap-factor 0.9] [--data DIR]`. Builds (or reopens, with `--data` pointing at
 * a directory it made before) a vectors-only collection of synthetic SPLADE-like documents sealed into one
 * segment, then times queries with a tiny queryCut through the path a REST search with a pre-encoded vector takes
 * (`service.search`, the server's `took.encodeMs` and `took.searchMs`), and each stage of it on its own, the same
 * queries in the same process: vector building (`resolveVector`), the whole store search, the memtable, the
 * query's remap to segment-local ids, and the Seismic kernel alone (`searcher.search`), also without its half-float
 * rows (f32 scoring; the same as the kernel on a format-1 data dir), and with JavaScript instead of wasm scoring
 * loops. The differences are the
 * per-segment bookkeeping and hit hydration. Reaches into the collection's store through casts (a benchmark, not
 * an API). Prints one table of mean and p50 microseconds per stage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { SparseVector } from '../src/core/sparse-vector.js';
import type { SearchRequest } from '../src/config/request-schemas.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { resolveVector } from '../src/search/vector-input.js';
import { createSyntheticModel, generateQuery, syntheticDocs } from '../src/eval/synthetic.js';
import { IdTopK } from '../src/index/id-top-k.js';
import type { ForwardIndex } from '../src/index/forward-index.js';
import { SeismicSearcher } from '../src/seismic/searcher.js';
import type { SeismicIndex } from '../src/seismic/seismic-index.js';
import { segmentReader, type LiveSegment } from '../src/segment/live-segment.js';
import type { Memtable } from '../src/segment/memtable.js';
import type { CollectionStore, StoreSearchOptions } from '../src/storage/store-types.js';

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '50000' },
    queries: { type: 'string', default: '2000' },
    'query-cut': { type: 'string', default: '1' },
    'heap-factor': { type: 'string', default: '0.9' },
    data: { type: 'string' },
  },
});
const numDocs = Number(values.docs);
const nQueries = Number(values.queries);
const queryCut = Number(values['query-cut']);
const heapFactor = Number(values['heap-factor']);
const NAME = 'fixed';
const DIM = 30522;

const keep = values.data !== undefined;
const dataDir = values.data ?? mkdtempSync(join(tmpdir(), 'spladex-fixed-'));
const model = createSyntheticModel({ seed: 1 });
let service: SpladexService = await open();
try {
  if (!service.listCollections().collections.some((c) => c.name === NAME)) {
    const t0 = performance.now();
    await service.createCollection(NAME, { encoder: 'none', dim: DIM });
    let batch: { id: string; vector: { indices: number[]; values: number[] } }[] = [];
    for (const d of syntheticDocs(model, numDocs)) {
      batch.push({ id: d.id, vector: { indices: Array.from(d.vector.indices), values: Array.from(d.vector.values) } });
      if (batch.length === 2000) {
        await service.upsertDocuments(NAME, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await service.upsertDocuments(NAME, batch);
    await service.optimize(NAME);
    process.stdout.write(`built ${numDocs} docs into ${dataDir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    // Reopen, as a server would after a restart: segments mapped from disk, an empty memtable.
    await service.close();
    service = await open();
  }
  await run(service);
} finally {
  await service.close();
  if (!keep) rmSync(dataDir, { recursive: true, force: true });
}

async function open(): Promise<SpladexService> {
  return openSpladexService({ dataDir, encodersDir: 'encoders', logger: pino({ level: 'error' }) });
}

async function run(svc: SpladexService): Promise<void> {
  const collection = (
    svc as unknown as { collections: Map<string, { store: CollectionStore; binding: { vocab: unknown } }> }
  ).collections.get(NAME);
  if (!collection) throw new Error('collection missing');
  const store = collection.store as unknown as { segments: LiveSegment[]; memtable: Memtable; config: { weighting: never } };
  const segs = store.segments;
  process.stdout.write(
    `segments: ${segs.map((s) => s.numDocs).join(', ')} docs; memtable ${store.memtable.size} docs; ` +
      `queryCut ${queryCut}, heapFactor ${heapFactor}, ${nQueries} queries\n`,
  );
  const queries: SparseVector[] = [];
  for (let i = 0; i < nQueries; i++) queries.push(generateQuery(model, i));
  const bodies = queries.map((q) => ({ indices: Array.from(q.indices), values: Array.from(q.values) }));
  const requests = bodies.map((vector) => ({ vector, k: 10, params: { queryCut, heapFactor } }) as SearchRequest);
  const options: StoreSearchOptions = { k: 10, exact: false, queryCut, heapFactor, nKnn: 0, filter: null, withVectors: false };
  const reader = segmentReader(segs[0]);
  const approx = reader.approximate;
  if (approx === null) throw new Error('the segment has no approximate index');
  const locals = queries.map((q) => reader.localQuery(q));
  const top = new IdTopK(10);
  const kernelOpts = { k: 10, queryCut, heapFactor, nKnn: 0, excluded: segs[0].bitset };
  // The same index scored without its half-float rows (searcher.ts), for the A/B of the scoring layout.
  const parts = approx as unknown as { forward: ForwardIndex; index: SeismicIndex };
  const f32Only = new SeismicSearcher(parts.forward, parts.index, { halfRows: false });
  // And scored by the JavaScript loops instead of the wasm kernels (index/wasm-kernels.ts): the same results.
  const jsOnly = new SeismicSearcher(parts.forward, parts.index, { wasm: false });
  process.stdout.write(`half-float rows: ${parts.index.halfRows ? 'yes' : 'no (a format-1 file, or built without them)'}\n`);

  const stages: [string, (i: number) => number | undefined][] = [
    ['service.search: took.searchMs', () => undefined],
    ['service.search: took.encodeMs', () => undefined],
    ['resolveVector (vector building)', (i) => time(() => resolveVector(bodies[i], collection.binding.vocab as never, 'vector'))],
    ['store.search (all sources, no hydration)', (i) => time(() => collection.store.search(queries[i], options))],
    ["store.snapshot() (a cursor's point in time)", () => time(() => collection.store.snapshot())],
    ['memtable.search (empty)', (i) => time(() => store.memtable.search(queries[i], store.config.weighting, 0, top, 0, null))],
    ['reader.localQuery (term remap)', (i) => time(() => reader.localQuery(queries[i]))],
    ['Seismic kernel (searcher.search)', (i) => time(() => approx.search(locals[i], kernelOpts))],
    ['Seismic kernel, f32 scoring (no half rows)', (i) => time(() => f32Only.search(locals[i], kernelOpts))],
    ['Seismic kernel, JavaScript scoring (no wasm)', (i) => time(() => jsOnly.search(locals[i], kernelOpts))],
  ];
  const samples = stages.map(() => [] as number[]);
  // One full pass over the queries per stage, not interleaved per query: a stage run right after another on the
  // same query finds that query's docs in cache and looks cheaper than it is. Two rounds; the first warms the JIT.
  for (let round = 0; round < 2; round++) {
    for (const s of samples) s.length = 0;
    for (let i = 0; i < nQueries; i++) {
      const r = (await svc.search(NAME, requests[i])).took;
      samples[0].push(r.searchMs * 1000);
      samples[1].push(r.encodeMs * 1000);
    }
    for (let j = 2; j < stages.length; j++) for (let i = 0; i < nQueries; i++) samples[j].push((stages[j][1](i) as number) * 1000);
  }
  process.stdout.write(`${'stage'.padEnd(44)} ${'mean µs'.padStart(9)} ${'p50 µs'.padStart(9)}\n`);
  stages.forEach(([name], j) => {
    const a = [...samples[j]].sort((x, y) => x - y);
    const mean = a.reduce((x, y) => x + y, 0) / a.length;
    process.stdout.write(`${name.padEnd(44)} ${mean.toFixed(1).padStart(9)} ${a[a.length >> 1].toFixed(1).padStart(9)}\n`);
  });
}

function time(f: () => unknown): number {
  const s = performance.now();
  f();
  return performance.now() - s;
}
