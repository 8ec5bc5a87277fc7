/**
 * `spladex export <collection> --out FILE`: writes every live document as one JSONL line in the upsert form
 * (`GET …/documents?format=upsert`, page by page on one point in time, so writes during the export neither
 * appear nor tear it), which `spladex index` reads back into a collection with the same documents, vectors and
 * metadata (create it with the same configuration: `--config`, or PUT first). Works on the data dir or `--url`.
 * Called by run-cli.ts.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { EnvConfig } from '../config/env.js';
import { MAX_SCROLL_LIMIT, type FilterInput } from '../config/request-schemas.js';
import { openTarget } from '../ingest/open-target.js';
import { COMMON_OPTIONS, intOption, parseCommandArgs, positional, UsageError, type CliIo } from './usage.js';

export const EXPORT_HELP = `spladex export <collection> --out FILE [--filter JSON] [--page N] [--url URL | --data DIR]
  Writes the live documents, ids ascending, as JSONL in the upsert form ({id,title,text,metadata} plus vector
  and dense where the collection takes them), one consistent point in time; "spladex index" reads it back.
  --out FILE     output file (required; replaced)
  --filter JSON  only documents passing this metadata filter (the search "filter" object)
  --page N       documents per request (default 500, at most ${MAX_SCROLL_LIMIT})`;

/** `spladex export`. */
export async function exportCommand(args: string[], env: EnvConfig, io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${EXPORT_HELP}\n`);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(args, {
    ...COMMON_OPTIONS,
    out: { type: 'string' },
    filter: { type: 'string' },
    page: { type: 'string' },
  });
  const collection = positional(positionals, 0, 'collection name');
  const out = values.out;
  if (out === undefined || out === '') throw new UsageError('--out FILE is required');
  let filter: FilterInput | undefined;
  if (values.filter !== undefined) {
    try {
      filter = JSON.parse(values.filter) as FilterInput;
    } catch {
      throw new UsageError('--filter must be a JSON filter object');
    }
  }
  const limit = intOption('page', values.page, 1, MAX_SCROLL_LIMIT) ?? 500;
  const client = await openTarget(values, env);
  // The file is opened after the first page arrived: an unknown collection leaves no empty file behind.
  let fd: number | null = null;
  let n = 0;
  try {
    let cursor: string | undefined;
    for (;;) {
      const page = await client.listDocuments(collection, { limit, cursor, filter, format: 'upsert' });
      if (fd === null) fd = openSync(out, 'w');
      if (page.documents.length > 0) writeSync(fd, `${page.documents.map((d) => JSON.stringify(d)).join('\n')}\n`);
      n += page.documents.length;
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
  } finally {
    if (fd !== null) closeSync(fd);
    await client.close();
  }
  io.stderr(`exported ${n} documents of ${collection} to ${out}\n`);
  return 0;
}
