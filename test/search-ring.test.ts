/**
 * The shared request and reply rings between the search pool and a worker (src/segment/search-ring.ts), on one
 * thread: what goes in comes out bit for bit (every search option, the query's ids and weights, null parts, hits and
 * counters), what does not fit is refused so it goes by message, a full ring refuses instead of overwriting, and
 * the int32 counters keep working through their wrap.
 */
import { describe, expect, it } from 'vitest';
import { vectorScratch, type SparseVector } from '../src/core/sparse-vector.js';
import {
  createSearchRing,
  nextRequestSeq,
  readReply,
  readRequest,
  releaseRequest,
  replyHead,
  RING_MAX_HITS,
  RING_MAX_PARTS,
  RING_MAX_TERMS,
  searchRingOn,
  writeReply,
  writeRequest,
  type SearchRing,
} from '../src/segment/search-ring.js';
import type { SegmentPartResult, SegmentSearchOptions } from '../src/segment/segment-search.js';

const plain: SegmentSearchOptions = { k: 10, exact: false, queryCut: 8, heapFactor: 0.8, nKnn: 0, filter: null, bm25: null, after: null };

function vector(n: number): SparseVector {
  return {
    indices: Uint32Array.from({ length: n }, (_, i) => i * 7 + 3),
    values: Float32Array.from({ length: n }, (_, i) => Math.fround(0.1 + i / 3)),
  };
}

function part(n: number, seed: number): SegmentPartResult {
  return {
    ords: Int32Array.from({ length: n }, (_, i) => seed * 1000 + i),
    scores: Float32Array.from({ length: n }, (_, i) => Math.fround(100 / (i + seed + 1))),
    docsScored: 123_456 + seed,
    blocksScored: 77,
    blocksSkipped: 3_000_000_000,
    approximate: seed % 2 === 0,
  };
}

/** Sets the ring's four counters to `v` (as if that many requests and replies had gone through). */
function startAt(r: SearchRing, v: number): void {
  for (let i = 1; i <= 4; i++) r.ctl[i] = v;
}

