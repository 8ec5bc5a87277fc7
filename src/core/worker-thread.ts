/**
 * The one way spladex starts a `worker_threads` worker, and the one wire form of an error crossing the thread
 * boundary. Callers: src/encoders/worker-pool.ts, src/segment/seal-runner.ts, src/segment/search-pool.ts,
 * src/encoders/lsa/lsa-fit-runner.ts, src/seismic/build-parallel.ts (and the worker modules beside them, for
 * `toWireError`).
 *
 * A worker module is a `.ts` file beside its caller. `workerUrl(import.meta.url, './x-worker')` names the file of
 * the same flavour as the caller: `x-worker.js` when the caller runs compiled (`dist/`, plain `node`, no tsx
 * needed or loaded), `x-worker.ts` when it runs from sources (vitest, tsx). A fresh worker is plain Node.js and
 * cannot load TypeScript by itself, so for a `.ts` entry `startWorker` runs a two-line eval'd bootstrap that
 * registers tsx's ESM hooks (tsx is a devDependency, resolved from this file, so any cwd works) and then imports
 * the entry; `workerData`, `parentPort` and transfers behave as with a file entry.
 *
 * Errors: a worker answers a failure as `toWireError(e)` = `{code, message}`; the caller turns it back with
 * `fromWireError`, so a `SpladexError` thrown in a worker (e.g. INVALID_ARGUMENT for a bad encoder directory)
 * reaches the client with its code, and anything else becomes INTERNAL with its message.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { isErrorCode, isOutOfSpace, SpladexError } from './errors.js';

/** An error as posted between threads (structured-clone safe). */
export interface WireError {
  code: string;
  message: string;
}

/**
 * The worker module `name` (e.g. `'./seal-worker'`, no extension) beside `callerUrl` (the caller's
 * `import.meta.url`), with the caller's own extension: `.ts` from sources, `.js` from a build.
 */
export function workerUrl(callerUrl: string, name: string): URL {
  return new URL(`${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}

/**
 * The parent's flags a worker refuses: V8 and per-process options (`--max-old-space-size=…`, `--expose-gc`,
 * `--trace-gc`), which `new Worker` rejects with ERR_WORKER_INVALID_EXEC_ARGV. They hold for the whole process
 * anyway. Learnt from the first refusal, whose message lists every refused flag.
 */
const refusedFlags = new Set<string>();

/** The parent's flags for a worker: minus `--input-type` and the refused ones (see `refusedFlags`). */
function inheritedExecArgv(): string[] {
  return process.execArgv.filter((a) => !a.startsWith('--input-type') && !refusedFlags.has(a));
}

/**
 * Starts a worker on `entry` (from `workerUrl`). `execArgv` defaults to the parent's, minus `--input-type`
 * (set by `node --input-type=module -e …` parents, it makes a file entry fail) and minus the flags a worker refuses
 * (`node --max-old-space-size=8192 dist/main.js` failed every worker start). A `.ts` entry goes through the tsx
 * bootstrap (see the file comment).
 */
export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (options.execArgv !== undefined) return newWorker(entry, options, options.execArgv);
  try {
    return newWorker(entry, options, inheritedExecArgv());
  } catch (e) {
    // "Initiated Worker with invalid execArgv flags: --a=1, --b": drop those, once, and start it again.
    const listed = (e as { code?: string }).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? /flags: (.+)$/.exec((e as Error).message) : null;
    const refused = listed === null ? [] : listed[1].split(', ').filter((f) => process.execArgv.includes(f) && !refusedFlags.has(f));
    if (refused.length === 0) throw e;
    for (const f of refused) refusedFlags.add(f);
    return newWorker(entry, options, inheritedExecArgv());
  }
}

function newWorker(entry: URL, options: WorkerOptions, execArgv: string[]): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { ...options, execArgv });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { ...options, execArgv, eval: true });
}

/** The wire form of any thrown value: a SpladexError keeps its code, out-of-space errnos are STORAGE_FULL, anything else is INTERNAL. */
export function toWireError(e: unknown): WireError {
  if (e instanceof SpladexError) return { code: e.code, message: e.message };
  // ENOSPC/EDQUOT cross as STORAGE_FULL, so the parent answers 507 and retries the seal later.
  if (isOutOfSpace(e)) return { code: 'STORAGE_FULL', message: e instanceof Error ? e.message : String(e) };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** Back from the wire: a SpladexError with the code (INTERNAL when unknown or absent) and message. */
export function fromWireError(w: Partial<WireError> | null | undefined, fallbackMessage: string): SpladexError {
  const raw = w?.code;
  // A code the parent does not know (ERROR_CODES) arrives as INTERNAL.
  const code = isErrorCode(raw) ? raw : 'INTERNAL';
  return new SpladexError(code, w?.message ?? fallbackMessage);
}
