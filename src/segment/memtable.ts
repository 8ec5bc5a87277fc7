/**
 * The memtable: recent documents held in memory until a seal turns them into a segment, searched exactly.
 * Documents live in arrival-order "slots"; vectors are appended to CSR arrays (raw values: term frequencies for
 * bm25 collections, final weights otherwise). Each full run of CHUNK_DOCS slots gets a small inverted index (a
 * transposition, a few ms), built by the first search that reaches it, so a search is term-at-a-time over full
 * chunks plus a merge-walk over the tail.
 *
 * Invariants: an id is live in at most one slot; deleted slots stay in the arrays (bit set in `deleted`) until
 * the memtable is sealed and dropped. Per doc the score is Σ over common terms, in ascending term id order, of
 * q·w with w rounded to float32 and the sum in float64 — bit-identical to searching a segment sealed with the
 * same avgdl. Callers: collection-store.ts (writes, search, seal snapshots), store-view.ts (point-in-time views).
 *
 * Point in time: slots are only appended and deleted bits only set, so the memtable as it was at some moment is
 * (its slot count then, the deletes logged since) — `cut()` records both in O(1), and `search`/`excludedBy` take
 * a `MemtableView` (slot limit + the deleted bitset of that moment, `deletedAt`) instead of the live state.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { DocWeighting, StoreDocument } from './document-types.js';
import type { IdTopK } from '../index/id-top-k.js';
import { bm25Weight } from '../index/exact-search.js';

const CHUNK_DOCS = 2048;
const DENSE_TERM_LIMIT = 1 << 24;
const MAX_CHUNK_BUILDS_PER_SEARCH = 8;

interface Chunk {
  terms: Uint32Array;
  /** terms.length + 1 offsets into slots/vals. */
  starts: Uint32Array;
  /** Slot minus the chunk's first slot. */
  local: Uint16Array;
  vals: Float32Array;
}

/** A memtable as of one moment: `cut()` at that moment, then `deletedAt(cut)` when first searched. */
export interface MemtableCut {
  /** Slots that existed. */
  slots: number;
  /** Deletes logged by then. */
  deletes: number;
}

/** What a search of a cut reads: the slot limit and the deleted bitset of that moment. */
export interface MemtableView {
  slots: number;
  deleted: Uint32Array;
}

/** Stored fields of a memtable doc. */
export interface MemtableFields {
  title?: string;
  text?: string;
  metadata?: Record<string, unknown>;
  dense?: Float32Array;
}

/** Shared by every doc without stored fields (pre-encoded bulk loads): no object per doc. */
const NO_FIELDS: Readonly<MemtableFields> = Object.freeze({});

/**
 * A document's weighted vector (fresh arrays) from its raw one (bm25: term frequencies, `dl` their sum) with
 * `avgdl`: how a memtable doc and a sealed bm25 doc are weighted for `get`, explain and PRF, as their search does.
 */
export function weightVector(raw: SparseVector, dl: number, weighting: DocWeighting, avgdl: number): SparseVector {
  const values = Float32Array.from(raw.values);
  if (weighting.kind === 'bm25') {
    for (let i = 0; i < values.length; i++) values[i] = bm25Weight(values[i], dl, avgdl, weighting.k1, weighting.b);
  }
  return { indices: Uint32Array.from(raw.indices), values };
}

/** Fixed per-document overhead (id entry, slot arrays, map entry, fields object), bytes. */
const DOC_OVERHEAD_BYTES = 128;

/**
 * Estimated memory of a document in the memtable, bytes: 8 per nonzero, 2 per UTF-16 unit of id, title and text,
 * 4 per dense value, and a walk of the metadata (strings 2 per unit, numbers 8, 16 per key or element). Linear
 * in the document, like the WAL encoding it accompanies.
 */