describe('search rings', () => {
  it('a request comes out with every option, id and weight it went in with', () => {
    const r = createSearchRing(8);
    const opts: SegmentSearchOptions[] = [
      plain,
      { ...plain, exact: true, k: 1000, queryCut: 3, heapFactor: 0.1 + 0.2, nKnn: 50 },
      { ...plain, bm25: { k1: 1.2, b: 0.75, avgdl: 41.37 }, after: { score: 12.345678901234, ord: 2_000_000_001 } },
    ];
    const q = vector(RING_MAX_TERMS);
    let tail = 0;
    opts.forEach((o, i) => {
      expect(writeRequest(r, 40 + i, 2 ** 40 + i, q, o, [{ seg: 5 }, { seg: 9 }])).toBe(true);
      expect(nextRequestSeq(r, tail)).toBe(40 + i);
      // Into fresh arrays, and into a scratch that grows from one entry (the worker's way): the same request.
      const scratch = vectorScratch(1);
      const viaScratch = readRequest(r, tail, scratch);
      expect(viaScratch.query.indices.buffer).toBe(scratch.ids.buffer);
      expect(Array.from(viaScratch.query.indices)).toEqual(Array.from(q.indices));
      expect(Array.from(viaScratch.query.values)).toEqual(Array.from(q.values));
      const got = readRequest(r, tail);
      tail++;
      releaseRequest(r, tail);
      expect(got.job).toBe(2 ** 40 + i);
      expect(got.options).toEqual(o);
      expect(got.parts).toEqual([{ seg: 5 }, { seg: 9 }]);
      expect(got.query.indices).toEqual(q.indices);
      expect(got.query.values).toEqual(q.values);
    });
    expect(nextRequestSeq(r, tail)).toBeNull();
  });

  it('refuses what must go as a message: a filter, a new delete bitset, too many terms or segments', () => {
    const r = createSearchRing(8);
    const q = vector(4);
    expect(writeRequest(r, 0, 1, q, { ...plain, filter: { must: [{ field: 'lang', eq: 'de' }] } }, [{ seg: 1 }])).toBe(false);
    expect(writeRequest(r, 0, 1, q, plain, [{ seg: 1, deletes: new Uint32Array(4) }])).toBe(false);
    expect(writeRequest(r, 0, 1, q, plain, [{ seg: 1, deletes: null }])).toBe(false);
    expect(writeRequest(r, 0, 1, vector(RING_MAX_TERMS + 1), plain, [{ seg: 1 }])).toBe(false);
    const parts = Array.from({ length: RING_MAX_PARTS + 1 }, (_, i) => ({ seg: i }));
    expect(writeRequest(r, 0, 1, q, plain, parts)).toBe(false);
    expect(nextRequestSeq(r, 0)).toBeNull();
    const big = [part(RING_MAX_HITS, 1), part(1, 2)];
    expect(writeReply(r, 0, 1, big)).toBe(false);
    expect(
      writeReply(
        r,
        0,
        1,
        Array.from({ length: RING_MAX_PARTS + 1 }, () => null),
      ),
    ).toBe(false);
    expect(replyHead(r)).toBe(0);
  });

  it('a reply comes out with its null parts, hits, scores and counters', () => {
    const r = createSearchRing(4);
    const parts = [part(10, 1), null, part(0, 2), part(RING_MAX_HITS - 10, 3)];
    expect(writeReply(r, 0, 2 ** 45, parts)).toBe(true);
    expect(replyHead(r)).toBe(1);
    // The worker's side sees the same buffer through its own views.
    const got = readReply(searchRingOn(r.buffer), 0);
    expect(got.job).toBe(2 ** 45);
    expect(got.parts).toEqual(parts);
  });

  it('a full ring refuses instead of overwriting, and takes more once slots are read', () => {
    const r = createSearchRing(3); // rounded up to 4 slots
    expect(r.slots).toBe(4);
    const q = vector(3);
    for (let i = 0; i < 4; i++) expect(writeRequest(r, i, i, q, plain, [{ seg: 1 }])).toBe(true);
    expect(writeRequest(r, 4, 4, q, plain, [{ seg: 1 }])).toBe(false);
    expect(readRequest(r, 0).job).toBe(0);
    releaseRequest(r, 1);
    expect(writeRequest(r, 4, 4, q, plain, [{ seg: 1 }])).toBe(true);
    for (let i = 0; i < 4; i++) expect(writeReply(r, i, i, [part(2, i)])).toBe(true);
    expect(writeReply(r, 4, 4, [part(2, 4)])).toBe(false);
    expect(readReply(r, 0).job).toBe(0);
    expect(writeReply(r, 4, 4, [part(2, 4)])).toBe(true);
  });

  it('keeps order and contents through the int32 wrap of its counters', () => {
    const r = createSearchRing(4);
    const start = 2 ** 31 - 3;
    startAt(r, start | 0);
    let head = start | 0;
    let tail = start | 0;
    let replies = start | 0;
    let read = start | 0;
    for (let i = 0; i < 40; i++) {
      const q = vector(1 + (i % 5));
      expect(writeRequest(r, i, i, q, plain, [{ seg: i }])).toBe(true);
      head = (head + 1) | 0;
      expect(nextRequestSeq(r, tail)).toBe(i);
      const got = readRequest(r, tail);
      tail = (tail + 1) | 0;
      releaseRequest(r, tail);
      expect(got.parts).toEqual([{ seg: i }]);
      expect(got.query.indices).toEqual(q.indices);
      expect(writeReply(r, replies, i, [part(1 + (i % 3), i)])).toBe(true);
      replies = (replies + 1) | 0;
      expect(replyHead(r)).toBe(replies);
      expect(readReply(r, read)).toEqual({ job: i, parts: [part(1 + (i % 3), i)] });
      read = (read + 1) | 0;
    }
    expect(head).toBeLessThan(0); // wrapped
  });
});
