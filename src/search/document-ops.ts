/**
 * Collection operations over many documents or parts of one (API.md "Documents"): count, bulk delete by ids or
 * by filter, partial update (PATCH) and scroll (id-ordered pages on a point in time, the export format).
 * Every write goes through the store's write-ahead log like an upsert (durable when it resolves): a delete by
 * filter is the ids the filter selects on one view, deleted in WAL records of at most DELETE_BATCH ids; a PATCH
 * is a read-merge-upsert of one document through the collection's own upsert (same validation, same encoder).
 * Called by Collection only.
 */
import { invalidArgument, notFound, SpladexError } from '../core/errors.js';
import {
  DEFAULT_SCROLL_LIMIT,
  MAX_CURSOR_CHARS,
  MAX_SCROLL_LIMIT,
  type DeleteRequest,
  type FilterInput,
  type Limits,
  type PatchRequest,
  type ScrollRequest,
} from '../config/request-schemas.js';
import type { CollectionConfig } from '../config/index-config.js';
import type { CollectionStore, StoreDocument, StoreSnapshot } from '../storage/store-types.js';

import type { CollectionCursor, CursorRegistry } from './cursors.js';
import type { DensePart } from './dense-part.js';
import type { TextBinding } from './text-binding.js';
import { toTokenMap } from './vector-input.js';

/** Ids per WAL record of a delete by filter (the bound of one request's ids). */
const DELETE_BATCH = 10_000;

/** What these operations need of a collection. */
export interface DocumentOpsContext {
  name: string;
  config: CollectionConfig;
  store: CollectionStore;
  binding: TextBinding;
  dense: DensePart | null;
  limits: Limits;
  checkFilter(filter: FilterInput): void;
  upsert(raw: readonly unknown[]): Promise<{ indexed: number; errors: { code: string; message: string }[] }>;
}

/** One scroll page. */
export interface ScrollPage {
  documents: Record<string, unknown>[];
  nextCursor: string | null;
}

export function countDocuments(ctx: DocumentOpsContext, filter: FilterInput | undefined): { count: number } {
  if (filter) ctx.checkFilter(filter);
  return { count: ctx.store.count(filter ?? null) };
}

/** Deletes by ids (absent ones skipped) or by filter; resolves to how many live documents were deleted. */
export async function deleteDocuments(ctx: DocumentOpsContext, req: DeleteRequest): Promise<{ deleted: number }> {
  let ids: string[];
  if (req.ids !== undefined) {
    if (req.ids.length > ctx.limits.maxDocsPerRequest) {
      throw invalidArgument('ids', `at most ${ctx.limits.maxDocsPerRequest} ids per request (SPLADEX_MAX_DOCS_PER_REQUEST)`);
    }
    ids = [...new Set(req.ids)];
  } else if (req.filter !== undefined) {
    ctx.checkFilter(req.filter);
    ids = ctx.store.liveIds(req.filter);
  } else {
    throw invalidArgument('ids', 'give exactly one of ids or filter');
  }
  let deleted = 0;
  for (let i = 0; i < ids.length; i += DELETE_BATCH) {
    const batch = ids.slice(i, i + DELETE_BATCH);
    deleted += await ctx.store.delete(batch);
    ctx.dense?.afterDelete(batch);
  }
  return { deleted };
}

/**
 * Merges `patch` into document `id` and stores the result (NOT_FOUND when absent). Metadata merges key by key
 * (null removes a key); a null title or text removes it. The vector is re-encoded from title + text when either
 * changes, or always for lexical collections (whose stored vector is a function of the text); otherwise the
 * stored vector (and dense vector) is kept, unless the patch gives a new one. A concurrent upsert of the same
 * id may interleave (last write wins).
 */
export async function patchDocument(ctx: DocumentOpsContext, id: string, patch: PatchRequest): Promise<void> {
  const cur = ctx.store.get(id);
  if (cur === undefined) throw notFound(`document "${id}" not found in collection "${ctx.name}"`);
  const next: Record<string, unknown> = { id };
  const title = patch.title === undefined ? cur.title : (patch.title ?? undefined);
  const text = patch.text === undefined ? cur.text : (patch.text ?? undefined);
  if (title !== undefined) next.title = title;
  if (text !== undefined) next.text = text;
  if (patch.metadata !== undefined || cur.metadata !== undefined) {
    const md: Record<string, unknown> = { ...(cur.metadata ?? {}) };
    for (const [k, v] of Object.entries(patch.metadata ?? {})) {
      if (v === null) delete md[k];
      else md[k] = v;
    }
    if (Object.keys(md).length > 0) next.metadata = md;
  }
  const textChanged = patch.title !== undefined || patch.text !== undefined;
  if (patch.vector !== undefined) next.vector = patch.vector;
  else if (!textChanged && ctx.binding.kind !== 'lexical' && ctx.binding.acceptsDocumentVectors) next.vector = upsertVector(ctx, cur);
  if (patch.dense !== undefined) next.dense = patch.dense;
  else if (cur.dense !== undefined && ctx.dense?.acceptsDocumentVectors === true) next.dense = Array.from(cur.dense);
  const r = await ctx.upsert([next]);
  if (r.errors.length > 0) {
    const e = r.errors[0];
    throw new SpladexError(e.code as SpladexError['code'], e.message.replace(/^documents\[0\]\.?/, '') || 'document: invalid');
  }
}