export function estimateDocBytes(doc: StoreDocument): number {
  let n = DOC_OVERHEAD_BYTES + 8 * doc.vector.indices.length + 2 * doc.id.length;
  if (doc.title !== undefined) n += 2 * doc.title.length;
  if (doc.text !== undefined) n += 2 * doc.text.length;
  if (doc.dense !== undefined) n += 4 * doc.dense.length;
  if (doc.metadata !== undefined) n += valueBytes(doc.metadata);
  return n;
}

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return 16 + 2 * v.length;
  if (v === null || typeof v !== 'object') return 8;
  let n = 16;
  if (Array.isArray(v)) for (const x of v) n += 8 + valueBytes(x);
  else for (const k of Object.keys(v)) n += 16 + 2 * k.length + valueBytes((v as Record<string, unknown>)[k]);
  return n;
}

export class Memtable {
  private ids: string[] = [];
  private fields: MemtableFields[] = [];
  private offsets = new Uint32Array(1025);
  private termIds = new Uint32Array(1 << 16);
  private values = new Float32Array(1 << 16);
  private dls = new Float64Array(1024);
  private deleted = new Uint32Array(32);
  /** Slots in the order they were deleted (see the file comment). */
  private deleteLog = new Int32Array(64);
  private deleteCount = 0;
  /** The search in progress: its slot limit and deleted bitset (the live ones, or a view's). */
  private limit = 0;
  private dead: Uint32Array = this.deleted;
  private readonly slotOf = new Map<string, number>();
  private chunks: Chunk[] = [];
  private acc = new Float64Array(CHUNK_DOCS);
  private seen = new Uint8Array(CHUNK_DOCS);
  private liveDocs = 0;
  private liveSumDl = 0;
  private liveNnz = 0;
  private bytes = 0;

  /**
   * Estimated bytes held (every slot, deleted ones included: they stay until the seal): `estimateDocBytes` of
   * each inserted doc. The store seals on it as well as on the doc count (SPLADEX_MEMTABLE_MAX_BYTES): 40 docs
   * of 25 MB metadata each held 1.26 GB under a count-only limit (issue 12.5).
   */
  get estimatedBytes(): number {
    return this.bytes;
  }

  /** Number of slots (live + deleted). */
  get slots(): number {
    return this.ids.length;
  }

  /** Live documents. */
  get size(): number {
    return this.liveDocs;
  }

  get sumDl(): number {
    return this.liveSumDl;
  }

  get nnz(): number {
    return this.liveNnz;
  }

  /** Inserts a doc (replacing a live doc with the same id in this memtable); returns its slot. */
  insert(doc: StoreDocument): number {
    this.delete(doc.id);
    const slot = this.ids.length;
    const v = doc.vector;
    const nnz = v.indices.length;
    this.ensure(slot + 1, this.offsets[slot] + nnz);
    const start = this.offsets[slot];
    this.termIds.set(v.indices, start);
    this.values.set(v.values, start);
    this.offsets[slot + 1] = start + nnz;
    let dl = 0;
    for (let i = 0; i < nnz; i++) dl += v.values[i];
    this.dls[slot] = dl;
    this.ids.push(doc.id);
    let f: MemtableFields = NO_FIELDS;
    if (doc.title !== undefined || doc.text !== undefined || doc.metadata !== undefined || doc.dense !== undefined) {
      f = {};
      if (doc.title !== undefined) f.title = doc.title;
      if (doc.text !== undefined) f.text = doc.text;
      if (doc.metadata !== undefined) f.metadata = doc.metadata;
      if (doc.dense !== undefined) f.dense = doc.dense;
    }
    this.fields.push(f);
    this.slotOf.set(doc.id, slot);
    this.liveDocs++;
    this.liveSumDl += dl;
    this.liveNnz += nnz;
    this.bytes += estimateDocBytes(doc);
    return slot;
  }

  /** Deletes the live doc `id`; returns whether it existed here. */
  delete(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    this.deleted[slot >>> 5] |= 1 << (slot & 31);
    if (this.deleteCount === this.deleteLog.length) this.deleteLog = grow(this.deleteLog, this.deleteLog.length * 2);
    this.deleteLog[this.deleteCount++] = slot;
    this.liveDocs--;
    this.liveSumDl -= this.dls[slot];
    this.liveNnz -= this.offsets[slot + 1] - this.offsets[slot];
    return true;
  }

  /** This moment, for a point-in-time view (O(1); see the file comment). */
  cut(): MemtableCut {
    return { slots: this.ids.length, deletes: this.deleteCount };
  }

