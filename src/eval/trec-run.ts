/**
 * TREC run files: one line per hit, `qid Q0 docid rank score tag`, ranks from 1 in the order given, scores
 * written with JavaScript's shortest round-trip representation (so re-reading gives identical doubles and the
 * same metric values). Writer streams to disk; reader streams line by line. Callers: BEIR runner, tests.
 * The format splits on whitespace, so ids are escaped: `%` and ASCII whitespace become `%XX` (space `%20`, tab `%09`, newline `%0A`)
 * (LIMIT's document ids are person names with spaces); the reader undoes it. Ids without those characters are
 * written verbatim, as every other TREC tool expects.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { invalidArgument } from '../core/errors.js';
import { readLines } from '../ingest/jsonl.js';
import type { Run, RunHit } from './metrics.js';

/** Escapes an id for a whitespace-separated TREC line (see module comment). */
export function escapeTrecId(id: string): string {
  return /[ \t\n\r\f\v%]/.test(id)
    ? id.replace(/[ \t\n\r\f\v%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    : id;
}

/** Inverse of `escapeTrecId`. */
export function unescapeTrecId(id: string): string {
  return id.includes('%') ? id.replace(/%([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) : id;
}

/** Formats one query's hits (in rank order) as TREC lines, each ending with "\n". */
export function formatTrecLines(qid: string, hits: readonly RunHit[], tag = 'spladex'): string {
  if (/[ \t\n\r\f\v]/.test(tag) || tag === '') throw invalidArgument('tag', 'must be a non-empty word');
  const q = escapeTrecId(qid);
  let s = '';
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i];
    s += `${q} Q0 ${escapeTrecId(h.id)} ${i + 1} ${String(h.score)} ${tag}\n`;
  }
  return s;
}

/** Writes a run (queries in map order, hits in the given order) to `path`; resolves when flushed and closed. */
export async function writeTrecRun(path: string, run: Run, tag = 'spladex'): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  for (const [qid, hits] of run) {
    if (!out.write(formatTrecLines(qid, hits, tag))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Reads a TREC run into qid → hits (file order). Throws INVALID_ARGUMENT naming the line when malformed. */
export async function readTrecRun(path: string): Promise<Run> {
  const run: Run = new Map();
  for await (const { line, text } of readLines(path)) {
    const t = text.trim();
    if (t === '') continue;
    const cols = t.split(/[ \t]+/);
    const score = Number(cols[4]);
    if (cols.length !== 6 || !Number.isFinite(score)) {
      throw invalidArgument(`${path}:${line}`, 'expected "qid Q0 docid rank score tag"');
    }
    const qid = unescapeTrecId(cols[0]);
    let hits = run.get(qid);
    if (!hits) run.set(qid, (hits = []));
    hits.push({ id: unescapeTrecId(cols[2]), score });
  }
  return run;
}
