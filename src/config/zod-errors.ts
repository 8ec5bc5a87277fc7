/**
 * zod failures → `SpladexError('INVALID_ARGUMENT')` whose message names the field path, e.g. `k: must be <= 1000`
 * or `documents[3].vector.values[2]: must be a finite number`. For unions (a vector as `{indices, values}` or as a
 * token map) the branch the caller meant is reported instead of zod's bare "Invalid input". Shared by the server
 * (request validation) and the search service (per-document validation inside a batch).
 */
import type { z } from 'zod';
import { SpladexError } from '../core/errors.js';

type Issue = z.core.$ZodIssue;

/** Formats a zod path as `a[3].b.c[2]`; an empty path is `body`. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? 'body' : out;
}

/** Counts issues that say "this branch has the wrong shape" (vs. a value out of range inside the right shape). */
function structuralCount(issues: readonly Issue[]): number {
  let n = 0;
  for (const i of issues) if (i.code === 'invalid_type' || i.code === 'unrecognized_keys' || i.code === 'invalid_union') n++;
  return n;
}

function maxDepth(issues: readonly Issue[]): number {
  let d = 0;
  for (const i of issues) d = Math.max(d, i.path.length);
  return d;
}

/**
 * For a union (e.g. a vector given as `{indices, values}` or as a token map) zod reports every branch; the
 * branch with the fewest shape mismatches (then the deepest path) is the one the caller meant.
 */
function bestIssue(issue: Issue): { issue: Issue; prefix: PropertyKey[] } {
  if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) return { issue, prefix: [] };
  let best: readonly Issue[] = issue.errors[0];
  for (const branch of issue.errors.slice(1)) {
    const a = structuralCount(branch);
    const b = structuralCount(best);
    if (a < b || (a === b && maxDepth(branch) > maxDepth(best))) best = branch;
  }
  if (best.length === 0) return { issue, prefix: [] };
  const inner = bestIssue(best[0]);
  return { issue: inner.issue, prefix: [...issue.path, ...inner.prefix] };
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}

/**
 * Error map for request parsing: clearer wording for type errors (`1e999` parses to Infinity, which zod 4
 * reports as a wrong type). Schema-level messages (e.g. `must be <= 1000`) take precedence over this map.
 */
export const errorMap = (iss: z.core.$ZodRawIssue): string | undefined => {
  if (iss.code === 'invalid_type') {
    if (typeof iss.input === 'number' && !Number.isFinite(iss.input)) return 'must be a finite number';
    if (iss.input === undefined) return `is required (${iss.expected})`;
    return `expected ${iss.expected}, got ${describeValue(iss.input)}`;
  }
  if (iss.code === 'unrecognized_keys') return `unknown field(s) ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  return undefined;
};

/** Turns a zod error into one INVALID_ARGUMENT naming the first failing field; `root` prefixes the path. */
export function zodToSpladexError(error: z.ZodError, root = ''): SpladexError {
  const first = error.issues[0];
  if (first === undefined) return new SpladexError('INVALID_ARGUMENT', `${root || 'body'}: invalid`);
  const { issue, prefix } = bestIssue(first);
  // bestIssue returns the inner issue whose path is relative to the union; prefix holds the union's own path.
  const full = [...prefix, ...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys' && !message.startsWith('unknown field')) {
    message = `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  return new SpladexError('INVALID_ARGUMENT', `${formatPath(full, root)}: ${message}`);
}

/**
 * `schema.safeParse(data, { error: errorMap })` with the same result, but a valid input is parsed without a
 * per-call context: zod copies a given context with an object spread, and V8 (Node 20) allocates object-spread
 * clones directly in the old generation, so every request grew the old space (~266 B per parse, 2.2x slower;
 * measured) until the next major GC: the RSS saw-tooth of the load test. The error map only shapes messages, so
 * only a failing input is parsed a second time, with it.
 */
export function safeParseWithMessages<S extends z.ZodType>(schema: S, data: unknown): z.ZodSafeParseResult<z.output<S>> {
  const r = schema.safeParse(data);
  return r.success ? r : schema.safeParse(data, { error: errorMap });
}

/** Parses `data` with `schema`; throws INVALID_ARGUMENT naming the field on failure. */
export function parseOrThrow<S extends z.ZodType>(schema: S, data: unknown, root = ''): z.output<S> {
  const r = safeParseWithMessages(schema, data);
  if (!r.success) throw zodToSpladexError(r.error, root);
  return r.data;
}
