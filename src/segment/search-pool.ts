/**
 * The search worker pool: `threads` worker threads (search-worker.ts) that search sealed segments for the store
 * (storage/store-search.ts `searchViewPooled`), so concurrent searches and the queries of a batch run on every
 * core. One pool per service, shared by its collections; created only for threads ≥ 2 (1 = every search on the
 * event-loop thread, as before).
 *
 * Sharing, zero copies: a resident segment's files are read into SharedArrayBuffers (segment-reader.ts
 * `sharedFiles`); the first query that sends a segment to a worker posts those section views first (`open`), and
 * the worker rebuilds the kernels over the same memory with `segmentKernelsFromFiles` — whatever arrays the
 * segment and Seismic formats define, without this file knowing them. A segment's delete bitset is the frozen
 * SharedArrayBuffer copy of live-segment.ts `publishedDeletes` (a later delete makes a new one); a query carries it
 * to a worker only when it is not the one that worker last got for the segment, and the worker keeps the last one
 * it got. Messages are handled in order, so a worker applies exactly the deletes the main thread saw when it
 * dispatched the query, even if more arrive before the worker gets to it.
 *
 * Channel: a plain search (no filter, no new bitset, within the slot sizes) and its answer go through the worker's
 * shared rings (search-ring.ts), the rest as messages; each request takes the worker's next sequence number and the
 * worker handles them in that order, so "messages" below means both. `watch` reads reply slots while a worker holds
 * queries, waiting with `Atomics.waitAsync`.
 *
 * Lifetimes without races: each worker handles its messages in order, and a query's messages are posted
 * synchronously at dispatch with the view of that instant; `forget` (a segment left the store: merge, close)
 * posts `drop` after them, so a worker never frees a segment a queued query still reads, and no later query names
 * it. Memory is never unmapped under a reader: the arrays live as long as any thread references them.
 *
 * Bounded: a query goes to the least-loaded worker (several idle workers split a multi-segment query between
 * them); a worker holds at most `maxQueuePerThread` queries, beyond which `search` throws BUSY (503 with
 * Retry-After), as the encoder pool does. A query unanswered after `jobTimeoutMs` fails with BUSY and its worker
 * is terminated; a worker that exits or crashes fails its queries with INTERNAL, is logged and is replaced.
 *
 * Inline when unloaded: the trip to a worker and back costs a lone search ~100 µs (issue 14: REST took.searchMs
 * 215 µs at 2 threads vs 105 µs at 1, 50k docs), so `claimInline` tells the store to search on the calling thread
 * when the event loop is plainly unloaded, all three of: (1) no query is in a worker; (2) no inline search ran
 * earlier in this turn of the event loop (cleared by a `setImmediate`), so searches started together — concurrent
 * requests read in one poll, the lanes of a batch — after the first go to the workers; (3) the loop's idle
 * share over the last ~INLINE_WINDOW_MS (an exponential average of `performance.eventLoopUtilization`) is at least
 * INLINE_MIN_IDLE, so a saturated loop (64 connections) keeps its time for HTTP and feeds the workers. "Pool idle"
 * alone is not a load signal: synchronous inline searches keep the pool idle, and under load everything then
 * serialised on the event-loop thread (tried, reverted). Results are the same either way (one search function).
 *
 * A batch keeps one core for the event loop: its lanes send their searches to the first `threads - 1` workers
 * only (`laneWorkers`), and `laneStaysHere` tells a lane to search on the event-loop thread while those workers
 * hold LANE_HERE_SHARE of their lanes (near the batch's end: at least the searches still to be taken), reading the
 * replies written meanwhile (`answerWritten`) after each such search.
 * The event loop parses, hydrates and serialises every search of the batch anyway; with a worker per core beside
 * it, three busy threads shared two cores, the loop waited for a core 35% of the time, and a query cost ~13% more
 * CPU than one searched in place (the trip, the wake-ups). 2 cores, 200k docs, 256-search batches, one client,
 * `bench-threads --interleave`: median 2-thread/1-thread batch QPS ratio 1.47× (5 rounds) with both workers, 1.74×
 * (7 rounds) so, the server using 1.79 cores instead of 1.73; with the end rule 1.75× (7 rounds) and 1.89× (9).
 */
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SparseVector } from '../core/sparse-vector.js';
import { SpladexError } from '../core/errors.js';
import { fromWireError, startWorker, workerUrl, type WireError } from '../core/worker-thread.js';
import { publishedDeletes, segmentReader, type LiveSegment } from './live-segment.js';
import type { SegmentPartResult, SegmentSearchOptions } from './segment-search.js';
import type { SearchWorkerRequest } from './search-worker.js';
import {
  announce,
  createSearchRing,
  notifyReplies,
  readReply,
  repliesAfter,
  replyHead,
  writeRequest,
  type SearchPart,
  type SearchRing,
} from './search-ring.js';

