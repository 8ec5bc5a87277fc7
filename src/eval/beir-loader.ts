/**
 * Streaming readers for BEIR datasets: `corpus.jsonl` (`{"_id", "title", "text", ...}`; `id` accepted too),
 * `queries.jsonl` (`{"_id", "text"}`) and `qrels/<split>.tsv` (`query-id \t corpus-id \t score`, optional header).
 * Files are read line by line (`readLines`) and never loaded whole, so corpora of millions of lines stream.
 * Callers: the CLI's bulk index (corpus lines), the BEIR runner (queries, qrels), tests.
 *
 * Errors: a missing file throws NOT_FOUND naming it; a malformed line is yielded as `{ ok: false, line, error }`
 * by `readJsonLines` (so bulk indexing can report and skip it) and throws INVALID_ARGUMENT naming file and line
 * in the strict readers (`loadQueries`, `loadQrels`).
 */
import { createReadStream, existsSync } from 'node:fs';
import { SpladexError, invalidArgument, notFound } from '../core/errors.js';
import { toDocumentId } from '../search/document-input.js';

/** One line of a JSONL file: parsed object, or the reason it could not be parsed. `line` is 1-based. */
export type JsonLine =
  | { ok: true; line: number; chars: number; value: Record<string, unknown> }
  | { ok: false; line: number; chars: number; error: string };

/** A BEIR corpus document. */
export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

/** qid → (docid → graded relevance). Relevance may be 0 or negative (judged non-relevant). */
export type Qrels = Map<string, Map<string, number>>;

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

/**
 * The id of a JSONL record: `_id` (BEIR) or `id`, by the document model's rule (integers become their decimal
 * string, strings are kept as they are: src/search/document-input.ts). undefined when absent or empty.
 */
export function recordId(rec: Record<string, unknown>): string | undefined {
  const v = toDocumentId(rec._id ?? rec.id);
  return v === '' ? undefined : v;
}

/** Streams a BEIR corpus; throws INVALID_ARGUMENT naming the line on a malformed record. */
export async function* readBeirCorpus(path: string): AsyncGenerator<BeirDocument> {
  for await (const rec of readJsonLines(path)) {
    if (!rec.ok) throw invalidArgument(`${path}:${rec.line}`, rec.error);
    const id = recordId(rec.value);
    if (id === undefined) throw invalidArgument(`${path}:${rec.line}`, 'record has no "_id" or "id"');
    const title = typeof rec.value.title === 'string' ? rec.value.title : '';
    const text = typeof rec.value.text === 'string' ? rec.value.text : '';
    yield { id, title, text };
  }
}

/** Loads `queries.jsonl` into qid → text (queries are small; the file is still read line by line). */
export async function loadQueries(path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const rec of readJsonLines(path)) {
    if (!rec.ok) throw invalidArgument(`${path}:${rec.line}`, rec.error);
    const id = recordId(rec.value);
    const text = rec.value.text;
    if (id === undefined || typeof text !== 'string') {
      throw invalidArgument(`${path}:${rec.line}`, 'a query needs "_id" and a string "text"');
    }
    out.set(id, text);
  }
  return out;
}

/**
 * Loads a qrels TSV (`qid docid rel`, tab-separated, or space-separated when the line has no tab; a first line whose third column is not a number
 * is a header and skipped; 4-column TREC qrels `qid 0 docid rel` are accepted too). Later lines win on repeats.
 */
export async function loadQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for await (const { line, text } of readLines(path)) {
    const t = text.trim();
    if (t === '') continue;
    // BEIR qrels are tab-separated and ids may contain spaces (LIMIT's are person names); split on tabs when
    // there are any, else on whitespace (TREC qrels).
    const cols = t.includes('\t') ? t.split('\t').map((c) => c.trim()) : t.split(/\s+/);
    let qid: string;
    let docid: string;
    let relText: string;
    if (cols.length === 3) [qid, docid, relText] = cols;
    else if (cols.length === 4) [qid, , docid, relText] = cols;
    else throw invalidArgument(`${path}:${line}`, `expected 3 columns (query-id, corpus-id, score), got ${cols.length}`);
    const rel = Number(relText);
    if (!Number.isFinite(rel) || relText === '') {
      if (line === 1) continue; // header
      throw invalidArgument(`${path}:${line}`, `relevance "${relText}" is not a number`);
    }
    let m = qrels.get(qid);
    if (!m) qrels.set(qid, (m = new Map()));
    m.set(docid, rel);
  }
  if (qrels.size === 0) throw new SpladexError('INVALID_ARGUMENT', `${path}: no relevance judgements`);
  return qrels;
}
