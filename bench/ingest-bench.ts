/**
 * Ingest benchmark for the store's write path (WAL encode + group-commit fsync + memtable insert), the path the
 * CLI's bulk indexer takes: N pre-encoded SPLADE-like docs (~120 nnz over a 30,522 vocabulary, Zipf-like term
 * popularity) upserted in batches, no seal until the end (optional). Long-running: not part of `npm test`.
 *
 *   npx tsx bench/ingest-bench.ts [--docs 1000000] [--batch 1000] [--inflight 2] [--seal [--approx]] [--dir DIR]
 *
 * Prints docs/s for the ingest alone (vector generation excluded), WAL bytes per doc, and optionally the seal time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openCollectionStore } from '../src/storage/collection-store.js';
import type { StoreDocument } from '../src/storage/store-types.js';
import { IndexBuildConfigSchema } from '../src/config/index-config.js';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '1000' },
    inflight: { type: 'string', default: '2' },
    seal: { type: 'boolean', default: false },
    approx: { type: 'boolean', default: false },
    dir: { type: 'string' },
  },
});
const nDocs = Number(args.docs);
const batchSize = Number(args.batch);
const inflight = Number(args.inflight);
const DIM = 30522;

let seed = 12345;
function rnd(): number {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 4294967296;
}

function makeBatch(start: number, n: number): StoreDocument[] {
  const out: StoreDocument[] = [];
  const mark = new Uint8Array(DIM);
  for (let i = 0; i < n; i++) {
    const ids: number[] = [];
    while (ids.length < 120) {
      const t = Math.floor(DIM * rnd() ** 2.5); // Zipf-like: low ids popular
      if (mark[t] === 0) {
        mark[t] = 1;
        ids.push(t);
      }
    }
    for (const t of ids) mark[t] = 0;
    ids.sort((a, b) => a - b);
    const values = Float32Array.from(ids, () => 0.05 + 2.5 * rnd() ** 3);
    out.push({ id: `doc-${start + i}`, vector: { indices: Uint32Array.from(ids), values } });
  }
  return out;
}

const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'spladex-ingest-'));
const logger = pino({ level: 'warn' });
const store = await openCollectionStore({
  dir,
  logger,
  config: {
    dim: DIM,
    weighting: { kind: 'none' },
    growableDictionary: false,
    // Without --approx the sealed segment has no Seismic part, so the seal time is the storage engine's own.
    build: IndexBuildConfigSchema.parse(args.approx ? {} : { approximateThreshold: nDocs + 1 }),
    metadataTypes: {},
    memtableMaxDocs: nDocs + 1,
  },
});

// Pre-generate batches so only the store's work is timed (kept to a window to bound memory).
let ingestMs = 0;
let done = 0;
const windowBatches = 50;
for (let w = 0; w < nDocs; w += windowBatches * batchSize) {
  const batches: StoreDocument[][] = [];
  for (let b = 0; b < windowBatches && w + b * batchSize < nDocs; b++) {
    const start = w + b * batchSize;
    batches.push(makeBatch(start, Math.min(batchSize, nDocs - start)));
  }
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const b = batches[next++];
      await store.upsert(b);
      done += b.length;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  ingestMs += performance.now() - t0;
}
const stats = store.stats();
process.stdout.write(
  `ingested ${done} docs (${stats.nnz} nnz) in ${(ingestMs / 1000).toFixed(2)} s = ${Math.round(done / (ingestMs / 1000))} docs/s; ` +
    `WAL ${(stats.bytes / done).toFixed(0)} bytes/doc; heap ${(process.memoryUsage().rss / 2 ** 30).toFixed(2)} GiB rss\n`,
);
const q = makeBatch(0, 1)[0].vector;
const t1 = performance.now();
const r = store.search(
  { indices: q.indices.subarray(0, 40), values: q.values.subarray(0, 40) },
  { k: 10, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 },
);
process.stdout.write(`memtable exact search (40 query terms): ${(performance.now() - t1).toFixed(1)} ms, ${r.docsScored} docs scored\n`);
if (args.seal) {
  const t2 = performance.now();
  const o = await store.optimize();
  process.stdout.write(`seal: ${(performance.now() - t2).toFixed(0)} ms, segments ${o.segments}, bytes ${store.stats().bytes}\n`);
  const t3 = performance.now();
  const r2 = store.search(
    { indices: q.indices.subarray(0, 40), values: q.values.subarray(0, 40) },
    { k: 10, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 },
  );
  process.stdout.write(
    `segment exact search: ${(performance.now() - t3).toFixed(1)} ms (same top hit: ${r2.hits[0]?.id === r.hits[0]?.id})\n`,
  );
}
await store.close();
if (args.dir === undefined) rmSync(dir, { recursive: true, force: true });