/** Pool settings. */
export interface SearchPoolOptions {
  /** Worker threads, ≥ 1 (the service creates a pool only for ≥ 2). */
  threads: number;
  /** Queries one worker may hold (running + queued) before `search` answers BUSY, ≥ 1. */
  maxQueuePerThread: number;
  /** A query a worker has not answered in this many ms fails with BUSY and the worker is replaced. */
  jobTimeoutMs: number;
  logger: Logger;
  /** Whether `claimInline` and `laneStaysHere` may answer true (default true; false: every search goes to a worker). */
  inline?: boolean;
}

/** Time constant of the event loop's averaged idle share, ms. */
const INLINE_WINDOW_MS = 20;
/** The averaged idle share at or above which an unloaded loop may search inline. */
const INLINE_MIN_IDLE = 0.1;
/**
 * A batch's searches in flight per lane worker, at most half its queue (room for other searches). 2 cores, 2
 * workers, 200k docs, one client sending 256-search batches, QPS of 6 s runs: 2 → 4213, 4333; 4 → 4422–4508;
 * 8 → 4505–4597; 16 → 4623–4845; 32 → 4651, 4892.
 */
const BATCH_LANES_PER_WORKER = 16;
/**
 * The share of its lanes a lane worker holds at or above which a batch lane searches on the event loop
 * (`laneStaysHere`): enough queued that the worker does not run dry while the loop searches one (~150 µs at 200k
 * docs). 2 cores, 200k docs, 16 lanes, 256-search batches: the lane worker was busy 0.72–0.73 of the wall at 8
 * queued, 0.79 at 12 (the rest mostly the wait at each batch boundary).
 */
const LANE_HERE_SHARE = 0.75;

/**
 * The rule of `SearchPool.laneStaysHere`: the lane workers hold `held` queries, `rest` searches of the batch are
 * still to be taken after this one; true when they hold LANE_HERE_SHARE of their lanes, or at least `rest`.
 */
export function laneSearchesHere(held: number, rest: number, lanesPerWorker: number, laneWorkers: number): boolean {
  return held >= rest || held >= Math.ceil(LANE_HERE_SHARE * lanesPerWorker) * laneWorkers;
}

/** Counters for tests and metrics. */
export interface SearchPoolStats {
  threads: number;
  /** Workers started (each starts on the first query sent to it). */
  started: number;
  /** Queries posted and not yet answered, all workers. */
  inFlight: number;
  /** Segments the pool has handed to workers and not forgotten. */
  segments: number;
  /** Workers replaced after a crash or a timeout. */
  replaced: number;
  /** Searches `claimInline` kept on the calling thread. */
  inline: number;
  /** Batch searches `laneStaysHere` kept on the calling thread. */
  laneHere: number;
  /** Searches sent to the workers (`search` calls). */
  pooled: number;
}

