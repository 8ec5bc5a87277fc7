/**
 * A search worker (started by search-pool.ts through core/worker-thread.ts). It holds the segments the pool has
 * opened on it — kernels rebuilt over the very SharedArrayBuffers the main thread read the files into, so no
 * index byte is copied — with this thread's own scratch, and answers segment searches with segment-search.ts,
 * the function the main thread runs. Messages are handled one at a time in arrival order; the pool relies on it:
 * a `drop` posted after a search is handled after that search, so a segment is never freed under a query.
 *
 * Messages in: `{type: 'open', seg, files}`, `{type: 'drop', seg}`, `{type: 'search', job, query, options,
 * parts: [{seg, deletes}]}`. Out: `{job, parts: (SegmentPartResult | null)[]}` or `{job, error: WireError}`.
 */
import { parentPort } from 'node:worker_threads';
import { TopK } from '../core/top-k.js';
import type { SparseVector } from '../core/sparse-vector.js';
import { toWireError } from '../core/worker-thread.js';
import { segmentKernelsFromFiles, type KernelFiles } from './segment-reader.js';
import { searchSegment, type SegmentPartResult, type SegmentSearchOptions, type SegmentSearchState } from './segment-search.js';

/** Messages the pool sends. */
export type SearchWorkerRequest =
  | { type: 'open'; seg: number; files: KernelFiles }
  | { type: 'drop'; seg: number }
  | {
      type: 'search';
      job: number;
      query: SparseVector;
      options: SegmentSearchOptions;
      parts: Array<{ seg: number; deletes: Uint32Array | null }>;
    };

const port = parentPort;
if (port === null) throw new Error('search-worker.ts must run in a worker thread');
const segments = new Map<number, SegmentSearchState>();
const segTop = new TopK(10);

port.on('message', (m: SearchWorkerRequest) => {
  if (m.type === 'open') {
    try {
      // The main thread's reader built kernels from these very bytes (checked): no second walk of them here.
      segments.set(m.seg, { kernels: segmentKernelsFromFiles(m.files, true), scratch: null });
    } catch {
      // Reported by the first search that needs it (the main thread parsed the same bytes, so this is not expected).
    }
    return;
  }
  if (m.type === 'drop') {
    segments.delete(m.seg);
    return;
  }
  try {
    const parts: Array<SegmentPartResult | null> = [];
    for (const p of m.parts) {
      const state = segments.get(p.seg);
      if (state === undefined) throw new Error(`search worker: segment ${p.seg} is not open`);
      parts.push(searchSegment(state, m.query, p.deletes, m.options, segTop));
    }
    port.postMessage({ job: m.job, parts });
  } catch (e) {
    port.postMessage({ job: m.job, error: toWireError(e) });
  }
});
