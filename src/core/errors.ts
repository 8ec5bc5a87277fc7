/**
 * Error vocabulary shared by every layer. Core code throws `SpladexError` with a `code`; the server maps codes
 * to HTTP status in one table (src/server/error-handler.ts) and the CLI maps them to exit codes. No HTTP here.
 */

/**
 * Every error code, as a runtime list: `ErrorCode` is derived from it, the OpenAPI error envelope's enum
 * (server/route-schemas.ts) comes from it, and the worker helper (worker-thread.ts) and the HTTP client
 * (src/ingest/client.ts) check codes against it (`isErrorCode`).
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'BUSY',
  'RATE_LIMITED',
  'REQUEST_TIMEOUT',
  'URI_TOO_LONG',
  'MISDIRECTED_REQUEST',
  'METHOD_NOT_ALLOWED',
  'CORRUPT_INDEX',
  'STORAGE_FULL',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** true when `code` is one of ERROR_CODES (e.g. a code read from a worker message or an HTTP answer). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

export class SpladexError extends Error {
  readonly code: ErrorCode;
  /** Seconds a client should wait before retrying (only for `BUSY`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpladexError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Shorthand for the most common error: a caller-supplied value is wrong. `field` is named in the message. */
export function invalidArgument(field: string, why: string): SpladexError {
  return new SpladexError('INVALID_ARGUMENT', `${field}: ${why}`);
}

export function notFound(what: string): SpladexError {
  return new SpladexError('NOT_FOUND', what);
}

/** A file on disk failed its checks; the message always names the file. */
export function corruptIndex(file: string, why: string, cause?: unknown): SpladexError {
  return new SpladexError('CORRUPT_INDEX', `corrupt index file ${file}: ${why}`, { cause });
}

/**
 * The error for a file that could not be read: CORRUPT_INDEX for what says something about the file (missing,
 * unreadable bytes), BUSY with Retry-After for a process out of descriptors or memory (EMFILE, ENFILE, ENOMEM,
 * EAGAIN): those say nothing about the file, and reporting them as corruption would mark a healthy collection
 * broken (issue 12.6: EMFILE while opening MANIFEST.json answered 500 CORRUPT_INDEX).
 */
export function unreadableFile(file: string, err: unknown): SpladexError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EMFILE' || code === 'ENFILE' || code === 'ENOMEM' || code === 'EAGAIN') {
    return new SpladexError('BUSY', `cannot read ${file} now (${code}); retry later`, { cause: err, retryAfterSeconds: 5 });
  }
  return corruptIndex(file, code === 'ENOENT' ? 'file is missing' : `cannot read (${code ?? String(err)})`, err);
}

export function isSpladexError(e: unknown): e is SpladexError {
  return e instanceof SpladexError;
}

/** True for the errno codes of a full volume or an exhausted quota (ENOSPC, EDQUOT). */
export function isOutOfSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || (isSpladexError(e) && e.code === 'STORAGE_FULL');
}

/**
 * STORAGE_FULL for a write that failed because the data volume is full; `what` says what was being written
 * (no absolute paths: the message is shown to API clients). The write was not applied.
 */
export function storageFull(what: string, cause?: unknown): SpladexError {
  return new SpladexError('STORAGE_FULL', `no space left on the data volume while writing ${what}; nothing of it was applied`, { cause });
}

/** `err` as STORAGE_FULL when it is an out-of-space errno, else unchanged. */
export function asStorageError(err: unknown, what: string): unknown {
  return isOutOfSpace(err) && !isSpladexError(err) ? storageFull(what, err) : err;
}