interface Job {
  resolve: (parts: Array<SegmentPartResult | null>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Slot {
  index: number;
  worker: Worker;
  jobs: Map<number, Job>;
  /** Set once the pool terminates it on purpose (timeout, close): its exit is then not a crash. */
  ending: boolean;
  /** The worker's shared request and reply rings (search-ring.ts). */
  ring: SearchRing;
  /** The sequence number of the next request to this worker, ring or message (int32, wraps). */
  seq: number;
  /** Reply slots read (int32, wraps). */
  replyTail: number;
  /** Whether `watch` waits for this worker's reply slots. */
  watching: boolean;
}

interface Handle {
  id: number;
  /**
   * Workers that have this segment open, each with the delete bitset it was last sent for it (null at `open`). A
   * query carries a bitset only when it differs: a SharedArrayBuffer in a query's message added ~4 µs of CPU to
   * its round trip (2-core VM, a query's message shapes, 8 in flight: 42–47 µs with one, 40–42 without).
   */
  openOn: Map<Slot, { deletes: Uint32Array | null }>;
}

type WorkerReply = { job: number; parts: Array<SegmentPartResult | null> } | { job: number; error: WireError };

/** A request to a worker, before the pool numbers it. */
type Unnumbered<T> = T extends unknown ? Omit<T, 'seq'> : never;

/** See the file comment. Workers start on the first search. */
export class SearchPool {
  private readonly slots: Array<Slot | null>;
  private readonly handles = new Map<LiveSegment, Handle>();
  private nextSegment = 1;
  private nextJob = 1;
  private replaced = 0;
  private closed = false;
  private inlineCount = 0;
  private laneHereCount = 0;
  private pooledCount = 0;
  /** An inline search ran in this turn of the event loop (cleared by `setImmediate`). */
  private inlineThisTurn = false;
  private readonly endTurn = (): void => {
    this.inlineThisTurn = false;
  };
  /** Averaged idle share of the event loop, and the clock and idle total it was last updated at. */
  private idleShare = 1;
  private shareAt = performance.now();
  private idleAt = performance.eventLoopUtilization().idle;

  constructor(private readonly opts: SearchPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, opts.threads) }, () => null);
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Queries one worker may hold before `search` answers BUSY. */
  get queuePerThread(): number {
    return this.opts.maxQueuePerThread;
  }

  /** The workers a batch's searches go to: all but one, whose core the event loop keeps (see the file comment). */
  get laneWorkers(): number {
    return Math.max(1, this.slots.length - 1);
  }

  /** A batch's searches in flight at once (BATCH_LANES_PER_WORKER per lane worker, at most half its queue). */
  get batchLanes(): number {
    return this.lanesPerWorker() * this.laneWorkers;
  }

  /**
   * Searches `segments` (resident, live docs > 0) for `query` in the workers; resolves to one result per segment,
   * in order (null: nothing of it matches). Everything the workers read is fixed synchronously, before this
   * returns. Only the first `workers` workers take it (a batch lane: `laneWorkers`). Throws BUSY when each of them
   * is full, INTERNAL when the pool is closed.
   */
  search(
    segments: readonly LiveSegment[],
    query: SparseVector,
    options: SegmentSearchOptions,
    workers = this.slots.length,
  ): Promise<Array<SegmentPartResult | null>> {
    if (this.closed) throw new SpladexError('INTERNAL', 'the search pool is closed');
    this.pooledCount++;
    if (segments.length === 1) {
      // One segment (the steady state of an optimized collection): one job on the least-loaded worker, whose
      // answer is the result as it is — no grouping, no Promise.all, no copies (every search pays for these).
      const slot = this.leastLoaded(workers);
      return this.post(slot, query, options, [this.part(slot, segments[0])]);
    }
    const groups = this.assign(segments, workers);
    const out: Array<SegmentPartResult | null> = new Array(segments.length).fill(null);
    const pending = groups.map(({ slot, members }) => {
      const parts = members.map((i) => this.part(slot, segments[i]));
      return this.post(slot, query, options, parts).then((r) => {
        for (let j = 0; j < members.length; j++) out[members[j]] = r[j];
      });
    });
    return Promise.all(pending).then(() => out);
  }

