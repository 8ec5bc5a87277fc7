// The CLI on small data: bulk index (bad lines, exit codes), search, inspect, optimize, encode, usage errors, and
// the --url path against a real server started in this process. The commands that matter end to end (index,
// search table, a usage error, index over HTTP) run as child processes; the rest through runCli in-process.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../src/server/start-server.js';
import { runCliCaptured, type CliResult } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spladex-cli-'));
const data = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Result = CliResult;

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { env: { ...process.env, SPLADEX_DATA_DIR: data, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The same CLI in this process (no spawn: ~3 s each on a loaded 2-core box); exercises everything but main.ts. */
function cliInProcess(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return runCliCaptured(args, { SPLADEX_DATA_DIR: data, ...env });
}

const docs = [
  { _id: 'd1', title: 'Vitamin D', text: 'Vitamin D deficiency is common in winter.' },
  { _id: 'd2', title: 'Cats', text: 'Cats sleep most of the day.' },
  { _id: 'd3', title: 'Dogs', text: 'Dogs bark at cats and at the mailman.' },
  { _id: 'd4', title: 'Bones', text: 'Calcium and vitamin D keep bones strong.' },
];
const corpus = join(dir, 'corpus.jsonl');

beforeAll(() => {
  const lines = docs.map((d) => JSON.stringify(d));
  lines.splice(2, 0, '{"_id": broken'); // line 3
  lines.push('{"title":"no id"}'); // line 6
  writeFileSync(corpus, `${lines.join('\n')}\n`);
});

describe('spladex CLI', () => {
  it('indexes a JSONL file into the data dir, reporting bad lines, then searches, inspects, optimizes', async () => {
    const idx = await cli(['index', 'docs', '--input', corpus, '--batch', '2']);
    expect(idx.stderr).toMatch(/^line 3: INVALID_ARGUMENT: invalid JSON/m);
    expect(idx.stderr).toMatch(/^line 6: INVALID_ARGUMENT: id: is required/m);
    expect(idx.stdout).toMatch(/indexed 4 documents into docs \(created\), 2 skipped, 6 lines/);
    expect(idx.code).toBe(1);

    const s = await cliInProcess(['search', 'docs', 'vitamin', 'D', '-k', '3', '--json']);
    expect(s.code).toBe(0);
    const res = JSON.parse(s.stdout) as { hits: { id: string; score: number }[] };
    expect(res.hits.map((h) => h.id).sort()).toEqual(['d1', 'd4']);
    expect(res.hits[0].score).toBeGreaterThan(0);

    const opt = await cliInProcess(['optimize', 'docs']);
    expect(opt.code).toBe(0);
    expect(opt.stdout).toMatch(/optimized docs: 1 segments/);

    const ins = await cliInProcess(['inspect', 'docs']);
    expect(ins.code).toBe(0);
    const info = JSON.parse(ins.stdout) as { name: string; config: { encoder: string }; stats: { documents: number; segments: number } };
    expect(info).toMatchObject({ name: 'docs', config: { encoder: 'lexical' }, stats: { documents: 4, segments: 1 } });

    const table = await cli(['search', 'docs', 'cats', '--exact']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^\s+1\s+\d+\.\d{4}\s+d2\s+Cats$/);
  }, 120_000);

  it('inspect reports a corrupt segment file by name, exit 1', async () => {
    const idx = await cliInProcess(['index', 'bad', '--input', corpus, '--optimize', '--quiet']);
    expect(idx.stdout).toMatch(/optimized bad: 1 segments/);
    const seg = join(data, 'bad', 'store', 'seg-00000001', 'forward.bin');
    const bytes = readFileSync(seg);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(seg, bytes);
    const ins = await cliInProcess(['inspect', 'bad']);
    expect(ins.code).toBe(1);
    expect(ins.stdout).toBe('');
    expect(ins.stderr).toMatch(/^spladex: error: CORRUPT_INDEX: corrupt index file .*bad\/store\/seg-00000001\/forward\.bin: .*\n$/);
    expect(ins.stderr.split('\n')).toHaveLength(2);
  }, 120_000);

  it('fails with one clear line and the right exit code', async () => {
    const noInput = await cli(['index', 'docs']);
    const unknown = await cliInProcess(['frobnicate']);
    const missing = await cliInProcess(['search', 'nope', 'x', '--data', join(dir, 'empty')]);
    const badK = await cliInProcess(['search', 'docs', 'x', '-k', '0']);
    expect(noInput).toMatchObject({ code: 2 });
    expect(noInput.stderr).toBe('spladex: usage: --input FILE is required (see "spladex index --help")\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('spladex: error: NOT_FOUND: collection "nope" not found\n');
    expect(badK.code).toBe(2);
  }, 120_000);

  it('optimize --calibration-queries sends JSONL / BEIR query lines; bad files fail with one clear line', async () => {
    const lines = Array.from({ length: 18 }, (_, i) =>
      JSON.stringify(
        i % 3 === 0 ? { _id: `q${i}`, text: 'vitamin cats' } : i % 3 === 1 ? { query: 'dogs bark' } : { vector: { vitamin: 1, cat: 0.5 } },
      ),
    );
    const good = join(dir, 'calq.jsonl');
    writeFileSync(good, `${lines.slice(0, 9).join('\n')}\n\n${lines.slice(9).join('\n')}\n`);
    const ok = await cliInProcess(['optimize', 'docs', '--calibration-queries', good]);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/optimized docs: 1 segments/);

    const few = join(dir, 'calq-few.jsonl');
    writeFileSync(few, `${lines.slice(0, 5).join('\n')}\n`);
    expect(await cliInProcess(['optimize', 'docs', '--calibration-queries', few])).toMatchObject({
      code: 1,
      stderr: 'spladex: error: INVALID_ARGUMENT: calibrationQueries: at least 16 queries\n',
    });
    const badItem = join(dir, 'calq-bad.jsonl');
    writeFileSync(badItem, `${[...lines.slice(0, 2), '{"vector":{"indices":[1],"values":[-2]}}', ...lines.slice(3)].join('\n')}\n`);
    expect(await cliInProcess(['optimize', 'docs', '--calibration-queries', badItem])).toMatchObject({
      code: 1,
      stderr: 'spladex: error: INVALID_ARGUMENT: calibrationQueries[2].vector.values[0]: must be >= 0\n',
    });
    const notJson = join(dir, 'calq-json.jsonl');
    writeFileSync(notJson, `${lines[0]}\n{"query": broken\n`);
    const nj = await cliInProcess(['optimize', 'docs', '--calibration-queries', notJson]);
    expect(nj.code).toBe(2);
    expect(nj.stderr).toMatch(/^spladex: usage: --calibration-queries .*calq-json\.jsonl line 2: not valid JSON/);
    expect((await cliInProcess(['optimize', 'docs', '--calibration-queries', join(dir, 'none.jsonl')])).code).toBe(2);
  }, 120_000);

  it('encodes text offline and prints help', async () => {
    const enc = await cliInProcess(['encode', "The patient's cells are running"]);
    const help = await cliInProcess(['--help']);
    expect(enc.code).toBe(0);
    expect(Object.keys((JSON.parse(enc.stdout) as { tokens: Record<string, number> }).tokens)).toEqual(['patient', 'cell', 'run']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: spladex <command>/);
  }, 120_000);

  describe('--url', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(
        { SPLADEX_DATA_DIR: join(dir, 'served'), SPLADEX_PORT: '0', SPLADEX_LOG_LEVEL: 'silent' },
        { handleSignals: false, logger: pino({ level: 'silent' }) },
      );
    }, 120_000);
    afterAll(async () => server.close());

    it('indexes and searches through a running server', async () => {
      const vecs = join(dir, 'vectors.jsonl');
      writeFileSync(
        vecs,
        '{"id":"v1","vector":{"alpha":1.5,"beta":0.5}}\n{"id":"v2","vector":{"beta":2}}\n{"id":"v3","vector":{"alpha":-1}}\n',
      );
      const idx = await cli(['index', 'vec', '--input', vecs, '--url', server.url]);
      expect(idx.stderr).toMatch(/^line 3: INVALID_ARGUMENT: .*vector/m);
      expect(idx.stdout).toMatch(/indexed 2 documents into vec \(created\), 1 skipped/);
      const info = (await (await fetch(`${server.url}/v1/collections/vec`)).json()) as {
        config: { encoder: string };
        stats: { documents: number };
      };
      expect(info.config.encoder).toBe('none');
      expect(info.stats.documents).toBe(2);

      const lex = await cliInProcess(['index', 'lex', '--input', corpus, '--url', server.url]);
      expect(lex.stdout).toMatch(/indexed 4 documents/);
      const s = await cliInProcess(['search', 'lex', 'dogs', '--url', server.url]);
      expect(s.code).toBe(0);
      expect(s.stdout).toMatch(/^\s+1\s+\S+\s+d3\s+Dogs$/m);

      const queries = join(dir, 'calq-url.jsonl');
      writeFileSync(
        queries,
        `${Array.from({ length: 20 }, (_, i) => JSON.stringify({ _id: String(i), text: 'dogs and cats' })).join('\n')}\n`,
      );
      const opt = await cliInProcess(['optimize', 'lex', '--calibration-queries', queries, '--url', server.url]);
      expect(opt).toMatchObject({ code: 0, stderr: '' });
      expect(opt.stdout).toMatch(/optimized lex: 1 segments/);
      writeFileSync(queries, `${JSON.stringify({ query: 'dogs' })}\n`);
      expect(await cliInProcess(['optimize', 'lex', '--calibration-queries', queries, '--url', server.url])).toMatchObject({
        code: 1,
        stderr: 'spladex: error: INVALID_ARGUMENT: calibrationQueries: at least 16 queries\n',
      });
    }, 120_000);
  });
});