  /**
   * The view of `cut`: the live deleted bitset while nothing was deleted since (valid for one synchronous search),
   * else a copy with the later deletes cleared (stable: the caller may keep it).
   */
  viewOf(cut: MemtableCut): { view: MemtableView; stable: boolean } {
    if (this.deleteCount === cut.deletes) return { view: { slots: cut.slots, deleted: this.deleted }, stable: false };
    const deleted = this.deleted.slice(0, (cut.slots + 31) >>> 5);
    for (let i = cut.deletes; i < this.deleteCount; i++) {
      const slot = this.deleteLog[i];
      if (slot < cut.slots) deleted[slot >>> 5] &= ~(1 << (slot & 31));
    }
    return { view: { slots: cut.slots, deleted }, stable: true };
  }

  /** Whether `slot` is live in `view`. */
  liveIn(view: MemtableView, slot: number): boolean {
    return slot < view.slots && (view.deleted[slot >>> 5] & (1 << (slot & 31))) === 0;
  }

  /** The live slot of `id`, or undefined. */
  slotOfId(id: string): number | undefined {
    return this.slotOf.get(id);
  }

  idOf(slot: number): string {
    return this.ids[slot];
  }

  fieldsOf(slot: number): MemtableFields {
    return this.fields[slot];
  }

  isLive(slot: number): boolean {
    return (this.deleted[slot >>> 5] & (1 << (slot & 31))) === 0;
  }

  dlOf(slot: number): number {
    return this.dls[slot];
  }

  /** The raw vector of a slot (views over internal arrays: copy before keeping). */
  rawVector(slot: number): SparseVector {
    const s = this.offsets[slot];
    const e = this.offsets[slot + 1];
    return { indices: this.termIds.subarray(s, e), values: this.values.subarray(s, e) };
  }

  /** The weighted vector of a slot (fresh arrays). */
  weightedVector(slot: number, weighting: DocWeighting, avgdl: number): SparseVector {
    return weightVector(this.rawVector(slot), this.dls[slot], weighting, avgdl);
  }

  /** Slots excluded by the current search's filter (null: none). */
  private excluded: Uint32Array | null = null;

  private isExcluded(slot: number): boolean {
    const x = this.excluded;
    return x !== null && (x[slot >>> 5] & (1 << (slot & 31))) !== 0;
  }

  /** Dense bitset over slots of the live docs (of `view` when given) whose metadata fails `accept` (for filtered searches). */
  excludedBy(accept: (metadata: Record<string, unknown> | undefined) => boolean, view: MemtableView | null = null): Uint32Array {
    const out = new Uint32Array((this.ids.length + 31) >>> 5);
    if (view !== null) {
      for (let slot = 0; slot < view.slots; slot++) {
        if (this.liveIn(view, slot) && !accept(this.fields[slot].metadata)) out[slot >>> 5] |= 1 << (slot & 31);
      }
      return out;
    }
    for (const slot of this.slotOf.values()) {
      if (!accept(this.fields[slot].metadata)) out[slot >>> 5] |= 1 << (slot & 31);
    }
    return out;
  }

