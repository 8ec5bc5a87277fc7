/**
 * Request body parsers. Only two media types are accepted: `application/json` everywhere and
 * `application/x-ndjson` on routes whose config sets `ndjson: true` (document upserts), where each non-blank
 * line is one document and the result is shaped like the JSON body, `{documents: [...]}`. Anything else → 415.
 *
 * Invariants: a body that is not valid JSON/NDJSON fails here with 400 INVALID_ARGUMENT (naming the line for
 * NDJSON) before any handler runs, so nothing is indexed. JSON keys spelled `__proto__` are refused (prototype
 * poisoning), the same policy as Fastify's default parser. Numbers like `1e999` parse to Infinity and are
 * rejected later by schema validation. Registered by app.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpladexError } from '../core/errors.js';

/** Route config flag that allows NDJSON bodies. */
export interface NdjsonRouteConfig {
  ndjson?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Accept `application/x-ndjson` bodies on this route (see body-parsers.ts). */
    ndjson?: boolean;
  }
}

// Matches a `__proto__` key, also when its characters are \u-escaped (as secure-json-parse does).
const PROTO_KEY = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;

function parseJsonText(text: string, where: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `${where}: not valid JSON (${(e as Error).message})`);
  }
  if (PROTO_KEY.test(text)) throw new SpladexError('INVALID_ARGUMENT', `${where}: must not contain a "__proto__" key`);
  return value;
}

/** Parses an NDJSON document stream into `{documents}`; blank lines are skipped; throws on the first bad line. */
export function parseNdjsonDocuments(text: string): { documents: unknown[] } {
  const documents: unknown[] = [];
  const cursor = { start: 0, lineNo: 0 };
  parseNdjsonLines(text, cursor, documents, Infinity);
  return { documents };
}

/** Parses lines from `cursor` until the text ends or `untilMs` (performance.now()) has passed. */
function parseNdjsonLines(text: string, cursor: { start: number; lineNo: number }, documents: unknown[], untilMs: number): void {
  while (cursor.start <= text.length) {
    let end = text.indexOf('\n', cursor.start);
    if (end < 0) end = text.length;
    cursor.lineNo++;
    const line = text.slice(cursor.start, end).trim();
    if (line !== '') documents.push(parseJsonText(line, `body line ${cursor.lineNo}`));
    cursor.start = end + 1;
    // Checked every 64 lines: performance.now() costs ~50 ns, a small line ~1 µs to parse.
    if ((cursor.lineNo & 63) === 0 && performance.now() > untilMs) return;
  }
}

/** Time slice of the NDJSON parser before it yields to the event loop, ms. */
const NDJSON_SLICE_MS = 10;

/**
 * Like `parseNdjsonDocuments`, but yields to the event loop (setImmediate) after each NDJSON_SLICE_MS of parsing,
 * so a 32 MiB NDJSON upsert does not hold /health up for the whole parse (one line is one document and at most
 * one slice plus that line's parse). Same results and errors.
 */
export async function parseNdjsonDocumentsYielding(text: string): Promise<{ documents: unknown[] }> {
  const documents: unknown[] = [];
  const cursor = { start: 0, lineNo: 0 };
  for (;;) {
    parseNdjsonLines(text, cursor, documents, performance.now() + NDJSON_SLICE_MS);
    if (cursor.start > text.length) return { documents };
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Replaces Fastify's default parsers with the two accepted media types. */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // An empty body is an absent body (clients often send the header on bodyless POSTs); routes that need a
    // body then answer `body: is required`.
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseJsonText(text, 'body'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, async (req: FastifyRequest, body: string | Buffer) => {
    const config = req.routeOptions.config as NdjsonRouteConfig;
    if (config.ndjson !== true) throw new SpladexError('UNSUPPORTED_MEDIA_TYPE', 'content-type: application/x-ndjson is only accepted for document upserts');
    return parseNdjsonDocumentsYielding(typeof body === 'string' ? body : body.toString('utf8'));
  });
}
