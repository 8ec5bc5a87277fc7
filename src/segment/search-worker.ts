/**
 * A search worker (started by search-pool.ts through core/worker-thread.ts). It holds the segments the pool has
 * opened on it — kernels rebuilt over the very SharedArrayBuffers the main thread read the files into, so no
 * index byte is copied — with this thread's own scratch, and answers segment searches with segment-search.ts,
 * the function the main thread runs.
 *
 * Requests come two ways (search-ring.ts): most searches through the shared request ring, everything else as
 * messages. Each carries the pool's sequence number for this worker, and they are handled one at a time in that
 * order; the pool relies on it: a `drop` posted after a search is handled after that search, so a segment is
 * never freed under a query. The thread waits for requests in `Atomics.wait` (which `terminate` interrupts) and
 * returns to its event loop every `YIELD_MS` while busy and after each idle wait, so V8's own tasks still run.
 *
 * Messages in (`workerData.ring`: the ring's buffer): `{type: 'open', seq, seg, files}`, `{type: 'drop', seq,
 * seg}`, `{type: 'search', seq, job, query, options, parts: [{seg, deletes?}]}` (a part's `deletes`, when
 * present, replaces the delete bitset this thread holds for that segment, null at `open`; later searches keep
 * using it; such searches always come as messages). Out: a reply slot, else `{job, parts: (SegmentPartResult |
 * null)[]}`, or `{job, error: WireError}`.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { TopK } from '../core/top-k.js';
import { vectorScratch, type SparseVector } from '../core/sparse-vector.js';
import { toWireError } from '../core/worker-thread.js';
import { segmentKernelsFromFiles, type KernelFiles } from './segment-reader.js';
import { searchSegment, type SegmentPartResult, type SegmentSearchOptions, type SegmentSearchState } from './segment-search.js';
import {
  nextRequestSeq,
  postedCount,
  readRequest,
  releaseRequest,
  searchRingOn,
  waitForRequests,
  writeReply,
  type SearchPart,
} from './search-ring.js';

/** Messages the pool sends; `seq` orders them with the ring's searches. */
export type SearchWorkerRequest =
  | { type: 'open'; seq: number; seg: number; files: KernelFiles }
  | { type: 'drop'; seq: number; seg: number }
  | {
      type: 'search';
      seq: number;
      job: number;
      query: SparseVector;
      options: SegmentSearchOptions;
      parts: SearchPart[];
    };

/** Longest stretch of searches between returns to the event loop, ms. */
const YIELD_MS = 10;
/** Longest `Atomics.wait` of an idle worker before it returns to its event loop, ms. */
const IDLE_WAIT_MS = 1000;

if (parentPort === null) throw new Error('search-worker.ts must run in a worker thread');
const port: MessagePort = parentPort;
const ring = searchRingOn((workerData as { ring: SharedArrayBuffer }).ring);
/** Open segments: their search state and the delete bitset last sent for them. */
const segments = new Map<number, { state: SegmentSearchState; deletes: Uint32Array | null }>();
const segTop = new TopK(10);
/** Messages taken off the port ahead of their turn, by sequence number. */
const early = new Map<number, SearchWorkerRequest>();
/** Requests handled, ring slots read, reply slots written (int32 counters, as the ring's). */
let handled = 0;
let ringTail = 0;
let replies = 0;

function onMessage(m: SearchWorkerRequest): void {
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
  search(m.job, m.query, m.options, m.parts);
}

function search(job: number, query: SparseVector, options: SegmentSearchOptions, parts: readonly SearchPart[]): void {
  try {
    // Every new bitset is taken before any search can throw: the pool counts them as held from now on.
    for (const p of parts) {
      const s = segments.get(p.seg);
      if (s !== undefined && p.deletes !== undefined) s.deletes = p.deletes;
    }
    const out: Array<SegmentPartResult | null> = [];
    for (const p of parts) {
      const s = segments.get(p.seg);
      if (s === undefined) throw new Error(`search worker: segment ${p.seg} is not open`);
      out.push(searchSegment(s.state, query, s.deletes, options, segTop));
    }
    if (writeReply(ring, replies, job, out)) replies = (replies + 1) | 0;
    else port.postMessage({ job, parts: out });
  } catch (e) {
    port.postMessage({ job, error: toWireError(e) });
  }
}

/** Where ring requests' queries are copied (search-ring.ts `readRequest`): one search at a time on this thread. */
const queryScratch = vectorScratch();

/** Handles request number `handled`: the next ring slot or a message, whichever carries it. */
function handleNext(): void {
  let m = early.get(handled);
  if (m === undefined && nextRequestSeq(ring, ringTail) === handled) {
    const r = readRequest(ring, ringTail, queryScratch);
    ringTail = (ringTail + 1) | 0;
    releaseRequest(ring, ringTail);
    search(r.job, r.query, r.options, r.parts);
  } else {
    // A message is queued before POSTED is raised for it, so it is on the port now.
    while (m === undefined) {
      const got = receiveMessageOnPort(port);
      if (got === undefined)
        throw new Error(
          `search worker: request ${handled} is neither in the ring nor on the port (ring slot ${ringTail}: ${nextRequestSeq(ring, ringTail)}, posted ${postedCount(ring)}, early ${[...early.keys()].join(',')})`,
        );
      const next = got.message as SearchWorkerRequest;
      if (next.seq === handled) m = next;
      else early.set(next.seq, next);
    }
    early.delete(handled);
    onMessage(m);
  }
  handled = (handled + 1) | 0;
}

// Messages the port delivers while this thread is in its event loop (between stretches of `serve`) wait here for
// their turn like those taken with `receiveMessageOnPort`; without a listener a started port would drop them.
port.on('message', (m: SearchWorkerRequest) => early.set(m.seq, m));

/** The worker's loop: handle requests as they come, waiting in `Atomics.wait`, yielding now and then. */
function serve(): void {
  const t0 = performance.now();
  while (performance.now() - t0 < YIELD_MS) {
    if (postedCount(ring) === handled) {
      // A wake-up may be the late `notify` of a request already handled: wait again, and only on a timeout yield.
      if (!waitForRequests(ring, handled, IDLE_WAIT_MS)) break;
      continue;
    }
    handleNext();
  }
  setImmediate(serve);
}
serve();
