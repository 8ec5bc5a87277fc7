/**
 * The one table from error codes to HTTP status, and the error envelope every failure answers with:
 * `{"statusCode", "code", "error", "message"}` (API.md "Errors"), including 404 for unknown routes.
 *
 * Sources of errors and how they map:
 * - `SpladexError` from the service or the edge: by `code` (STATUS_BY_CODE). BUSY adds `Retry-After`.
 * - `CORRUPT_INDEX`: 500 with code CORRUPT_INDEX and the service's message, which names the damaged file so an
 *   operator can act; the data dir prefix is cut off (the file is named relative to it, in every message).
 * - EMFILE / ENFILE from the file system: 503 BUSY with Retry-After, this request only.
 * - Fastify's own errors (body too large 413, unsupported media type 415, malformed JSON / bad content length
 *   400, ...): by their `statusCode`.
 * - Anything else (a bug): 500 INTERNAL with a fixed message and the request id; the stack goes to the log only.
 * Registered by app.ts; `sendError` is also used by the auth hook and the not-found handler.
 */
import { STATUS_CODES } from 'node:http';
import { relativeToDataDir } from '../search/collection-dirs.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isSpladexError, type ErrorCode } from '../core/errors.js';
import type { RouteTable } from './method-not-allowed.js';

/** HTTP status for each error code. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BUSY: 503,
  RATE_LIMITED: 429,
  REQUEST_TIMEOUT: 408,
  URI_TOO_LONG: 414,
  MISDIRECTED_REQUEST: 421,
  METHOD_NOT_ALLOWED: 405,
  CORRUPT_INDEX: 500,
  STORAGE_FULL: 507,
  INTERNAL: 500,
};

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  408: 'REQUEST_TIMEOUT',
  414: 'URI_TOO_LONG',
  421: 'MISDIRECTED_REQUEST',
  429: 'RATE_LIMITED',
  503: 'BUSY',
};

/** The error body of every non-2xx answer. */
export interface ErrorEnvelope {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
}

/** Builds the envelope for a status and code. */
export function toEnvelope(statusCode: number, code: ErrorCode, message: string): ErrorEnvelope {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** Sends an error envelope; BUSY answers carry `Retry-After` (seconds, default 1), RATE_LIMITED ones when given. */
export function sendError(
  reply: FastifyReply,
  statusCode: number,
  code: ErrorCode,
  message: string,
  retryAfterSeconds?: number,
): FastifyReply {
  if (code === 'BUSY' || (code === 'RATE_LIMITED' && retryAfterSeconds !== undefined)) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds ?? 1))));
  }
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .send(toEnvelope(statusCode, code, message));
}

/** Messages for Fastify's own client errors, worded like ours (they name the part of the request at fault). */
function fastifyMessage(err: FastifyError, maxBodyBytes: number): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body: larger than the limit of ${maxBodyBytes} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'content-type: unsupported; send application/json (or application/x-ndjson for documents)';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'body: must not be empty when content-type is application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'body: not valid JSON';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'body: size does not match Content-Length';
    default:
      return err.message;
  }
}

/** Options of `registerErrorHandling`. */
export interface ErrorHandlingOptions {
  /** The body limit, quoted in 413 messages. */
  maxBodyBytes: number;
  /** When set, `<dataDir>/` is removed from CORRUPT_INDEX messages. */
  dataDir?: string;
  /** The app's routes, for 405 on a known path with another method (absent: always 404). */
  routes?: RouteTable;
}

/** Cuts the absolute data dir out of a message, leaving paths relative to it. */
export function relativizeMessage(message: string, dataDir: string | undefined): string {
  return dataDir === undefined || dataDir === '' ? message : relativeToDataDir(message, dataDir);
}

/** True for EMFILE / ENFILE, also as the `cause` (two levels) of a wrapping error. */
export function isOutOfFileDescriptors(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 3 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EMFILE' || code === 'ENFILE') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Installs the error handler and the JSON 404 handler on `app`. */
export function registerErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions): void {
  const { maxBodyBytes, dataDir } = options;
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // Out of file descriptors (EMFILE: this process, ENFILE: the system), raw or wrapped: only this request
    // fails, as BUSY (the collections budget keeps this rare).
    if (isOutOfFileDescriptors(err)) {
      request.log.error({ err }, 'out of file descriptors');
      return sendError(reply, 503, 'BUSY', 'server out of file descriptors; retry later', 5);
    }
    if (isSpladexError(err)) {
      const status = STATUS_BY_CODE[err.code];
      if (status >= 500) request.log.error({ err }, 'request failed');
      else request.log.debug({ code: err.code, message: err.message }, 'request rejected');
      // Any message may quote a file under the data dir (CORRUPT_INDEX always does): named relative to it.
      const message = err.code === 'INTERNAL' ? `internal error (request id ${request.id})` : relativizeMessage(err.message, dataDir);
      return sendError(reply, status, err.code, message, err.retryAfterSeconds);
    }

    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    const code = CODE_BY_STATUS[status];
    if (status >= 400 && status < 500) {
      request.log.debug({ code: err.code, message: err.message }, 'request rejected');
      // Client errors we have no code for (431, ...) keep their status and read as INVALID_ARGUMENT.
      return sendError(reply, status, code ?? 'INVALID_ARGUMENT', fastifyMessage(err, maxBodyBytes));
    }
    if (status === 503) return sendError(reply, 503, 'BUSY', 'server busy, retry later', 1);
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, 'INTERNAL', `internal error (request id ${request.id})`);
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0];
    const allowed = options.routes?.allowedMethods(path) ?? [];
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        405,
        'METHOD_NOT_ALLOWED',
        `method: ${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
      );
    }
    return sendError(reply, 404, 'NOT_FOUND', `route ${request.method} ${path} not found`);
  });
}
