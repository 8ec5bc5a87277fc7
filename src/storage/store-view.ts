/**
 * A point-in-time view of a collection store (API.md "Paging", "Scroll"), what search cursors and scroll cursors
 * pin: the segment list, the memtables, each source's delete count and the avgdl of one moment. Taking one is
 * O(segments) and copies nothing: slots are only appended, delete bits only set, and every delete is logged in
 * order (memtable.ts, live-segment.ts), so the deleted bitsets of that moment are rebuilt when the view is first
 * read (`deletedAt`, `viewOf`: a copy only for a source that saw deletes since; unchanged sources are read
 * live). Segments merged away meanwhile stay readable because the view holds their (resident) readers; the
 * files may be gone.
 *
 * Reads: `search` (store-search.ts over the pinned parts), `count`, and `list` (live documents in id order after
 * an id, for scroll/export). Synchronous, like the store's own reads. Callers: collection-store.ts (`snapshot`),
 * search/collection.ts.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import type { FilterInput } from '../config/request-schemas.js';
import type { ListOptions, StoreDocument, StoreSearchOptions, StoreSearchResult, StoreSnapshot } from './store-types.js';
import type { Memtable, MemtableCut, MemtableView } from '../segment/memtable.js';
import { activeFilter, deletedAt, segmentExcluded, segmentReader } from '../segment/live-segment.js';
import { countBits, matchesFilter } from '../filter/metadata-index.js';
import { searchView, segmentVector, type PointInTime, type SearchView } from './store-search.js';

/** What a view pins, as the store hands it over at one moment. */
export type StoreViewParts = Omit<SearchView, 'pit'>;

/** One listed document and where it lives (source 0 memtable, 1 frozen, 2+i segment i). */
interface Listed {
  id: string;
  source: number;
  at: number;
}

/** A point-in-time view (see the file comment). */
export class StoreView implements StoreSnapshot {
  private readonly parts: StoreViewParts;
  private readonly memCut: MemtableCut;
  private readonly frozenCut: MemtableCut | null;
  private readonly segCounts: number[];
  private readonly segLive: number[];
  /** Materialised bitsets that are stable (a source deleted from since the view was taken). */
  private memView: MemtableView | null = null;
  private frozenView: MemtableView | null = null;
  private readonly segDeleted: (Uint32Array | null | undefined)[];
  /** The memtables' live entries sorted by id (built by the first `list`). */
  private memSorted: Listed[] | null = null;
  /** The last filter's per-segment excluded bitsets, for consecutive `list` pages of one scroll. */
  private filterCache: { key: string; excluded: Uint32Array[] } | null = null;

  constructor(parts: StoreViewParts) {
    this.parts = parts;
    this.memCut = parts.memtable.cut();
    this.frozenCut = parts.frozen === null ? null : parts.frozen.cut();
    // A parked segment (bulk loads) is read now: its files may be removed by a merge before the view is read.
    for (const s of parts.segments) segmentReader(s);
    this.segCounts = parts.segments.map((s) => s.deleteCount);
    this.segLive = parts.segments.map((s) => s.liveDocs);
    this.segDeleted = parts.segments.map(() => undefined);
  }

  /**
   * Whether a view taken now of `parts` would read exactly as this one: the same config, memtables and segment
   * list, none of them grown or deleted from since (their cuts and delete counts), and the same avgdl. Then the
   * store hands this view out again instead of a new one (collection-store.ts `snapshot`): every full search page
   * pins a view for its cursor, and while nothing is written they are all the same moment, so up to
   * SPLADEX_MAX_CURSORS cursors share one view instead of each keeping its own.
   */
  sameAs(parts: StoreViewParts): boolean {
    const p = this.parts;
    if (p.config !== parts.config || p.memtable !== parts.memtable || p.frozen !== parts.frozen) return false;
    if (p.segments !== parts.segments || p.segTop !== parts.segTop || !Object.is(p.avgdl, parts.avgdl)) return false;
    if (!sameCut(this.memCut, parts.memtable.cut())) return false;
    if (parts.frozen !== null && !sameCut(this.frozenCut as MemtableCut, parts.frozen.cut())) return false;
    const segs = parts.segments;
    for (let i = 0; i < segs.length; i++) if (segs[i].deleteCount !== this.segCounts[i]) return false;
    return true;
  }

  /** The deleted state of every source as of the view (stable parts cached; see the file comment). */
  private pointInTime(): PointInTime {
    const { memtable, frozen, segments } = this.parts;
    let mem = this.memView;
    if (mem === null) {
      const r = memtable.viewOf(this.memCut);
      mem = r.view;
      if (r.stable) this.memView = mem;
    }
    let fro = this.frozenView;
    if (fro === null && frozen !== null && this.frozenCut !== null) {
      const r = frozen.viewOf(this.frozenCut);
      fro = r.view;
      if (r.stable) this.frozenView = fro;
    }
    const segDeleted: (Uint32Array | null)[] = new Array(segments.length);
    for (let i = 0; i < segments.length; i++) {
      const cached = this.segDeleted[i];
      if (cached !== undefined) {
        segDeleted[i] = cached;
        continue;
      }
      const r = deletedAt(segments[i], this.segCounts[i]);
      if (r.stable) this.segDeleted[i] = r.bitset;
      segDeleted[i] = r.bitset;
    }
    return { memtable: mem, frozen: fro, segDeleted, segLive: this.segLive };
  }

  /** Search as the store's `search`, over the view. */
  search(query: SparseVector, options: StoreSearchOptions): StoreSearchResult {
    const { config, memtable, frozen, segments, avgdl, segTop } = this.parts;
    return searchView({ config, memtable, frozen, segments, avgdl, segTop, pit: this.pointInTime() }, query, options);
  }

