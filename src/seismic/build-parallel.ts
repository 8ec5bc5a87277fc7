/**
 * Parallel Seismic build: the pruning phase runs on the calling thread, the per-list phase (clustering and
 * summaries, ≈95% of the time) on `threads` worker threads pulling contiguous list ranges of about equal postings
 * from a queue (8 ranges per thread, so a slow or busy core does not hold the rest back), then the ranges are
 * concatenated in term order. Output is byte-identical to `buildSeismicIndex` (see build.ts). The forward index,
 * pruned lists and doc heads are shared read-only through SharedArrayBuffers (copied once when not already shared).
 * Callers: the segment builder (seal, off the event loop), bench-runner.ts.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker, workerUrl } from '../core/worker-thread.js';
import type { IndexBuildConfig } from '../config/index-config.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { buildPruningPhase, buildSeismicIndex, finishIndex, type BuildOptions, type BuildProgress, type ListRangeResult } from './build.js';
import type { SeismicIndex } from './seismic-index.js';

/** Builds with `threads` workers (≤ 1 ⇒ on the calling thread). Resolves to the same index as buildSeismicIndex. */
export async function buildSeismicIndexParallel(
  forward: ForwardIndex,
  config: IndexBuildConfig,
  options: BuildOptions & { threads: number },
): Promise<SeismicIndex> {
  if (options.threads <= 1) return buildSeismicIndex(forward, config, options);
  const t0 = performance.now();
  const report = (phase: BuildProgress['phase'], done: number, total: number): void =>
    options.onProgress?.({ phase, done, total, elapsedMs: performance.now() - t0 });
  const { lists, heads } = buildPruningPhase(forward, config, report);
  const dim = forward.dim;
  const shared = {
    forward: {
      numDocs: forward.numDocs,
      dim,
      offsets: share(forward.offsets),
      termIds: share(forward.termIds),
      values: share(forward.values),
    },
    lists: { offsets: share(lists.offsets), docs: share(lists.docs) },
    heads: { docCut: heads.docCut, ids: share(heads.ids), vals: share(heads.vals), count: share(heads.count) },
    config,
  };
  // Contiguous ranges of about equal postings (+1 per list so empty tails still split).
  const nRanges = options.threads * 8;
  const total = lists.offsets[dim] + dim;
  const queue: Array<{ t0: number; t1: number }> = [];
  let start = 0;
  for (let r = 1; r <= nRanges && start < dim; r++) {
    const goal = (total * r) / nRanges;
    let t = start + 1;
    while (t < dim && lists.offsets[t] + t < goal) t++;
    if (r === nRanges) t = dim;
    queue.push({ t0: start, t1: t });
    start = t;
  }
  if (start < dim) queue.push({ t0: start, t1: dim });
  const nJobs = queue.length;
  const results: ListRangeResult[] = [];
  const workers = Array.from({ length: Math.min(options.threads, nJobs) }, () => spawnWorker(shared));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const next = (): void => {
              const job = queue.shift();
              if (!job) {
                resolve();
                return;
              }
              w.postMessage(job);
            };
            w.on('message', (r: ListRangeResult) => {
              results.push(r);
              report(
                'blocks',
                results.reduce((s, x) => s + (x.t1 - x.t0), 0),
                dim,
              );
              next();
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (code !== 0) reject(new Error(`build worker exited with code ${code}`));
            });
            next();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (results.length !== nJobs) throw new Error(`parallel build lost ranges: ${results.length}/${nJobs}`);
  return finishIndex(forward, config, results, report, options);
}

function spawnWorker(workerData: unknown): Worker {
  return startWorker(workerUrl(import.meta.url, './build-worker'), { workerData });
}

function share<T extends Uint8Array | Uint16Array | Uint32Array | Float32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const sab = new SharedArrayBuffer(a.byteLength);
  const C = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new C(sab);
  out.set(a as never);
  return out;
}
