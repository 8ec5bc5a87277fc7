/**
 * Paging through the cluster without state at the coordinator (API.md "Paging", "Scroll"; docs/CLUSTER.md):
 * - scroll (`GET …/documents`): every shard sends its first `limit` live documents after the cursor's id, in id
 *   order (documents are spread over shards by id hash, so one id is every shard's position); the coordinator
 *   keeps the first `limit` of the merge. The cursor is that last id with the filter's fingerprint.
 * - `searchAfter`: every shard searches after the cursor's (score, id) with the store's cursor gate; the merge
 *   of the shards' next k is the collection's next k. The cursor is that (score, id) with the request's
 *   fingerprint (search-page.ts `searchFingerprint`, the single process's rule for what later pages repeat).
 * Unlike one process, the pages are not of one point in time: each page reads the shards' current state, so a
 * document present during the whole scroll is listed exactly once, while one written or deleted meanwhile may or
 * may not be (and a search page reflects writes made since the first). The tokens are plain (base64url JSON,
 * `c1.` prefix): forging one yields no more than the fields it carries. Used by cluster-node.ts.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../core/errors.js';
import { DEFAULT_SCROLL_LIMIT, MAX_CURSOR_CHARS, type ScrollRequest } from '../config/request-schemas.js';
import type { CollectionSpec } from './cluster-state.js';
import type { ShardCaller } from './fan-out.js';

const PREFIX = 'c1.';

type Payload = ['l', string, string] | ['s', string, number, string];

function encode(p: Payload): string {
  return PREFIX + Buffer.from(JSON.stringify(p), 'utf8').toString('base64url');
}

function decode(token: string, field: string): Payload {
  if (token.length > MAX_CURSOR_CHARS) throw invalidArgument(field, `at most ${MAX_CURSOR_CHARS} characters`);
  let p: unknown = null;
  if (token.startsWith(PREFIX)) {
    try {
      p = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'));
    } catch {
      p = null;
    }
  }
  const ok =
    Array.isArray(p) &&
    ((p.length === 3 && p[0] === 'l' && typeof p[1] === 'string' && typeof p[2] === 'string') ||
      (p.length === 4 && p[0] === 's' && typeof p[1] === 'string' && typeof p[2] === 'number' && typeof p[3] === 'string'));
  if (!ok) throw invalidArgument(field, 'not a cursor of this cluster');
  return p as Payload;
}

function filterFingerprint(filter: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(filter ?? null))
    .digest('base64url')
    .slice(0, 22);
}

/** One scroll page through the fan-out; see the file header. */
export async function scrollThroughFanOut(
  spec: CollectionSpec,
  caller: ShardCaller,
  req: ScrollRequest,
): Promise<{ documents: Record<string, unknown>[]; nextCursor: string | null }> {
  const fingerprint = filterFingerprint(req.filter);
  let after: string | null = null;
  if (req.cursor !== undefined) {
    const p = decode(req.cursor, 'cursor');
    if (p[0] !== 'l') throw invalidArgument('cursor', 'not a documents cursor (a search cursor goes to searchAfter)');
    if (p[1] !== fingerprint) throw invalidArgument('cursor', 'belongs to a scroll with another filter: send the filter of its first page');
    after = p[2];
  }
  const limit = req.limit ?? DEFAULT_SCROLL_LIMIT;
  const shardReq: ScrollRequest = { ...req, cursor: undefined };
  const parts = await Promise.all(
    spec.placement.map((_n, shard) =>
      caller.call<{ documents: Record<string, unknown>[] }>(spec, { op: 'scroll', collection: spec.name, shard, req: shardReq, after }),
    ),
  );
  const documents = parts
    .flatMap((p) => p.documents)
    .sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0))
    .slice(0, limit);
  const nextCursor = documents.length === limit ? encode(['l', fingerprint, String(documents[documents.length - 1].id)]) : null;
  return { documents, nextCursor };
}

/** The (score, id) a `searchAfter` token continues after; INVALID_ARGUMENT for another search's or a scroll's. */
export function searchAfterPosition(token: string, fingerprint: string): { score: number; id: string } {
  const p = decode(token, 'searchAfter');
  if (p[0] !== 's') throw invalidArgument('searchAfter', 'not a search cursor (a documents scroll cursor goes to GET …/documents?cursor=)');
  if (p[1] !== fingerprint) {
    throw invalidArgument(
      'searchAfter',
      'belongs to another search: send the query, vector, dense, filter, params, prf and hybrid of its first page',
    );
  }
  return { score: p[2], id: p[3] };
}

/** The `searchAfter` token of a full page ending at `last`. */
export function searchCursor(fingerprint: string, last: { score: number; id: string }): string {
  return encode(['s', fingerprint, last.score, last.id]);
}
