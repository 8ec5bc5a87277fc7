/**
 * TREC run files: one line per hit, `qid Q0 docid rank score tag`, ranks from 1 in the order given, scores
 * written with JavaScript's shortest round-trip representation (so re-reading gives identical doubles and the
 * same metric values). Writer streams to disk; reader streams line by line. Callers: BEIR runner, tests.
 * Ids must not contain whitespace (BEIR ids do not); the writer throws INVALID_ARGUMENT otherwise.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { invalidArgument } from '../core/errors.js';
import { readLines } from './beir-loader.js';
import type { Run, RunHit } from './metrics.js';

/** Formats one query's hits (in rank order) as TREC lines, each ending with "\n". */
export function formatTrecLines(qid: string, hits: readonly RunHit[], tag = 'spladex'): string {
  let s = '';
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i];
    if (/\s/.test(h.id) || /\s/.test(qid)) throw invalidArgument('run', `ids with whitespace cannot be written to a TREC run: "${qid}"/"${h.id}"`);
    s += `${qid} Q0 ${h.id} ${i + 1} ${String(h.score)} ${tag}\n`;
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
    const cols = t.split(/\s+/);
    const score = Number(cols[4]);
    if (cols.length !== 6 || !Number.isFinite(score)) {
      throw invalidArgument(`${path}:${line}`, 'expected "qid Q0 docid rank score tag"');
    }
    let hits = run.get(cols[0]);
    if (!hits) run.set(cols[0], (hits = []));
    hits.push({ id: cols[2], score });
  }
  return run;
}
