/**
 * Cursors of one collection (API.md "Paging", "Scroll"): a registry of points in time (a store view plus what a
 * page needs to continue: the searched query vector, the search's fingerprint, the scroll's filter), and the
 * tokens handed to clients. A token is `base64url(JSON [kind, context id, position…]) "." base64url(HMAC)`,
 * signed with a key drawn when the collection opens: a client can replay a token (the same page again) but not
 * forge or edit one, so the position it carries (the last hit's score and id, or the last listed id) is trusted.
 *
 * Bounds: at most `max` open contexts (the least recently used is dropped first), each expiring `ttlMs` after
 * its last use; both answer INVALID_ARGUMENT naming the field, as a malformed or foreign token does.
 * Callers: collection.ts (search pages, scroll pages).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidArgument } from '../core/errors.js';
import type { SearchRequest } from '../config/request-schemas.js';
import type { SparseVector } from '../core/sparse-vector.js';
import type { StoreSearchOptions, StoreSnapshot } from '../storage/store-types.js';

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

interface Entry<T> {
  state: T;
  expiresAt: number;
}

const MAC_BYTES = 16;

/** Open points in time by id, and the signing of their tokens (see the file comment). */
export class CursorRegistry<T> {
  private readonly key = randomBytes(32);
  /** Map order is least recently used first (a use re-inserts). */
  private readonly entries = new Map<number, Entry<T>>();
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
    // Map order is last use, and every use sets now + ttl: expired entries are a prefix (O(expired), not O(size)).
    for (const [id, e] of this.entries) {
      if (e.expiresAt > now) break;
      this.entries.delete(id);
    }
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
    }
    const id = this.nextId++;
    this.entries.set(id, { state, expiresAt: now + this.ttlMs });
    return id;
  }

  /** The state of context `id`, its expiry pushed back; INVALID_ARGUMENT naming `field` when it is gone. */
  use(id: number, field: string): T {
    const e = this.entries.get(id);
    const now = this.now();
    if (e === undefined || e.expiresAt <= now) {
      this.entries.delete(id);
      throw invalidArgument(
        field,
        `the cursor expired (its point in time is kept ${this.ttlMs} ms after its last use, SPLADEX_CURSOR_TTL_MS, and at most ${this.max} per collection, SPLADEX_MAX_CURSORS); start again from the first page`,
      );
    }
    this.entries.delete(id);
    e.expiresAt = now + this.ttlMs;
    this.entries.set(id, e);
    return e.state;
  }

  /** A signed token for `payload` (JSON values). */
  sign(payload: readonly unknown[]): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The payload of a token this registry signed; INVALID_ARGUMENT naming `field` otherwise. */
  verify(token: string, field: string): unknown[] {
    const bad = () =>
      invalidArgument(field, 'not a cursor of this collection (malformed, altered, or from another collection or server run)');
    const dot = token.indexOf('.');
    if (dot <= 0) throw bad();
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.mac(body))) throw bad();
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw bad();
    }
    if (!Array.isArray(payload)) throw bad();
    return payload;
  }

  clear(): void {
    this.entries.clear();
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, MAC_BYTES);
  }
}
