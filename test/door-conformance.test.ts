/**
 * Conformance of the doors (issue 11, "one document model, one validator, every door"): the same corpus —
 * all of SciFact (5,183 docs) with every other title blanked, every third id a JSON integer, every fifth line
 * spelled `id` instead of `_id`, metadata on every fourth, plus two lines with unknown fields (`metadta`, `txt`)
 * — is indexed through REST JSON (app.inject), REST NDJSON (app.inject), the CLI into a data dir, the CLI with
 * `--url` against a real listening server, and the BEIR runner. Every door must reject the same two lines and
 * give, for each of the 300 test queries, the same top 10 as the BEIR runner's run file. Search is exact in
 * every door and each collection is optimized first, as the runner does, so the comparison is of what was
 * indexed, not of approximate-search variance. Skips, saying why, without ../shared/data (or SPLADEX_SHARED_DATA).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/config/env.js';
import { runCli } from '../src/cli/run-cli.js';
import { silentCliIo } from './support/cli.js';
import { runBeir } from '../src/eval/beir-runner.js';
import { loadQrels, loadQueries } from '../src/eval/beir-loader.js';
import { readTrecRun } from '../src/eval/trec-run.js';
import { startServer } from '../src/server/start-server.js';
import { openSpladexService } from '../src/search/spladex-service.js';
import { startTestServer } from './server-harness.js';

const DATA = process.env.SPLADEX_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data');
const SCIFACT = join(DATA, 'scifact');
const dir = mkdtempSync(join(tmpdir(), 'spladex-doors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the derived dataset (corpus, queries, qrels) and returns the corpus lines and the bad line numbers. */
function buildDataset(): { lines: string[]; badLines: number[] } {
  const src = readFileSync(join(SCIFACT, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const lines: string[] = [];
  src.forEach((l, i) => {
    const d = JSON.parse(l) as { _id: string; title: string; text: string };
    const rec: Record<string, unknown> = {};
    const id: string | number = i % 3 === 0 && /^[1-9]\d{0,14}$/.test(d._id) ? Number(d._id) : d._id;
    rec[i % 5 === 0 ? 'id' : '_id'] = id;
    rec.title = i % 2 === 1 ? '' : d.title;
    rec.text = d.text;
    if (i % 4 === 0) rec.metadata = { year: 1990 + (i % 30), source: 'scifact' };
    lines.push(JSON.stringify(rec));
  });
  lines.splice(100, 0, JSON.stringify({ _id: 'typo-1', text: 'vitamin d', metadta: { year: 1 } })); // line 101
  lines.splice(2000, 0, JSON.stringify({ _id: 'typo-2', txt: 'vitamin d' })); // line 2001
  const ds = join(dir, 'scifact-doors');
  mkdirSync(join(ds, 'qrels'), { recursive: true });
  writeFileSync(join(ds, 'corpus.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(ds, 'queries.jsonl'), readFileSync(join(SCIFACT, 'queries.jsonl')));
  writeFileSync(join(ds, 'qrels', 'test.tsv'), readFileSync(join(SCIFACT, 'qrels', 'test.tsv')));
  return { lines, badLines: [101, 2001] };
}

type Top10 = Map<string, string[]>;
interface SearchBody {
  hits: { id: string }[];
}

async function top10(queries: [string, string][], search: (req: unknown) => Promise<SearchBody>): Promise<Top10> {
  const out: Top10 = new Map();
  for (const [qid, query] of queries)
    out.set(
      qid,
      (await search({ query, k: 10, params: { exact: true } })).hits.map((h) => h.id),
    );
  return out;
}

describe('every door indexes the same corpus the same way', () => {
  it.skipIf(!existsSync(SCIFACT))(
    'REST JSON, NDJSON, CLI local, CLI --url and the BEIR runner agree on every top 10',
    async () => {
      const { lines, badLines } = buildDataset();
      const ds = join(dir, 'scifact-doors');
      const corpus = join(ds, 'corpus.jsonl');
      const qrels = await loadQrels(join(ds, 'qrels', 'test.tsv'));
      const allQueries = await loadQueries(join(ds, 'queries.jsonl'));
      const queries: [string, string][] = [...qrels.keys()].map((q) => [q, allQueries.get(q) as string]);
      expect(queries).toHaveLength(300);
      const expectedDocs = lines.length - badLines.length;
      const doors = new Map<string, Top10>();

      // The BEIR runner: its run file is the reference.
      const beir = silentCliIo();
      const out = join(dir, 'beir-out');
      const summary = await runBeir({ dataset: ds, out, exact: true, logLevel: 'silent' }, loadEnv({}), beir.io);
      expect(summary.documents).toBe(expectedDocs);
      expect(summary.skippedLines).toBe(2);
      const run = await readTrecRun(join(out, 'scifact-doors.run.trec'));
      const reference: Top10 = new Map(queries.map(([q]) => [q, (run.get(q) ?? []).slice(0, 10).map((h) => h.id)]));

      // REST JSON and NDJSON through app.inject, on one in-process server.
      const s = await startTestServer({ maxBodyBytes: 64 * 1024 * 1024 });
      try {
        for (const [name, ndjson] of [
          ['json', false],
          ['ndjson', true],
        ] as const) {
          expect((await s.call('PUT', `/v1/collections/${name}`, { encoder: 'lexical' })).statusCode).toBe(201);
          const rejected: string[] = [];
          let indexed = 0;
          for (let i = 0; i < lines.length; i += 1000) {
            const chunk = lines.slice(i, i + 1000);
            const res = ndjson
              ? await s.call('POST', `/v1/collections/${name}/documents`, `${chunk.join('\n')}\n`, {
                  'content-type': 'application/x-ndjson',
                })
              : await s.call('POST', `/v1/collections/${name}/documents`, { documents: chunk.map((l) => JSON.parse(l)) });
            expect(res.statusCode).toBe(200);
            indexed += res.json().indexed;
            for (const e of res.json().errors) rejected.push(`${i + e.index + 1}: ${e.message}`);
          }
          expect(indexed).toBe(expectedDocs);
          expect(rejected).toEqual([`101: documents[100]: unknown field(s) "metadta"`, `2001: documents[0]: unknown field(s) "txt"`]);
          expect((await s.call('POST', `/v1/collections/${name}/optimize`)).statusCode).toBe(200);
          doors.set(
            `REST ${name}`,
            await top10(queries, async (req) => (await s.call('POST', `/v1/collections/${name}/search`, req)).json()),
          );
        }
      } finally {
        await s.close();
      }

      // The CLI into a data dir; searched through a service opened on that dir afterwards.
      const local = join(dir, 'cli-local');
      const cliLocal = silentCliIo();
      // Exit 1: some lines were skipped (the two with unknown fields).
      expect(await runCli(['index', 'conf', '--input', corpus], cliLocal.io, { SPLADEX_DATA_DIR: local })).toBe(1);
      expect(cliLocal.stderr()).toMatch(/^line 101: INVALID_ARGUMENT: unknown field\(s\) "metadta" \(id typo-1\)$/m);
      expect(cliLocal.stderr()).toMatch(/^line 2001: INVALID_ARGUMENT: unknown field\(s\) "txt" \(id typo-2\)$/m);
      const service = await openSpladexService({ dataDir: local, encodersDir: dir, logger: pino({ level: 'silent' }) });
      try {
        expect(service.getCollection('conf').stats.documents).toBe(expectedDocs);
        await service.optimize('conf');
        doors.set('CLI local', await top10(queries, (req) => service.search('conf', req as never)));
      } finally {
        await service.close();
      }

      // The CLI with --url against a real listening server.
      const server = await startServer(
        { SPLADEX_DATA_DIR: join(dir, 'served'), SPLADEX_PORT: '0', SPLADEX_LOG_LEVEL: 'silent' },
        { handleSignals: false, logger: pino({ level: 'silent' }) },
      );
      try {
        const cliUrl = silentCliIo();
        expect(await runCli(['index', 'conf', '--input', corpus, '--url', server.url], cliUrl.io, {})).toBe(1);
        expect(cliUrl.stderr()).toMatch(/^line 101: INVALID_ARGUMENT: unknown field\(s\) "metadta" \(id typo-1\)$/m);
        expect(cliUrl.stderr()).toMatch(/^line 2001: INVALID_ARGUMENT: unknown field\(s\) "txt" \(id typo-2\)$/m);
        const post = async (path: string, body?: unknown) => {
          const res = await fetch(`${server.url}/v1/collections/conf${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          expect(res.status).toBe(200);
          return res.json();
        };
        expect(
          ((await (await fetch(`${server.url}/v1/collections/conf`)).json()) as { stats: { documents: number } }).stats.documents,
        ).toBe(expectedDocs);
        await post('/optimize');
        doors.set('CLI --url', await top10(queries, (req) => post('/search', req) as Promise<SearchBody>));
      } finally {
        await server.close();
      }

      // Numeric-looking ids came back as the corpus's strings (qrels match them), and every door agrees.
      expect(summary.main.ndcg10).toBeGreaterThan(0.6);
      for (const [door, got] of doors) {
        const differing = queries.filter(([q]) => JSON.stringify(got.get(q)) !== JSON.stringify(reference.get(q))).map(([q]) => q);
        expect({ door, differing }).toEqual({ door, differing: [] });
      }
      expect([...doors.keys()]).toEqual(['REST json', 'REST ndjson', 'CLI local', 'CLI --url']);
    },
    240_000,
  );
});