  /** Live documents of the view passing `filter` (all when absent). */
  count(filter?: FilterInput | null): number {
    const f = activeFilter(filter);
    const pit = this.pointInTime();
    let n = 0;
    const types = this.parts.config.metadataTypes;
    const mems: [Memtable, MemtableView][] = [[this.parts.memtable, pit.memtable]];
    if (this.parts.frozen !== null && pit.frozen !== null) mems.push([this.parts.frozen, pit.frozen]);
    for (const [m, v] of mems) {
      for (let slot = 0; slot < v.slots; slot++) {
        if (m.liveIn(v, slot) && (f === null || matchesFilter(m.fieldsOf(slot).metadata, f, types))) n++;
      }
    }
    const segs = this.parts.segments;
    for (let i = 0; i < segs.length; i++) {
      if (pit.segLive[i] === 0) continue;
      if (f === null) n += pit.segLive[i];
      else n += segs[i].numDocs - countBits(segmentExcluded(segs[i], f, pit.segDeleted[i]), segs[i].numDocs);
    }
    return n;
  }

  /**
   * Up to `limit` live documents of the view with id > `after`, passing `filter`, in id order (JavaScript string
   * order, the order of segment ords), with the asked parts. Each page costs O(limit × sources) plus, for the
   * memtables, one sort per view.
   */
  list(opts: ListOptions): StoreDocument[] {
    const pit = this.pointInTime();
    const f = activeFilter(opts.filter);
    const types = this.parts.config.metadataTypes;
    const picked: Listed[] = [];
    // Memtables: their live entries of the view, sorted once, then a binary search for `after`.
    const mem = this.sortedMemtableEntries(pit);
    let lo = 0;
    if (opts.after !== null) {
      let hi = mem.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (mem[mid].id <= opts.after) lo = mid + 1;
        else hi = mid;
      }
    }
    for (let j = lo, taken = 0; j < mem.length && taken < opts.limit; j++) {
      const e = mem[j];
      const m = e.source === 0 ? this.parts.memtable : (this.parts.frozen as Memtable);
      if (f !== null && !matchesFilter(m.fieldsOf(e.at).metadata, f, types)) continue;
      picked.push(e);
      taken++;
    }
    const segs = this.parts.segments;
    const excluded = f === null ? null : this.filterExcluded(f, pit);
    for (let i = 0; i < segs.length; i++) {
      if (pit.segLive[i] === 0) continue;
      const s = segs[i];
      const x = excluded === null ? pit.segDeleted[i] : excluded[i];
      let taken = 0;
      for (let o = opts.after === null ? 0 : s.ids.firstOrdAfter(opts.after); o < s.numDocs && taken < opts.limit; o++) {
        if (x !== null && (x[o >>> 5] & (1 << (o & 31))) !== 0) continue;
        picked.push({ id: s.ids.idAt(o), source: i + 2, at: o });
        taken++;
      }
    }
    picked.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (picked.length > opts.limit) picked.length = opts.limit;
    return picked.map((e) => this.document(e, opts));
  }

  private sortedMemtableEntries(pit: PointInTime): Listed[] {
    if (this.memSorted !== null) return this.memSorted;
    const out: Listed[] = [];
    const add = (m: Memtable, v: MemtableView, source: number) => {
      for (let slot = 0; slot < v.slots; slot++) if (m.liveIn(v, slot)) out.push({ id: m.idOf(slot), source, at: slot });
    };
    add(this.parts.memtable, pit.memtable, 0);
    if (this.parts.frozen !== null && pit.frozen !== null) add(this.parts.frozen, pit.frozen, 1);
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.memSorted = out;
    return out;
  }

  private filterExcluded(f: FilterInput, pit: PointInTime): Uint32Array[] {
    const key = JSON.stringify(f);
    if (this.filterCache?.key === key) return this.filterCache.excluded;
    const excluded = this.parts.segments.map((s, i) => segmentExcluded(s, f, pit.segDeleted[i]));
    this.filterCache = { key, excluded };
    return excluded;
  }

  private document(e: Listed, opts: ListOptions): StoreDocument {
    const { config, avgdl } = this.parts;
    if (e.source <= 1) {
      const m = e.source === 0 ? this.parts.memtable : (this.parts.frozen as Memtable);
      const f = m.fieldsOf(e.at);
      const doc: StoreDocument = { id: e.id, vector: opts.vectors ? m.weightedVector(e.at, config.weighting, avgdl) : EMPTY };
      if (opts.fields.title && f.title !== undefined) doc.title = f.title;
      if (opts.fields.text && f.text !== undefined) doc.text = f.text;
      if (opts.fields.metadata && f.metadata !== undefined) doc.metadata = f.metadata;
      if (opts.dense && f.dense !== undefined) doc.dense = f.dense;
      return doc;
    }
    const r = segmentReader(this.parts.segments[e.source - 2]);
    const want = (opts.fields.title ? 1 : 0) | (opts.fields.text ? 2 : 0) | (opts.fields.metadata ? 4 : 0);
    const vector = opts.vectors ? segmentVector(r, e.at, config.weighting, avgdl) : EMPTY;
    const doc: StoreDocument = { id: e.id, vector, ...r.fieldsOf(e.at, want) };
    if (opts.dense) {
      const d = r.denseOf(e.at);
      if (d !== undefined) doc.dense = d;
    }
    return doc;
  }
}

function sameCut(a: MemtableCut, b: MemtableCut): boolean {
  return a.slots === b.slots && a.deletes === b.deletes;
}

const EMPTY: SparseVector = Object.freeze({ indices: new Uint32Array(0), values: new Float32Array(0) });
