/**
 * A search worker (started by search-pool.ts through core/worker-thread.ts). It holds the segments the pool has
 * opened on it — kernels rebuilt over the very SharedArrayBuffers the main thread read the files into, so no
 * index byte is copied — with this thread's own scratch, and answers segment searches with segment-search.ts,
 * the function the main thread runs. Messages are handled one at a time in arrival order; the pool relies on it:
 * a `drop` posted after a search is handled after that search, so a segment is never freed under a query.
 *
 * Messages in: `{type: 'open', seg, files}`, `{type: 'drop', seg}`, `{type: 'search', job, query, options,
 * parts: [{seg, deletes?}]}` (a part's `deletes`, when present, replaces the delete bitset this thread holds for
 * that segment, null at `open`; later searches keep using it). Out: `{job, parts: (SegmentPartResult | null)[]}`
 * or `{job, error: WireError}`.
 */
import { parentPort } from 'node:worker_threads';
import { TopK } from '../core/top-k.js';
import type { SparseVector } from '../core/sparse-vector.js';
import { toWireError } from '../core/worker-thread.js';
import { segmentKernelsFromFiles, type KernelFiles } from './segment-reader.js';
import { searchSegment, type SegmentPartResult, type SegmentSearchOptions, type SegmentSearchState } from './segment-search.js';

/** A segment of a search, with its new delete bitset (null: nothing deleted) when it changed since the last query here. */
export interface SearchPart {
  seg: number;
  deletes?: Uint32Array | null;
}

/** Messages the pool sends. */
export type SearchWorkerRequest =
  | { type: 'open'; seg: number; files: KernelFiles }
  | { type: 'drop'; seg: number }
  | {
      type: 'search';
      job: number;
      query: SparseVector;
      options: SegmentSearchOptions;
      parts: SearchPart[];
    };

const port = parentPort;
if (port === null) throw new Error('search-worker.ts must run in a worker thread');
/** Open segments: their search state and the delete bitset last sent for them. */
const segments = new Map<number, { state: SegmentSearchState; deletes: Uint32Array | null }>();
const segTop = new TopK(10);

port.on('message', (m: SearchWorkerRequest) => {
  if (m.type === 'open') {
    try {
      // The main thread's reader built kernels from these very bytes (checked): no second walk of them here.
      segments.set(m.seg, { state: { kernels: segmentKernelsFromFiles(m.files, true), scratch: null }, deletes: null });
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
    // Every new bitset is taken before any search can throw: the pool counts them as held from now on.
    for (const p of m.parts) {
      const s = segments.get(p.seg);
      if (s !== undefined && p.deletes !== undefined) s.deletes = p.deletes;
    }
    const parts: Array<SegmentPartResult | null> = [];
    for (const p of m.parts) {
      const s = segments.get(p.seg);
      if (s === undefined) throw new Error(`search worker: segment ${p.seg} is not open`);
      parts.push(searchSegment(s.state, m.query, s.deletes, m.options, segTop));
    }
    port.postMessage({ job: m.job, parts });
  } catch (e) {
    port.postMessage({ job: m.job, error: toWireError(e) });
  }
});
