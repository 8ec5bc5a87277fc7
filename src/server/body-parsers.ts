/**
 * Request body parsers. Only two media types are accepted: `application/json` everywhere and
 * `application/x-ndjson` on routes whose config sets `ndjson: true` (document upserts), where each non-blank
 * line is one document and the result is shaped like the JSON body, `{documents: [...]}`. Anything else → 415.
 *
 * Invariants: a body that is not valid JSON/NDJSON fails here with 400 INVALID_ARGUMENT (naming the line for
 * NDJSON) before any handler runs, so nothing is indexed. JSON keys that decode to `__proto__` are refused
 * (prototype poisoning), the same policy as Fastify's default parser. An object with more keys than any schema
 * allows is refused before JSON.parse (json-scan.ts); large bodies are parsed in slices that yield to the event
 * loop. Numbers like `1e999` parse to Infinity and are rejected later by schema validation. The one exception to
 * "parsed before the handler": on the batch search route (config `searchBatch: true`, read-only) a
 * `{"searches": [...]}` body is only scanned here and its searches are parsed as the service reads them
 * (lazy-batch.ts); a malformed one still gets this 400, with the same message, instead of any result.
 * Registered by app.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpladexError } from '../core/errors.js';
import { TimeSlicer } from '../core/time-slice.js';
import { batchSearchSchema, DEFAULT_LIMITS, searchRequestSchema, type Limits } from '../config/request-schemas.js';
import { type JsonScanLimits, parseJsonChunked } from './json-scan.js';
import { type BatchSchemas, LazySearchBatch } from './lazy-batch.js';

/** Route config flag that allows NDJSON bodies. */
export interface NdjsonRouteConfig {
  ndjson?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Accept `application/x-ndjson` bodies on this route (see body-parsers.ts). */
    ndjson?: boolean;
    /** A batch search body: parsed into a LazySearchBatch when it has that shape (lazy-batch.ts). */
    searchBatch?: boolean;
  }
}

/** Keys a plain request object (not a token map or metadata) may have; far above any schema's field count. */
const PLAIN_OBJECT_KEYS = 64;

/**
 * The scanner's per-object key limit: the largest key count any request schema allows (document token maps
 * `maxDocTerms`, query token maps `maxQueryTerms`, metadata `maxMetadataKeys`), so it refuses only objects that
 * validation would refuse too, but before JSON.parse builds them.
 */
export function jsonScanLimitsFor(limits: Pick<Limits, 'maxQueryTerms' | 'maxDocTerms' | 'maxMetadataKeys'>): JsonScanLimits {
  const candidates: Array<[string, number]> = [
    ['maxDocTerms', limits.maxDocTerms],
    ['maxQueryTerms', limits.maxQueryTerms],
    ['maxMetadataKeys', limits.maxMetadataKeys],
  ];
  let best: [string, number] = ['plain objects', PLAIN_OBJECT_KEYS];
  for (const c of candidates) if (c[1] > best[1]) best = c;
  return { maxKeysPerObject: best[1], maxKeysName: best[0] };
}

/** Parses an NDJSON document stream into `{documents}`; blank lines are skipped; throws on the first bad line. */
export async function parseNdjsonDocuments(
  text: string,
  scanLimits: JsonScanLimits = jsonScanLimitsFor(DEFAULT_LIMITS),
): Promise<{ documents: unknown[] }> {
  return parseNdjsonDocumentsYielding(text, scanLimits);
}

/**
 * Parses NDJSON, each line through parseJsonChunked (key-count and `__proto__` checks before JSON.parse), yielding
 * to the event loop (one shared TimeSlicer) whenever a slice has been used, so a 32 MiB NDJSON upsert does not hold
 * /health up for the whole parse. One line is one document.
 */
export async function parseNdjsonDocumentsYielding(text: string, scanLimits: JsonScanLimits): Promise<{ documents: unknown[] }> {
  const documents: unknown[] = [];
  const slicer = new TimeSlicer();
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    if (line !== '') documents.push(await parseJsonChunked(line, { ...scanLimits, where: `body line ${lineNo}`, slicer }));
    start = end + 1;
    if (slicer.due()) await slicer.yield();
  }
  return { documents };
}

// `text.trim() === ''` would copy a 32 MiB body; this stops at the first non-blank character.
function isBlankText(text: string): boolean {
  return !/\S/.test(text);
}

/** Replaces Fastify's default parsers with the two accepted media types. */
export function registerBodyParsers(app: FastifyInstance, limits: Limits): void {
  const scanLimits = jsonScanLimitsFor(limits);
  const batch: BatchSchemas = { body: batchSearchSchema(limits), element: searchRequestSchema(limits), limits };
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, async (req: FastifyRequest, body: string | Buffer) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // An empty body is an absent body (clients often send the header on bodyless POSTs); routes that need a
    // body then answer `body: is required`.
    if (isBlankText(text)) return undefined;
    if (req.routeOptions.config.searchBatch === true) return LazySearchBatch.from(text, batch, { ...scanLimits, where: 'body' });
    return parseJsonChunked(text, { ...scanLimits, where: 'body' });
  });
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, async (req: FastifyRequest, body: string | Buffer) => {
    const config = req.routeOptions.config as NdjsonRouteConfig;
    if (config.ndjson !== true)
      throw new SpladexError('UNSUPPORTED_MEDIA_TYPE', 'content-type: application/x-ndjson is only accepted for document upserts');
    return parseNdjsonDocumentsYielding(typeof body === 'string' ? body : body.toString('utf8'), scanLimits);
  });
}
