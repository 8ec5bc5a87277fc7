/**
 * Internal invariant checks. A failed assertion is a bug in spladex, never a user error, so it throws
 * `SpladexError('INTERNAL')`. Validate user input at the edge with zod instead.
 */
import { SpladexError } from './errors.js';

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SpladexError('INTERNAL', `assertion failed: ${message}`);
}
