/**
 * The shared-memory channel between the search pool (search-pool.ts) and one search worker (search-worker.ts):
 * a ring of fixed-size request slots and a ring of reply slots in one SharedArrayBuffer, with counters moved by
 * `Atomics`. A search that fits a slot (no filter, no new delete bitset, at most `RING_MAX_TERMS` query terms
 * and `RING_MAX_PARTS` segments) is written into the next request slot; its answer comes back in a reply slot when
 * it fits `RING_MAX_HITS` hits. Everything else — `open` and `drop`, searches that do not fit, errors — still
 * goes by `postMessage`.
 *
 * Why: a `postMessage` round trip (structured clone of the query and its options, a message event on each side,
 * a fresh typed array per array) cost ~40 µs of CPU per search on the 2-core VM, a tenth of a 200k-doc query,
 * paid only with a pool; through the rings it is a few µs (issue 14: `bench/bench-threads.ts`).
 *
 * Order: every request, whichever way it goes, takes the next sequence number, and the worker handles them in
 * that order: a request is written (slot filled, or message posted) before `POSTED` is raised, so when the worker
 * sees `POSTED` ahead of what it handled, request number `handled` is the next ring slot or a queued message.
 * That keeps the pool's guarantees (an `open` before the searches that use it, a `drop` after them, a delete
 * bitset applied exactly from its query on).
 *
 * Bounded without blocking: either side writes a slot only when the ring has room (the pool sizes the rings to
 * its queue bound, so they do not fill) and otherwise falls back to `postMessage`. Counters are int32 and wrap;
 * ring sizes are powers of two, so `counter & (slots - 1)` stays the slot through the wrap.
 */
import { fitScratch, type SparseVector, type VectorScratch } from '../core/sparse-vector.js';
import type { SegmentPartResult, SegmentSearchOptions } from './segment-search.js';

/** A segment of a search, with its new delete bitset (null: nothing deleted) when it changed since the last query to that worker. */
export interface SearchPart {
  seg: number;
  deletes?: Uint32Array | null;
}

/** Query terms a request slot holds. */
export const RING_MAX_TERMS = 1024;
/** Segments one ring request or reply names. */
export const RING_MAX_PARTS = 16;
/** Hits of all parts one reply slot holds. */
export const RING_MAX_HITS = 512;
/** Slots per ring at most (beyond, searches fall back to messages). */
const MAX_SLOTS = 256;

/** Control words (int32). */
const POSTED = 0;
const REQ_HEAD = 1;
const REQ_TAIL = 2;
const REP_HEAD = 3;
const REP_TAIL = 4;
const CTL_BYTES = 64;

// Request slot: int32 seq, nnz, flags, nParts; f64 job, k, queryCut, heapFactor, nKnn, after score and ord, bm25
// k1, b, avgdl; int32 segment ids; uint32 term ids; float32 weights.
const Q_F64 = 16;
const Q_F64_COUNT = 10;
const Q_PARTS = Q_F64 + Q_F64_COUNT * 8;
const Q_TERMS = Q_PARTS + RING_MAX_PARTS * 4;
const REQ_SLOT_BYTES = Q_TERMS + RING_MAX_TERMS * 8;
const FLAG_EXACT = 1;
const FLAG_BM25 = 2;
const FLAG_AFTER = 4;

// Reply slot: f64 job; per part int32 hits (-1: null part) and approximate, f64 docsScored, blocksScored,
// blocksSkipped; int32 ords; float32 scores. The int32 at 8 is the part count.
const R_PARTS = 16;
const R_PART_BYTES = 32;
const R_HITS = R_PARTS + RING_MAX_PARTS * R_PART_BYTES;
const REP_SLOT_BYTES = R_HITS + RING_MAX_HITS * 8;

/** One worker's rings: the buffer (posted to the worker at start) and typed views of it. */
export interface SearchRing {
  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
  readonly ctl: Int32Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  /** Byte offset of the reply ring. */
  readonly replies: number;
}

/** A new ring for a worker whose queue holds up to `queue` searches. */
export function createSearchRing(queue: number): SearchRing {
  let slots = 1;
  while (slots < Math.min(queue, MAX_SLOTS)) slots *= 2;
  return searchRingOn(new SharedArrayBuffer(CTL_BYTES + slots * (REQ_SLOT_BYTES + REP_SLOT_BYTES)));
}

/** Views of a ring's buffer (the worker's side of `createSearchRing`). */
export function searchRingOn(buffer: SharedArrayBuffer): SearchRing {
  const slots = (buffer.byteLength - CTL_BYTES) / (REQ_SLOT_BYTES + REP_SLOT_BYTES);
  return {
    buffer,
    slots,
    ctl: new Int32Array(buffer, 0, CTL_BYTES / 4),
    i32: new Int32Array(buffer),
    u32: new Uint32Array(buffer),
    f32: new Float32Array(buffer),
    f64: new Float64Array(buffer),
    replies: CTL_BYTES + slots * REQ_SLOT_BYTES,
  };
}