  /** Live slots in arrival order. */
  liveSlots(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.ids.length; s++) if (this.isLive(s)) out.push(s);
    return out;
  }

  /** For each live id: callback with (id, slot). */
  forEachLive(fn: (id: string, slot: number) => void): void {
    for (const [id, slot] of this.slotOf) fn(id, slot);
  }

  /**
   * Exact search: offers every live doc with a positive score to `top` (payload = payloadBase + slot). `query` is sorted by
   * term id. Returns the number of docs scored.
   */
  search(
    query: SparseVector,
    weighting: DocWeighting,
    avgdl: number,
    top: IdTopK,
    payloadBase = 0,
    excluded: Uint32Array | null = null,
    view: MemtableView | null = null,
  ): number {
    this.excluded = excluded;
    this.limit = view === null ? this.ids.length : view.slots;
    this.dead = view === null ? this.deleted : view.deleted;
    let scored = 0;
    // Chunk indexes are built lazily by searches, at most MAX_CHUNK_BUILDS_PER_SEARCH per search; docs of
    // chunks not built yet are scored by a merge walk. A bulk load sealed before any search (the CLI path) never
    // pays for them (they were ~25% of ingest CPU at 1M docs), and the first search after a 1M-doc load costs a
    // bounded build plus one merge-walk pass (all 488 builds at once took 15 s on the loaded 2-core box).
    const full = Math.floor(this.ids.length / CHUNK_DOCS);
    for (let b = 0; b < MAX_CHUNK_BUILDS_PER_SEARCH && this.chunks.length < full; b++) {
      this.chunks.push(this.buildChunk(this.chunks.length * CHUNK_DOCS));
    }
    for (let c = 0; c < this.chunks.length; c++) scored += this.searchChunk(c, query, weighting, avgdl, top, payloadBase);
    const tailStart = this.chunks.length * CHUNK_DOCS;
    for (let slot = tailStart; slot < this.limit; slot++) {
      if (!this.searchable(slot)) continue;
      const s = this.dotSlot(slot, query, weighting, avgdl);
      if (s >= 0) {
        scored++;
        top.push(this.ids[slot], s, payloadBase + slot);
      }
    }
    return scored;
  }

  /** Whether the search in progress sees `slot`: below its limit, live in its deleted bitset, not excluded. */
  private searchable(slot: number): boolean {
    return slot < this.limit && (this.dead[slot >>> 5] & (1 << (slot & 31))) === 0 && !this.isExcluded(slot);
  }

  /** Score of `slot` (merge walk, ascending term order), or -1 when it shares no term with the query. */
  private dotSlot(slot: number, q: SparseVector, weighting: DocWeighting, avgdl: number): number {
    let i = this.offsets[slot];
    const e = this.offsets[slot + 1];
    const qi = q.indices;
    const qv = q.values;
    let j = 0;
    let s = 0;
    let matched = false;
    const bm25 = weighting.kind === 'bm25';
    const dl = this.dls[slot];
    while (i < e && j < qi.length) {
      const a = this.termIds[i];
      const b = qi[j];
      if (a === b) {
        const raw = this.values[i];
        const w = bm25 ? bm25Weight(raw, dl, avgdl, weighting.k1, weighting.b) : raw;
        s += qv[j] * w;
        matched = true;
        i++;
        j++;
      } else if (a < b) i++;
      else j++;
    }
    return matched ? s : -1;
  }

  private searchChunk(c: number, q: SparseVector, weighting: DocWeighting, avgdl: number, top: IdTopK, payloadBase: number): number {
    const ch = this.chunks[c];
    const base = c * CHUNK_DOCS;
    const acc = this.acc;
    const seen = this.seen;
    const bm25 = weighting.kind === 'bm25';
    const k1 = bm25 ? weighting.k1 : 0;
    const b = bm25 ? weighting.b : 0;
    let touched = 0;
    // Query terms ascending, so each doc's sum is accumulated in ascending term order (see file comment).
    for (let j = 0; j < q.indices.length; j++) {
      const t = q.indices[j];
      const qw = q.values[j];
      let lo = 0;
      let hi = ch.terms.length - 1;
      let pos = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const x = ch.terms[mid];
        if (x === t) {
          pos = mid;
          break;
        }
        if (x < t) lo = mid + 1;
        else hi = mid - 1;
      }
      if (pos < 0) continue;
      for (let p = ch.starts[pos], e = ch.starts[pos + 1]; p < e; p++) {
        const l = ch.local[p];
        const raw = ch.vals[p];
        const w = bm25 ? bm25Weight(raw, this.dls[base + l], avgdl, k1, b) : raw;
        if (seen[l] === 0) {
          seen[l] = 1;
          touched++;
          acc[l] = qw * w;
        } else acc[l] += qw * w;
      }
    }
    let scored = 0;
    if (touched > 0) {
      for (let l = 0; l < CHUNK_DOCS; l++) {
        if (seen[l] === 0) continue;
        seen[l] = 0;
        const slot = base + l;
        if (!this.searchable(slot)) continue;
        scored++;
        top.push(this.ids[slot], acc[l], payloadBase + slot);
      }
    }
    return scored;
  }

  /**
   * Transposes one full chunk into term-sorted postings with two counting passes. Term ids map to local term
   * indexes through `termSlot` (a dense scratch indexed by term id, reset after use) — a Map/Set here cost
   * 10.4 s of a 16 s 200k-doc ingest; the dense scratch makes the chunk build a few ms. Ids beyond
   * DENSE_TERM_LIMIT (sparse 2^30 id spaces) take the Map path.
   */
  private buildChunk(first: number): Chunk {
    const s0 = this.offsets[first];
    const s1 = this.offsets[first + CHUNK_DOCS];
    const n = s1 - s0;
    const tids = this.termIds;
    let maxTerm = 0;
    for (let p = s0; p < s1; p++) if (tids[p] > maxTerm) maxTerm = tids[p];
    const map = maxTerm < DENSE_TERM_LIMIT ? this.termSlotScratch(maxTerm + 1) : null;
    const sparse = map === null ? new Map<number, number>() : null;
    // Pass 1: distinct terms, ascending (dense path: mark, then one scan over [0, maxTerm] instead of a sort).
    let terms: Uint32Array;
    if (map !== null) {
      let count = 0;
      for (let p = s0; p < s1; p++) {
        const t = tids[p];
        if (map[t] < 0) {
          map[t] = 0;
          count++;
        }
      }
      terms = new Uint32Array(count);
      for (let t = 0, i = 0; t <= maxTerm; t++) {
        if (map[t] === 0) {
          map[t] = i;
          terms[i++] = t;
        }
      }
    } else {
      const m = sparse as Map<number, number>;
      const distinct: number[] = [];
      for (let p = s0; p < s1; p++) {
        if (!m.has(tids[p])) {
          m.set(tids[p], 0);
          distinct.push(tids[p]);
        }
      }
      distinct.sort((a, b) => a - b);
      terms = Uint32Array.from(distinct);
      for (let i = 0; i < terms.length; i++) m.set(terms[i], i);
    }
    const starts = new Uint32Array(terms.length + 1);
    const localTerm = new Uint32Array(n);
    for (let p = s0; p < s1; p++) {
      const ti = map !== null ? map[tids[p]] : ((sparse as Map<number, number>).get(tids[p]) as number);
      localTerm[p - s0] = ti;
      starts[ti + 1]++;
    }
    for (let i = 0; i < terms.length; i++) starts[i + 1] += starts[i];
    // Pass 2: fill (slots ascending within each term because docs are walked in slot order).
    const fill = starts.slice(0, terms.length);
    const local = new Uint16Array(n);
    const vals = new Float32Array(n);
    for (let l = 0; l < CHUNK_DOCS; l++) {
      const slot = first + l;
      for (let p = this.offsets[slot], e = this.offsets[slot + 1]; p < e; p++) {
        const at = fill[localTerm[p - s0]]++;
        local[at] = l;
        vals[at] = this.values[p];
      }
    }
    if (map !== null) for (let i = 0; i < terms.length; i++) map[terms[i]] = -1;
    return { terms, starts, local, vals };
  }

  private termSlot = new Int32Array(0);

  private termSlotScratch(n: number): Int32Array {
    if (this.termSlot.length < n) {
      this.termSlot = new Int32Array(Math.max(n, this.termSlot.length * 2));
      this.termSlot.fill(-1);
    }
    return this.termSlot;
  }

  private ensure(slots: number, nnz: number): void {
    if (slots + 1 > this.offsets.length) {
      const cap = Math.max(slots + 1, this.offsets.length * 2);
      this.offsets = grow(this.offsets, cap);
      this.dls = grow(this.dls, cap);
      this.deleted = grow(this.deleted, (cap + 31) >>> 5);
    }
    if (nnz > this.termIds.length) {
      const cap = Math.max(nnz, this.termIds.length * 2);
      this.termIds = grow(this.termIds, cap);
      this.values = grow(this.values, cap);
    }
  }
}

/** `a`'s contents in a new array of `cap` elements (cap ≥ a.length). Also live-segment.ts's delete log. */
export function grow<T extends Int32Array | Uint32Array | Float32Array | Float64Array>(a: T, cap: number): T {
  const out = new (a.constructor as new (n: number) => T)(cap);
  out.set(a);
  return out;
}
