/**
 * Reads the sample queries of `spladex optimize --calibration-queries FILE`: JSONL with one query per non-blank
 * line, as a search request gives it (`{"query": "text"}` or `{"vector": {indices, values} | {token: weight}}`),
 * or a BEIR queries.jsonl line (`{"_id", "text", …}` → its text). Items are validated by the service (or the
 * server with --url), whose errors name `calibrationQueries[i]` with i counting non-blank lines from 0.
 * Callers: commands.ts.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './usage.js';

/** The request items of `file`; throws UsageError when it cannot be read or a line is not a JSON object. */
export function readCalibrationQueries(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read --calibration-queries ${file}`);
  }
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (e) {
      throw new UsageError(`--calibration-queries ${file} line ${n + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new UsageError(`--calibration-queries ${file} line ${n + 1}: expected a JSON object`);
    }
    const o = item as Record<string, unknown>;
    // BEIR queries.jsonl: the text is the query; _id and metadata are not part of it.
    out.push('_id' in o && typeof o.text === 'string' && !('query' in o) && !('vector' in o) ? { query: o.text } : o);
  }
  return out;
}