/** Raises `POSTED` after a request went either way, waking the worker if it waits. */
export function announce(r: SearchRing): void {
  Atomics.add(r.ctl, POSTED, 1);
  Atomics.notify(r.ctl, POSTED);
}

/**
 * Writes a search into the next request slot when it fits (see the file comment); false: post it instead. The
 * caller then `announce`s it. Keys of `options` are listed so a new option fails to compile here until it is carried.
 */
export function writeRequest(
  r: SearchRing,
  seq: number,
  job: number,
  query: SparseVector,
  options: SegmentSearchOptions,
  parts: readonly SearchPart[],
): boolean {
  const { k, exact, queryCut, heapFactor, nKnn, filter, bm25, after, ...rest } = options;
  rest satisfies Record<string, never>;
  const nnz = query.indices.length;
  if (filter !== null || nnz > RING_MAX_TERMS || parts.length > RING_MAX_PARTS) return false;
  for (const p of parts) if (p.deletes !== undefined) return false;
  const head = Atomics.load(r.ctl, REQ_HEAD);
  if (((head - Atomics.load(r.ctl, REQ_TAIL)) | 0) >= r.slots) return false;
  const at = CTL_BYTES + (head & (r.slots - 1)) * REQ_SLOT_BYTES;
  const i = at >> 2;
  const f = (at + Q_F64) >> 3;
  r.i32[i] = seq;
  r.i32[i + 1] = nnz;
  r.i32[i + 2] = (exact ? FLAG_EXACT : 0) | (bm25 != null ? FLAG_BM25 : 0) | (after != null ? FLAG_AFTER : 0);
  r.i32[i + 3] = parts.length;
  r.f64[f] = job;
  r.f64[f + 1] = k;
  r.f64[f + 2] = queryCut;
  r.f64[f + 3] = heapFactor;
  r.f64[f + 4] = nKnn;
  if (after != null) {
    r.f64[f + 5] = after.score;
    r.f64[f + 6] = after.ord;
  }
  if (bm25 != null) {
    r.f64[f + 7] = bm25.k1;
    r.f64[f + 8] = bm25.b;
    r.f64[f + 9] = bm25.avgdl;
  }
  const pi = (at + Q_PARTS) >> 2;
  for (let j = 0; j < parts.length; j++) r.i32[pi + j] = parts[j].seg;
  const ti = (at + Q_TERMS) >> 2;
  r.u32.set(query.indices, ti);
  r.f32.set(query.values, ti + nnz);
  Atomics.store(r.ctl, REQ_HEAD, (head + 1) | 0);
  return true;
}

/** A request read out of the ring, its arrays copied (the slot is free again once this returns). */
export interface RingRequest {
  job: number;
  query: SparseVector;
  options: SegmentSearchOptions;
  parts: SearchPart[];
}

/** The query of a slot whose terms start at word `ti` (see `readRequest`). */
function copyQuery(r: SearchRing, ti: number, nnz: number, scratch: VectorScratch | null): SparseVector {
  if (scratch === null) return { indices: r.u32.slice(ti, ti + nnz), values: r.f32.slice(ti + nnz, ti + 2 * nnz) };
  fitScratch(scratch, nnz);
  scratch.ids.set(r.u32.subarray(ti, ti + nnz));
  scratch.vals.set(r.f32.subarray(ti + nnz, ti + 2 * nnz));
  return { indices: scratch.ids.subarray(0, nnz), values: scratch.vals.subarray(0, nnz) };
}

/** The sequence number of the next unread request slot, or null when every written slot was read. */
export function nextRequestSeq(r: SearchRing, tail: number): number | null {
  if (Atomics.load(r.ctl, REQ_HEAD) === tail) return null;
  return r.i32[(CTL_BYTES + (tail & (r.slots - 1)) * REQ_SLOT_BYTES) >> 2];
}

/**
 * Reads request slot `tail` (the worker then stores `tail + 1` with `releaseRequest`). The query is copied out of
 * the slot (released before the search runs): into `scratch` when given (grown to the longest query seen; the
 * query is then views of it, valid until the next read with it: a worker reads one request at a time), else into
 * fresh arrays.
 */
export function readRequest(r: SearchRing, tail: number, scratch: VectorScratch | null = null): RingRequest {
  const at = CTL_BYTES + (tail & (r.slots - 1)) * REQ_SLOT_BYTES;
  const i = at >> 2;
  const f = (at + Q_F64) >> 3;
  const nnz = r.i32[i + 1];
  const flags = r.i32[i + 2];
  const nParts = r.i32[i + 3];
  const ti = (at + Q_TERMS) >> 2;
  const pi = (at + Q_PARTS) >> 2;
  const parts: SearchPart[] = [];
  for (let j = 0; j < nParts; j++) parts.push({ seg: r.i32[pi + j] });
  return {
    job: r.f64[f],
    query: copyQuery(r, ti, nnz, scratch),
    options: {
      k: r.f64[f + 1],
      exact: (flags & FLAG_EXACT) !== 0,
      queryCut: r.f64[f + 2],
      heapFactor: r.f64[f + 3],
      nKnn: r.f64[f + 4],
      filter: null,
      bm25: (flags & FLAG_BM25) !== 0 ? { k1: r.f64[f + 7], b: r.f64[f + 8], avgdl: r.f64[f + 9] } : null,
      after: (flags & FLAG_AFTER) !== 0 ? { score: r.f64[f + 5], ord: r.f64[f + 6] } : null,
    },
    parts,
  };
}