  /**
   * Whether the caller should run this search on its own thread, synchronously, instead of `search` (see the
   * file comment).
   */
  claimInline(): boolean {
    if (this.opts.inline === false || this.inlineThisTurn) return false;
    if (this.inFlight() > 0) return false;
    const now = performance.now();
    const idle = performance.eventLoopUtilization().idle;
    const dt = now - this.shareAt;
    if (dt > 0) {
      const keep = Math.exp(-dt / INLINE_WINDOW_MS);
      this.idleShare = this.idleShare * keep + Math.min(1, (idle - this.idleAt) / dt) * (1 - keep);
      this.shareAt = now;
      this.idleAt = idle;
    }
    if (this.idleShare < INLINE_MIN_IDLE) return false;
    this.inlineCount++;
    this.inlineThisTurn = true;
    setImmediate(this.endTurn);
    return true;
  }

  /**
   * Whether a batch lane should search on the calling thread rather than send the search to `laneWorkers` (see the
   * file comment): they hold LANE_HERE_SHARE of their lanes, or at least the `rest` searches of the batch still to
   * be taken after this one — so near its end the event loop does not wait while a worker works off a full queue.
   * The caller then calls `answerWritten` after the search.
   */
  laneStaysHere(rest: number): boolean {
    if (this.opts.inline === false || !laneSearchesHere(this.inFlight(this.laneWorkers), rest, this.lanesPerWorker(), this.laneWorkers)) {
      return false;
    }
    this.laneHereCount++;
    return true;
  }

  /**
   * Settles every query whose reply a worker has written by now, without waiting for the event loop's next turn:
   * after a search on the event-loop thread, whose lanes go on in microtasks, so the workers are fed meanwhile.
   */
  answerWritten(): void {
    for (const slot of this.slots) if (slot !== null) this.readReplies(slot);
  }

  /** The store no longer searches `segment`: workers drop it after the queries already posted to them. */
  forget(segment: LiveSegment): void {
    const h = this.handles.get(segment);
    if (h === undefined) return;
    this.handles.delete(segment);
    for (const slot of h.openOn.keys()) this.send(slot, { type: 'drop', seg: h.id });
  }

  stats(): SearchPoolStats {
    return {
      threads: this.slots.length,
      started: this.slots.filter((s) => s !== null).length,
      inFlight: this.inFlight(),
      segments: this.handles.size,
      replaced: this.replaced,
      inline: this.inlineCount,
      laneHere: this.laneHereCount,
      pooled: this.pooledCount,
    };
  }

  /** Ends worker `index` the way a crash would (its queries fail with INTERNAL, a new worker takes its place). */
  async terminateWorker(index: number): Promise<void> {
    await this.slots[index]?.worker.terminate();
  }

  /** Fails queries still in flight with INTERNAL and ends every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ends: Promise<number>[] = [];
    for (const slot of this.slots) {
      if (slot === null) continue;
      slot.ending = true;
      this.failAll(slot, new SpladexError('INTERNAL', 'the search pool closed before the search finished'));
      notifyReplies(slot.ring);
      ends.push(slot.worker.terminate());
    }
    this.handles.clear();
    await Promise.all(ends);
  }

  /** Which of the first `workers` workers searches which segments: split over idle ones, else the least loaded. */
  private assign(segments: readonly LiveSegment[], workers: number): Array<{ slot: Slot; members: number[] }> {
    const slots = this.slots.slice(0, workers).map((_, i) => this.slotAt(i));
    const idle = slots.filter((s) => s.jobs.size === 0);
    if (segments.length >= 2 && idle.length >= 2) {
      // Largest segments first, each to the group with the fewest docs so far.
      const groups = idle.slice(0, Math.min(idle.length, segments.length)).map((slot) => ({ slot, members: [] as number[], docs: 0 }));
      const order = segments.map((_, i) => i).sort((a, b) => segments[b].liveDocs - segments[a].liveDocs || a - b);
      for (const i of order) {
        let g = groups[0];
        for (const x of groups) if (x.docs < g.docs) g = x;
        g.members.push(i);
        g.docs += segments[i].liveDocs;
      }
      for (const g of groups) g.members.sort((a, b) => a - b);
      return groups.filter((g) => g.members.length > 0);
    }
    return [{ slot: this.leastLoaded(workers), members: segments.map((_, i) => i) }];
  }

