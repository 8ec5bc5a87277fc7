/**
 * Streaming readers for BEIR datasets: `corpus.jsonl` (`{"_id", "title", "text", ...}`; `id` accepted too),
 * `queries.jsonl` (`{"_id", "text"}`) and `qrels/<split>.tsv` (`query-id \t corpus-id \t score`, optional header).
 * Files are read line by line (`readLines`, src/ingest/jsonl.ts) and never loaded whole, so corpora of millions of lines stream.
 * Callers: the CLI's bulk index (corpus lines), the BEIR runner (queries, qrels), tests.
 *
 * Errors: a missing file throws NOT_FOUND naming it; a malformed line is yielded as `{ ok: false, line, error }`
 * by `readJsonLines` (so bulk indexing can report and skip it) and throws INVALID_ARGUMENT naming file and line
 * in the strict readers (`loadQueries`, `loadQrels`).
 */
import { SpladexError, invalidArgument } from '../core/errors.js';
import { toDocumentId } from '../search/document-input.js';
import { readJsonLines, readLines } from '../ingest/jsonl.js';

/** A BEIR corpus document. */
export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

/** qid → (docid → graded relevance). Relevance may be 0 or negative (judged non-relevant). */
export type Qrels = Map<string, Map<string, number>>;

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
