/**
 * Line readers for JSONL and text files: `readLines` (1-based line numbers, LF or CRLF, BOM dropped, 1 MiB
 * chunks, never the whole file) and `readJsonLines` (each non-blank line parsed to an object, or the reason it
 * could not be). A missing file throws NOT_FOUND naming it. Callers: bulk indexing (document-batches.ts), the
 * BEIR loader and TREC run reader in src/eval/.
 */
import { createReadStream, existsSync } from 'node:fs';
import { notFound } from '../core/errors.js';

/** One line of a JSONL file: parsed object, or the reason it could not be parsed. `line` is 1-based. */
export type JsonLine =
  | { ok: true; line: number; chars: number; value: Record<string, unknown> }
  | { ok: false; line: number; chars: number; error: string };

function assertFile(path: string): void {
  if (!existsSync(path)) throw notFound(`file not found: ${path}`);
}

/**
 * Yields the lines of a UTF-8 text file with 1-based numbers (LF or CRLF endings; a leading BOM is dropped).
 * Splits 1 MiB buffers on 0x0A itself instead of using node:readline: 4.5× faster on a 300 MB JSONL file
 * (0.34 s vs 1.5 s), which matters for bulk indexing of pre-encoded vectors. Memory: one chunk plus the line
 * that straddles it.
 */
export async function* readLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  assertFile(path);
  let rest: Buffer | null = null;
  let line = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf: Buffer = rest === null ? chunk : Buffer.concat([rest, chunk]);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      let end = nl;
      if (end > start && buf[end - 1] === 13) end--;
      line++;
      yield { line, text: decodeLine(buf, start, end, line) };
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : null;
  }
  if (rest !== null) {
    let end = rest.length;
    if (end > 0 && rest[end - 1] === 13) end--;
    line++;
    yield { line, text: decodeLine(rest, 0, end, line) };
  }
}

function decodeLine(buf: Buffer, start: number, end: number, line: number): string {
  // UTF-8 byte order mark EF BB BF at the start of the file.
  if (line === 1 && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  return buf.toString('utf8', start, end);
}

/**
 * Yields every non-blank line of a JSONL file as a parsed object or an error (not a JSON object, bad JSON).
 * `chars` is the line's length in UTF-16 units plus its newline (≈ bytes for mostly-ASCII text; for progress).
 */
export async function* readJsonLines(path: string): AsyncGenerator<JsonLine> {
  for await (const { line, text } of readLines(path)) {
    const chars = text.length + 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      yield { ok: false, line, chars, error: `invalid JSON: ${(e as Error).message}` };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { ok: false, line, chars, error: 'expected a JSON object' };
      continue;
    }
    yield { ok: true, line, chars, value: value as Record<string, unknown> };
  }
}
