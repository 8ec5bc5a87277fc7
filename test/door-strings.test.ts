/**
 * Issues 11.7 and 11.8 through the doors other than REST (test/document-model.test.ts covers REST JSON and NDJSON):
 * the CLI into a data dir, the CLI with --url against a real listening server, and the library entry.
 * - 11.7: ids "\ud800" and "\udbff" became U+FFFD on disk, so after a restart two documents had collapsed into
 *   one; every door must refuse them, naming the field (the CLI names the line), and keep the good line.
 * - 11.8: real SPLADE token maps holding the wordpieces "values" / "indices" (the Seismic toy set) were refused as
 *   malformed {indices, values} vectors; every door must index all of them with their tokens intact.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { silentCliIo } from './support/cli.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { startServer } from '../src/server/start-server.js';

const DATA = process.env.SPLADEX_SHARED_DATA ?? join(process.cwd(), '..', 'shared', 'data');
const TOY = join(DATA, 'seismic-toy', 'documents.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'spladex-door-strings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Raw JSONL: the escapes are JSON's, so JSON.parse yields lone surrogates, as a user's file would.
const SURROGATE_LINES = [
  '{"id":"\\ud800","text":"otters swim"}',
  '{"id":"\\udbff","text":"otters dive"}',
  '{"id":"ok","text":"otters rest"}',
];
const surrogateFile = join(dir, 'surrogates.jsonl');
writeFileSync(surrogateFile, `${SURROGATE_LINES.join('\n')}\n`);

interface ToyDoc {
  id: number;
  content: string;
  vector: Record<string, number>;
}
const toyLines = existsSync(TOY)
  ? readFileSync(TOY, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
  : [];
const toy = toyLines.map((l) => JSON.parse(l) as ToyDoc);
const withWordpiece = toy.find((d) => 'values' in d.vector || 'indices' in d.vector);

/** What each door must show afterwards, asked through the service that owns the data. */
function expectStored(service: SpladexService, toyLoaded: boolean): Promise<void> {
  return (async () => {
    const hits = (await service.search('lex', { query: 'otters' })).hits.map((h) => h.id);
    expect(hits).toEqual(['ok']);
    if (!toyLoaded || withWordpiece === undefined) return;
    const got = service.getDocument('toy', String(withWordpiece.id), true) as { vector?: { tokens: Record<string, number> } };
    expect(Object.keys(got.vector?.tokens ?? {}).sort()).toEqual(Object.keys(withWordpiece.vector).sort());
  })();
}

function expectSurrogateLinesRefused(stderr: string): void {
  expect(stderr).toMatch(/^line 1: INVALID_ARGUMENT: id: must be well-formed Unicode/m);
  expect(stderr).toMatch(/^line 2: INVALID_ARGUMENT: id: must be well-formed Unicode/m);
  expect(stderr).not.toMatch(/^line 3:/m);
}

describe('lone surrogates (11.7) and "values"/"indices" wordpieces (11.8) through the CLI and the library', () => {
  it('CLI into a data dir', async () => {
    const data = join(dir, 'local');
    const lex = silentCliIo();
    expect(await runCli(['index', 'lex', '--input', surrogateFile], lex.io, { SPLADEX_DATA_DIR: data })).toBe(1);
    expectSurrogateLinesRefused(lex.stderr());
    if (toy.length > 0) {
      const t = silentCliIo();
      expect(await runCli(['index', 'toy', '--input', TOY, '--dim', '30522'], t.io, { SPLADEX_DATA_DIR: data })).toBe(0);
    }
    const service = await openSpladexService({ dataDir: data, encodersDir: join(dir, 'encoders'), logger: pino({ level: 'silent' }) });
    try {
      await expectStored(service, toy.length > 0);
    } finally {
      await service.close();
    }
  });

  it('CLI with --url against a real server', async () => {
    const server = await startServer(
      { SPLADEX_DATA_DIR: join(dir, 'served'), SPLADEX_PORT: '0', SPLADEX_LOG_LEVEL: 'silent' },
      { handleSignals: false, logger: pino({ level: 'silent' }) },
    );
    try {
      const lex = silentCliIo();
      expect(await runCli(['index', 'lex', '--input', surrogateFile, '--url', server.url], lex.io, {})).toBe(1);
      expectSurrogateLinesRefused(lex.stderr());
      if (toy.length > 0) {
        const t = silentCliIo();
        expect(await runCli(['index', 'toy', '--input', TOY, '--dim', '30522', '--url', server.url], t.io, {})).toBe(0);
      }
      const res = await fetch(`${server.url}/v1/collections/lex/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'otters' }),
      });
      expect(((await res.json()) as { hits: { id: string }[] }).hits.map((h) => h.id)).toEqual(['ok']);
      if (withWordpiece !== undefined) {
        const doc = await fetch(`${server.url}/v1/collections/toy/documents/${withWordpiece.id}?vector=true`);
        const got = (await doc.json()) as { vector: { tokens: Record<string, number> } };
        expect(Object.keys(got.vector.tokens).sort()).toEqual(Object.keys(withWordpiece.vector).sort());
      }
    } finally {
      await server.close();
    }
  });

  it('the library entry (SpladexService.upsertDocuments)', async () => {
    const service = await openSpladexService({
      dataDir: join(dir, 'lib'),
      encodersDir: join(dir, 'encoders'),
      logger: pino({ level: 'silent' }),
    });
    try {
      await service.createCollection('lex', {});
      const r = await service.upsertDocuments(
        'lex',
        SURROGATE_LINES.map((l) => JSON.parse(l)),
      );
      expect(r.indexed).toBe(1);
      expect(r.errors.map((e) => e.message)).toEqual([
        expect.stringMatching(/^documents\[0\]\.id: must be well-formed Unicode/),
        expect.stringMatching(/^documents\[1\]\.id: must be well-formed Unicode/),
      ]);
      if (toy.length > 0) {
        await service.createCollection('toy', { encoder: 'none', dim: 30522 });
        expect(await service.upsertDocuments('toy', toy)).toEqual({ indexed: toy.length, errors: [] });
      }
      await expectStored(service, toy.length > 0);
    } finally {
      await service.close();
    }
  });
});