/** The vector of a stored document as an upsert takes it (see `scrollPage`'s `upsert` format). */
function upsertVector(ctx: DocumentOpsContext, d: StoreDocument): unknown {
  const ix = d.vector.indices;
  if (ctx.binding.kind === 'none') {
    // A token map when every term has a dictionary token (documents sent as token maps), so a re-indexed
    // collection gets the same tokens; else the ids.
    const dict = ctx.store.dictionary;
    let named = dict !== null;
    for (let i = 0; named && i < ix.length; i++) if (dict?.term(ix[i]) === undefined) named = false;
    if (named) return toTokenMap(d.vector, ctx.binding.vocab);
  }
  return { indices: Array.from(ix), values: Array.from(d.vector.values) };
}

/** Checks a scroll request's bounds (the route's schema checks them too; the library door skips it). */
function scrollLimit(req: ScrollRequest): number {
  const limit = req.limit ?? DEFAULT_SCROLL_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SCROLL_LIMIT) {
    throw invalidArgument('limit', `must be an integer from 1 to ${MAX_SCROLL_LIMIT} (documents per page)`);
  }
  if (req.cursor !== undefined && req.cursor.length > MAX_CURSOR_CHARS)
    throw invalidArgument('cursor', `at most ${MAX_CURSOR_CHARS} characters`);
  return limit;
}

/**
 * One page of live documents in id order. The first page pins a point in time; its `nextCursor` (null on the
 * last page) continues on that view, so pages neither repeat nor miss documents whatever is written meanwhile.
 * A cursor must come with the filter of its first page; `include`, `vector`, `format` and `limit` may vary.
 * `stateless` (cluster mode's per-shard pages, src/cluster): the page after that id on the current state, no
 * cursor read or opened (nextCursor null; the coordinator makes its own).
 */
export function scrollPage(
  ctx: DocumentOpsContext,
  cursors: CursorRegistry<CollectionCursor>,
  req: ScrollRequest,
  stateless?: { after: string | null },
): ScrollPage {
  const limit = scrollLimit(req);
  if (req.filter) ctx.checkFilter(req.filter);
  const fingerprint = JSON.stringify(req.filter ?? null);
  let view: StoreSnapshot;
  let after: string | null = null;
  let cursorId: number | null = null;
  if (stateless !== undefined) {
    view = ctx.store.snapshot();
    after = stateless.after;
  } else if (req.cursor !== undefined) {
    const p = cursors.verify(req.cursor, 'cursor');
    if (p.length !== 3 || p[0] !== 'l' || typeof p[1] !== 'number' || typeof p[2] !== 'string') {
      throw invalidArgument('cursor', 'not a documents cursor (a search cursor goes to searchAfter)');
    }
    const state = cursors.use(p[1], 'cursor');
    if (state.kind !== 'scroll') throw invalidArgument('cursor', 'not a documents cursor');
    if (state.fingerprint !== fingerprint)
      throw invalidArgument('cursor', 'belongs to a scroll with another filter: send the filter of its first page');
    view = state.view;
    after = p[2];
    cursorId = p[1];
  } else view = ctx.store.snapshot();
  const fields = { title: true, text: true, metadata: true };
  if (req.include !== undefined) {
    fields.title = req.include.includes('title');
    fields.text = req.include.includes('text');
    fields.metadata = req.include.includes('metadata');
  }
  const upsertForm = req.format === 'upsert';
  const vectors = req.vector === true || (upsertForm && ctx.binding.acceptsDocumentVectors);
  const dense = upsertForm && ctx.dense?.acceptsDocumentVectors === true;
  const docs = view.list({ after, limit, filter: req.filter ?? null, fields, vectors, dense });
  let nextCursor: string | null = null;
  if (docs.length === limit && stateless === undefined) {
    if (cursorId === null) cursorId = cursors.open({ kind: 'scroll', view, fingerprint });
    nextCursor = cursors.sign(['l', cursorId, docs[docs.length - 1].id]);
  }
  const documents = docs.map((d) => {
    const out: Record<string, unknown> = { id: d.id };
    if (d.title !== undefined) out.title = d.title;
    if (d.text !== undefined) out.text = d.text;
    if (d.metadata !== undefined) out.metadata = d.metadata;
    if (upsertForm) {
      if (ctx.binding.acceptsDocumentVectors) out.vector = upsertVector(ctx, d);
      if (d.dense !== undefined) out.dense = Array.from(d.dense);
    } else if (req.vector === true) out.vector = { tokens: toTokenMap(d.vector, ctx.binding.vocab) };
    return out;
  });
  return { documents, nextCursor };
}
