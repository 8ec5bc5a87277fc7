/**
 * Cursors of one collection (API.md "Paging", "Scroll"): a registry of points in time (a store view plus what a
 * page needs to continue: the searched query vector, the search's fingerprint, the scroll's filter), and the
 * tokens handed to clients. A token is `base64url(JSON [kind, context id, position…]) "." base64url(MAC)`, the MAC
 * a SipHash-2-4 tag (siphash.ts, 64 bits) of the JSON's UTF-8 bytes under a key drawn when the collection opens:
 * a client can replay a token (the same page again) but not forge or edit one, so the position it carries (the
 * last hit's score and id, or the last listed id) is trusted. Every full search page signs one, so signing is on
 * the hot path: HMAC-SHA-256 through node:crypto cost 4.1 µs a token, this 1.0 µs (measured, issue 14). A forger
 * without the key has one chance in 2^64 per request sent.
 *
 * Bounds: at most `max` open contexts (the least recently used is dropped first), each expiring `ttlMs` after
 * its last use; both answer INVALID_ARGUMENT naming the field, as a malformed or foreign token does.
 * Callers: collection.ts (search pages, scroll pages).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidArgument } from '../core/errors.js';
import type { SearchRequest } from '../config/request-schemas.js';
import type { SparseVector } from '../core/sparse-vector.js';
import type { StoreSearchOptions, StoreSnapshot } from '../storage/store-types.js';
import { sipHash24, sipKey } from './siphash.js';

/**
 * What a collection's cursor pins: a search's view, searched query vector, options and fingerprint (the ranking
 * fields of its first page), or a scroll's view and filter fingerprint.
 */
export type CollectionCursor =
  | {
      kind: 'search';
      view: StoreSnapshot;
      query: SparseVector;
      options: StoreSearchOptions;
      /**
       * The first page's request; its fingerprint (search-page.ts) is computed only when a later page comes —
       * hashing it for every full page cost ~10 µs of a ~60 µs search, for cursors that are mostly never used.
       */
      firstPage: SearchRequest;
    }
  | { kind: 'scroll'; view: StoreSnapshot; fingerprint: string };

export interface CursorRegistryOptions {
  ttlMs: number;
  max: number;
  /** Clock, ms (tests). */
  now?: () => number;
}

/** A context, linked in last-use order (the registry's list runs least recently used first). */
interface Entry<T> {
  id: number;
  state: T;
  expiresAt: number;
  prev: Entry<T> | null;
  next: Entry<T> | null;
}

const MAC_BYTES = 8;
/** Scratch for the UTF-8 bytes of a token's JSON (a longer one gets its own buffer). */
const SCRATCH_BYTES = 8192;

/** Open points in time by id, and the signing of their tokens (see the file comment). */
export class CursorRegistry<T> {
  private readonly key = sipKey(randomBytes(16));
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private readonly macOut = Buffer.alloc(MAC_BYTES);
  private readonly entries = new Map<number, Entry<T>>();
  /**
   * The contexts by last use, least recent first: eviction and expiry take from the head. Not Map order: V8's
   * Map iterator steps over the slots of deleted entries until the table is rebuilt, and a full registry deletes
   * one per open, so `keys().next()` cost grew with the deletes (1.5 µs per open at max 1,000, measured).
   */
  private head: Entry<T> | null = null;
  private tail: Entry<T> | null = null;
  private nextId = 1;
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(opts: CursorRegistryOptions) {
    this.ttlMs = opts.ttlMs;
    this.max = opts.max;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Registers `state`; returns its context id. Drops expired contexts, then the least recently used over `max`. */
  open(state: T): number {
    const now = this.now();
    // Every use sets now + ttl and moves to the tail: expired entries are a prefix (O(expired), not O(size)).
    while (this.head !== null && (this.head.expiresAt <= now || this.entries.size >= this.max)) this.remove(this.head);
    const id = this.nextId++;
    const e: Entry<T> = { id, state, expiresAt: now + this.ttlMs, prev: null, next: null };
    this.entries.set(id, e);
    this.append(e);
    return id;
  }

  /** The state of context `id`, its expiry pushed back; INVALID_ARGUMENT naming `field` when it is gone. */
  use(id: number, field: string): T {
    const e = this.entries.get(id);
    const now = this.now();
    if (e === undefined || e.expiresAt <= now) {
      if (e !== undefined) this.remove(e);
      throw invalidArgument(
        field,
        `the cursor expired (its point in time is kept ${this.ttlMs} ms after its last use, SPLADEX_CURSOR_TTL_MS, and at most ${this.max} per collection, SPLADEX_MAX_CURSORS); start again from the first page`,
      );
    }
    this.unlink(e);
    e.expiresAt = now + this.ttlMs;
    this.append(e);
    return e.state;
  }

  /** A signed token for `payload` (JSON values). */
  sign(payload: readonly unknown[]): string {
    const json = JSON.stringify(payload);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; the scratch holds every token up to MAX_CURSOR_CHARS.
    const buf = json.length * 3 <= SCRATCH_BYTES ? this.scratch : Buffer.allocUnsafe(json.length * 3);
    const n = buf.write(json, 0, 'utf8');
    sipHash24(this.key, buf, n, this.macOut, 0);
    return `${buf.toString('base64url', 0, n)}.${this.macOut.toString('base64url')}`;
  }

  /** The payload of a token this registry signed; INVALID_ARGUMENT naming `field` otherwise. */
  verify(token: string, field: string): unknown[] {
    const bad = () =>
      invalidArgument(field, 'not a cursor of this collection (malformed, altered, or from another collection or server run)');
    const dot = token.indexOf('.');
    if (dot <= 0) throw bad();
    const body = Buffer.from(token.slice(0, dot), 'base64url');
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    if (mac.length !== MAC_BYTES) throw bad();
    sipHash24(this.key, body, body.length, this.macOut, 0);
    if (!timingSafeEqual(mac, this.macOut)) throw bad();
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      throw bad();
    }
    if (!Array.isArray(payload)) throw bad();
    return payload;
  }

  clear(): void {
    this.entries.clear();
    this.head = null;
    this.tail = null;
  }

  private remove(e: Entry<T>): void {
    this.unlink(e);
    this.entries.delete(e.id);
  }

  private append(e: Entry<T>): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail === null) this.head = e;
    else this.tail.next = e;
    this.tail = e;
  }

  private unlink(e: Entry<T>): void {
    if (e.prev === null) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === null) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = null;
    e.next = null;
  }
}
