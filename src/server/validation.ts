/**
 * zod as Fastify's validator: route schemas are zod schemas (the same ones the OpenAPI document is generated
 * from, see openapi.ts), and a failed parse becomes `SpladexError('INVALID_ARGUMENT')` whose message names the
 * field path (formatting lives in src/config/zod-errors.ts, shared with the service). Called by app.ts
 * (setValidatorCompiler) and by routes that validate by hand.
 */
import type { z } from 'zod';
import { safeParseWithMessages, zodToSpladexError } from '../config/zod-errors.js';

export { formatPath, parseOrThrow, zodToSpladexError } from '../config/zod-errors.js';

/** Like `parseOrThrow` but returns a result object (Fastify validator-compiler shape). */
export function safeParseForFastify(schema: z.ZodType, data: unknown, root: string): { value: unknown } | { error: Error } {
  const r = safeParseWithMessages(schema, data);
  return r.success ? { value: r.data } : { error: zodToSpladexError(r.error, root) };
}

/** True when `s` looks like a zod schema (route schemas are zod; anything else is left to Fastify). */
export function isZodSchema(s: unknown): s is z.ZodType {
  return typeof s === 'object' && s !== null && '_zod' in s;
}