/** Marks request slots before `tail` free for the pool. */
export function releaseRequest(r: SearchRing, tail: number): void {
  Atomics.store(r.ctl, REQ_TAIL, tail);
}

/**
 * Writes a search's answer into the next reply slot and wakes the pool, when it fits and the ring has room;
 * false: post it instead. `head` is the worker's count of replies written; the caller adds 1 on true.
 */
export function writeReply(r: SearchRing, head: number, job: number, parts: ReadonlyArray<SegmentPartResult | null>): boolean {
  if (parts.length > RING_MAX_PARTS) return false;
  let hits = 0;
  for (const p of parts) hits += p === null ? 0 : p.ords.length;
  if (hits > RING_MAX_HITS || ((head - Atomics.load(r.ctl, REP_TAIL)) | 0) >= r.slots) return false;
  const at = r.replies + (head & (r.slots - 1)) * REP_SLOT_BYTES;
  r.f64[at >> 3] = job;
  r.i32[(at >> 2) + 2] = parts.length;
  let h = (at + R_HITS) >> 2;
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j];
    const pa = at + R_PARTS + j * R_PART_BYTES;
    if (p === null) {
      r.i32[pa >> 2] = -1;
      continue;
    }
    const n = p.ords.length;
    r.i32[pa >> 2] = n;
    r.i32[(pa >> 2) + 1] = p.approximate ? 1 : 0;
    r.f64[(pa >> 3) + 1] = p.docsScored;
    r.f64[(pa >> 3) + 2] = p.blocksScored;
    r.f64[(pa >> 3) + 3] = p.blocksSkipped;
    r.i32.set(p.ords, h);
    r.f32.set(p.scores, h + n);
    h += 2 * n;
  }
  Atomics.store(r.ctl, REP_HEAD, (head + 1) | 0);
  Atomics.notify(r.ctl, REP_HEAD);
  return true;
}

/** Replies written so far (wrapping int32); the pool reads slots up to it. */
export function replyHead(r: SearchRing): number {
  return Atomics.load(r.ctl, REP_HEAD);
}

/** Reads reply slot `tail` (arrays copied) and frees it. */
export function readReply(r: SearchRing, tail: number): { job: number; parts: Array<SegmentPartResult | null> } {
  const at = r.replies + (tail & (r.slots - 1)) * REP_SLOT_BYTES;
  const job = r.f64[at >> 3];
  const nParts = r.i32[(at >> 2) + 2];
  const parts: Array<SegmentPartResult | null> = [];
  let h = (at + R_HITS) >> 2;
  for (let j = 0; j < nParts; j++) {
    const pa = at + R_PARTS + j * R_PART_BYTES;
    const n = r.i32[pa >> 2];
    if (n < 0) {
      parts.push(null);
      continue;
    }
    parts.push({
      ords: r.i32.slice(h, h + n),
      scores: r.f32.slice(h + n, h + 2 * n),
      docsScored: r.f64[(pa >> 3) + 1],
      blocksScored: r.f64[(pa >> 3) + 2],
      blocksSkipped: r.f64[(pa >> 3) + 3],
      approximate: r.i32[(pa >> 2) + 1] === 1,
    });
    h += 2 * n;
  }
  Atomics.store(r.ctl, REP_TAIL, (tail + 1) | 0);
  return { job, parts };
}

/** `Atomics.waitAsync` (ES2024; Node 16+ has it, the ES2023 lib this project compiles against does not type it). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Waits, without blocking the thread, until the reply counter is no longer `seen` or `notifyReplies` is called. */
export async function repliesAfter(r: SearchRing, seen: number): Promise<void> {
  const w = waitAsync(r.ctl, REP_HEAD, seen);
  if (w.async) await w.value;
}

/** Wakes a `repliesAfter` waiter on this thread (the pool, when it retires the worker). */
export function notifyReplies(r: SearchRing): void {
  Atomics.notify(r.ctl, REP_HEAD);
}

/** Blocks the worker thread until `POSTED` is no longer `seen`, or `ms` passed; whether it moved. */
export function waitForRequests(r: SearchRing, seen: number, ms: number): boolean {
  return Atomics.wait(r.ctl, POSTED, seen, ms) !== 'timed-out';
}

/** Requests posted so far (wrapping int32). */
export function postedCount(r: SearchRing): number {
  return Atomics.load(r.ctl, POSTED);
}
