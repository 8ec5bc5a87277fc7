/**
 * Well-formed UTF-16 checks for caller strings. Why: `JSON.parse('"\\ud800"')` yields a lone surrogate, which
 * UTF-8 encoding (WAL, segments, dictionary) turns into U+FFFD, so distinct ids or tokens became one on disk:
 * documents vanished at restart and two dictionary terms collided ("duplicate term", CORRUPT_INDEX for good).
 * Every door rejects such strings before anything is stored. Callers: request-schemas.ts (zod refinements),
 * the document normaliser (src/search/document-input.ts), the service (collection configs).
 */

/** The message every door gives for a string that is not well-formed UTF-16. */
export const ILL_FORMED_MESSAGE = 'must be well-formed Unicode (no lone surrogate code units)';

/** Whether `s` is well-formed UTF-16 (every surrogate is paired). */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * The path of the first string (key or value) in a JSON-like value that is not well-formed, as a field name
 * relative to `root` (`root.a[2]`, or `root` itself); null when every string is well-formed. Iterative, so deep
 * input cannot overflow the stack; visits each key and value once.
 */
export function findIllFormed(value: unknown, root: string): string | null {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i];
        const p = path === '' ? k : `${path}.${k}`;
        if (!isWellFormed(k)) return `${path === '' ? '' : `${path}.`}${JSON.stringify(k)} (key)`;
        stack.push([(v as Record<string, unknown>)[k], p]);
      }
    }
  }
  return null;
}