  private lanesPerWorker(): number {
    return Math.max(1, Math.min(BATCH_LANES_PER_WORKER, this.opts.maxQueuePerThread >> 1));
  }

  /** Queries posted to the first `workers` workers (default all) and not yet answered. */
  private inFlight(workers = this.slots.length): number {
    let n = 0;
    for (let i = 0; i < workers; i++) n += this.slots[i]?.jobs.size ?? 0;
    return n;
  }

  /** Of the first `workers` workers, the one with the fewest queries; BUSY when even it holds `maxQueuePerThread`. */
  private leastLoaded(workers: number): Slot {
    let best = this.slotAt(0);
    for (let i = 1; i < workers; i++) {
      const s = this.slotAt(i);
      if (s.jobs.size < best.jobs.size) best = s;
    }
    if (best.jobs.size >= this.opts.maxQueuePerThread) {
      throw new SpladexError('BUSY', `search workers busy (${this.opts.maxQueuePerThread} queries queued on each); retry later`, {
        retryAfterSeconds: 1,
      });
    }
    return best;
  }

  /**
   * `segment` as a part of a query to `slot`: its id there (posting `open`, its shared section views, the first
   * time) and its delete bitset of this instant when it is not the one the worker holds. The worker keeps the last
   * bitset it was sent and handles its messages in order, so every query reads exactly the deletes of its dispatch.
   */
  private part(slot: Slot, segment: LiveSegment): SearchPart {
    let h = this.handles.get(segment);
    if (h === undefined) {
      h = { id: this.nextSegment++, openOn: new Map() };
      this.handles.set(segment, h);
    }
    let on = h.openOn.get(slot);
    if (on === undefined) {
      this.send(slot, { type: 'open', seg: h.id, files: segmentReader(segment).sharedFiles() });
      on = { deletes: null };
      h.openOn.set(slot, on);
    }
    const deletes = publishedDeletes(segment);
    if (deletes === on.deletes) return { seg: h.id };
    on.deletes = deletes;
    return { seg: h.id, deletes };
  }

