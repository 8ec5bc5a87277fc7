/**
 * Renders a zod issue as "field.path: message", so every validation error names the field (API.md errors).
 * Shared by the service (per-document errors) and the server (request bodies).
 */
import type { z } from 'zod';

/** `prefix` is prepended to the issue path (e.g. `documents[3]`). */
export function formatZodIssue(issue: z.core.$ZodIssue | undefined, prefix = ''): string {
  if (!issue) return `${prefix || 'body'}: invalid`;
  let path = prefix;
  for (const p of issue.path) {
    if (typeof p === 'number') path += `[${p}]`;
    else path += path ? `.${String(p)}` : String(p);
  }
  return `${path || 'body'}: ${issue.message}`;
}
