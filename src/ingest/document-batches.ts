/**
 * Turns a JSONL file into batches of documents for the bulk indexer, in file order, with every line that is not
 * a JSON object reported by number (readLines → JSON.parse). Records are sent exactly as read: the service
 * normalises and validates them (src/search/document-input.ts: `_id`, integer ids, empty titles, unknown fields
 * rejected), the same rules as every other door, and its per-document errors come back with the line number.
 * Callers: bulk-index.ts.
 *
 * Parsing stays on the indexing thread. Tried: a worker thread that parsed and sent vectors packed in
 * transferred Float64Arrays; on this 2-core machine under load it was slower (200k pre-encoded docs: 8.5k and
 * 11.1k docs/s with the worker vs 14.1k and 13.9k without), since there is no idle core to overlap with and
 * unpacking costs main-thread time; structured-cloning the parsed objects instead costs as much as parsing
 * (12–25 µs/doc vs JSON.parse 18 µs/doc).
 */
import { readJsonLines } from './jsonl.js';

/** A line that was not indexed. */
export interface BadLine {
  line: number;
  id?: string;
  code: string;
  message: string;
}

/** Consecutive lines of the file: the documents they hold, their line numbers, and the lines that were bad. */
export interface DocumentBatch {
  docs: Record<string, unknown>[];
  /** 1-based line number of each doc. */
  lines: number[];
  bad: BadLine[];
  /** Non-blank lines covered by this batch. */
  lineCount: number;
  /** UTF-16 units covered (≈ bytes; for progress). */
  chars: number;
}

/** Batches of `batchSize` documents (the last one may be smaller, or hold only bad lines). */
export async function* readDocumentBatches(path: string, batchSize: number): AsyncGenerator<DocumentBatch> {
  let b: DocumentBatch = { docs: [], lines: [], bad: [], lineCount: 0, chars: 0 };
  for await (const rec of readJsonLines(path)) {
    b.lineCount++;
    b.chars += rec.chars;
    if (!rec.ok) {
      b.bad.push({ line: rec.line, code: 'INVALID_ARGUMENT', message: rec.error });
      continue;
    }
    b.docs.push(rec.value);
    b.lines.push(rec.line);
    if (b.docs.length >= batchSize) {
      yield b;
      b = { docs: [], lines: [], bad: [], lineCount: 0, chars: 0 };
    }
  }
  if (b.lineCount > 0) yield b;
}