  private post(
    slot: Slot,
    query: SparseVector,
    options: SegmentSearchOptions,
    parts: SearchPart[],
  ): Promise<Array<SegmentPartResult | null>> {
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(slot, job), this.opts.jobTimeoutMs);
      timer.unref();
      slot.jobs.set(job, { resolve, reject, timer });
      if (slot.jobs.size === 1) slot.worker.ref();
      if (writeRequest(slot.ring, slot.seq, job, query, options, parts)) {
        slot.seq = (slot.seq + 1) | 0;
        announce(slot.ring);
      } else {
        this.send(slot, { type: 'search', job, query, options, parts });
      }
      if (!slot.watching) void this.watch(slot);
    });
  }

  /** Posts `m` to the worker as its next request. */
  private send(slot: Slot, m: Unnumbered<SearchWorkerRequest>): void {
    slot.worker.postMessage({ ...m, seq: slot.seq });
    slot.seq = (slot.seq + 1) | 0;
    announce(slot.ring);
  }

  /**
   * Reads the worker's reply slots as they are written, while it holds queries: waits on the ring's counter without
   * blocking the event loop (`Atomics.waitAsync`), answers every reply written since, and stops once the worker
   * holds none or is retired (`retire` wakes it).
   */
  private async watch(slot: Slot): Promise<void> {
    slot.watching = true;
    for (;;) {
      const head = this.readReplies(slot);
      if (slot.ending || slot.jobs.size === 0) break;
      await repliesAfter(slot.ring, head);
    }
    slot.watching = false;
  }

  /** Answers every reply slot of `slot` written so far; returns the reply counter it read last. */
  private readReplies(slot: Slot): number {
    let head = replyHead(slot.ring);
    while (slot.replyTail !== head) {
      const r = readReply(slot.ring, slot.replyTail);
      slot.replyTail = (slot.replyTail + 1) | 0;
      this.answer(slot, r);
      head = replyHead(slot.ring);
    }
    return head;
  }

  /** Settles the job a worker answered (a reply slot or a message); nothing when it already timed out. */
  private answer(slot: Slot, r: WorkerReply): void {
    const j = slot.jobs.get(r.job);
    if (j === undefined) return;
    slot.jobs.delete(r.job);
    clearTimeout(j.timer);
    if (slot.jobs.size === 0) slot.worker.unref();
    if ('error' in r) j.reject(fromWireError(r.error, 'search worker failed'));
    else j.resolve(r.parts);
  }

  private slotAt(i: number): Slot {
    const existing = this.slots[i];
    if (existing !== null) return existing;
    const ring = createSearchRing(this.opts.maxQueuePerThread);
    const worker = startWorker(workerUrl(import.meta.url, './search-worker'), {
      name: `spladex-search-${i}`,
      workerData: { ring: ring.buffer },
    });
    const slot: Slot = { index: i, worker, jobs: new Map(), ending: false, ring, seq: 0, replyTail: 0, watching: false };
    worker.on('message', (r: WorkerReply) => this.answer(slot, r));
    worker.on('error', (err) => this.opts.logger.error({ err, worker: i }, 'search worker failed'));
    worker.on('exit', (code) => this.exited(slot, code));
    // An idle pool must not keep the process alive (`post` refs a worker while it holds queries).
    worker.unref();
    this.slots[i] = slot;
    return slot;
  }

  private timedOut(slot: Slot, job: number): void {
    const j = slot.jobs.get(job);
    if (j === undefined) return;
    slot.jobs.delete(job);
    j.reject(
      new SpladexError('BUSY', `search: no answer from a search worker within ${this.opts.jobTimeoutMs} ms`, { retryAfterSeconds: 1 }),
    );
    this.opts.logger.error({ worker: slot.index, timeoutMs: this.opts.jobTimeoutMs }, 'search worker timed out; replacing it');
    this.retire(slot, new SpladexError('BUSY', 'search: its search worker timed out and was replaced', { retryAfterSeconds: 1 }));
    void slot.worker.terminate();
  }

  private exited(slot: Slot, code: number): void {
    if (slot.ending) return;
    this.opts.logger.error({ worker: slot.index, code, inFlight: slot.jobs.size }, 'search worker exited; replacing it');
    this.retire(slot, new SpladexError('INTERNAL', `a search worker exited (code ${code}) during the search; it was replaced`));
  }

  /** Takes `slot` out: its queries fail with `err`, its segments are reopened on its successor when needed. */
  private retire(slot: Slot, err: SpladexError): void {
    slot.ending = true;
    this.failAll(slot, err);
    notifyReplies(slot.ring);
    for (const h of this.handles.values()) h.openOn.delete(slot);
    if (this.slots[slot.index] === slot) this.slots[slot.index] = null;
    this.replaced++;
  }

  private failAll(slot: Slot, err: Error): void {
    for (const j of slot.jobs.values()) {
      clearTimeout(j.timer);
      j.reject(err);
    }
    slot.jobs.clear();
  }
}
