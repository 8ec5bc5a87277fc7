/**
 * Issue 16 acceptance 2: `spladex export` then `spladex index` gives an identical collection — same documents
 * (ids, titles, texts, metadata), same vectors, same dense vectors, and the same ranked hits with the same scores
 * for many queries — for a lexical collection (vectors re-encoded from text) and a vectors-only one (token-map
 * and id-form vectors, stored dense vectors), each holding sealed segments, a memtable, replaced and deleted
 * documents. Through the data dir, and through `--url` against a real listening server.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { silentCliIo } from './support/cli.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { startServer } from '../src/server/start-server.js';

const dir = mkdtempSync(join(tmpdir(), 'spladex-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

const WORDS = 'otter river stone fish swim bank reed willow heron pike trout moss fern pebble current eddy'.split(' ');
const LEX = { encoder: 'lexical', metadata: { lang: 'keyword', year: 'number' } };
const VEC = { encoder: 'none', dim: 64, dense: { dim: 3, metric: 'dot' }, metadata: { lang: 'keyword' } };

function text(i: number, n: number): string {
  return Array.from({ length: n }, (_, j) => WORDS[(i * 7 + j * 3 + (i % 5) * j) % WORDS.length]).join(' ');
}

async function fill(service: SpladexService): Promise<void> {
  await service.createCollection('lex', LEX);
  await service.createCollection('vec', VEC);
  for (let from = 0; from < 300; from += 100) {
    const lex = Array.from({ length: 100 }, (_, j) => {
      const i = from + j;
      return {
        id: `l${i}`,
        title: i % 3 === 0 ? `Title ${i}` : undefined,
        text: text(i, 4 + (i % 9)),
        metadata: { lang: i % 2 ? 'en' : 'de', year: 2000 + (i % 20) },
      };
    });
    await service.upsertDocuments('lex', lex);
    const vec = Array.from({ length: 100 }, (_, j) => {
      const i = from + j;
      const vector =
        i % 2 === 0
          ? { [`tok${i % 11}`]: 1 + (i % 3), [`tok${(i + 4) % 11}`]: 0.5 }
          : { indices: [40 + (i % 7), 50 + (i % 5)], values: [1.25, 0.75 + (i % 4)] };
      return { id: `v${i}`, text: `doc ${i}`, vector, dense: [i % 3, 1, (i % 7) / 7], metadata: { lang: i % 2 ? 'en' : 'de' } };
    });
    await service.upsertDocuments('vec', vec);
  }
  // Replaced and deleted documents, some in segments (memtable limit 120) and some in the memtable.
  await service.upsertDocuments('lex', [{ id: 'l5', text: 'replaced otter text', metadata: { lang: 'en', year: 1999 } }]);
  await service.upsertDocuments('vec', [{ id: 'v7', vector: { tok3: 9 }, dense: [9, 9, 9] }]);
  for (const id of ['l10', 'l250', 'v11', 'v290']) await service.deleteDocument(id.startsWith('l') ? 'lex' : 'vec', id);
}

type Doc = Record<string, unknown>;
async function everything(service: SpladexService, name: string): Promise<Doc[]> {
  const out: Doc[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = service.listDocuments(name, { limit: 77, cursor, vector: true });
    out.push(...(page.documents as Doc[]));
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
}

async function rankings(service: SpladexService, name: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const queries: unknown[] = name.startsWith('lex')
    ? WORDS.map((w, i) => ({ query: `${w} ${WORDS[(i + 5) % WORDS.length]}` }))
    : Array.from({ length: 11 }, (_, i) => ({ vector: { [`tok${i}`]: 1, tok3: 0.5 } }));
  if (!name.startsWith('lex')) for (let t = 40; t < 55; t++) queries.push({ vector: { indices: [t, t + 1], values: [1, 2] } });
  for (const q of queries) {
    const r = (await service.search(name, { ...(q as object), k: 50, params: { exact: true } })) as {
      hits: { id: string; score: number }[];
    };
    out.push(r.hits.map((h) => `${h.id}:${h.score}`));
  }
  return out;
}

/** Documents without the vector's token order mattering, plus dense vectors read through the store. */
function normalised(service: SpladexService, name: string, docs: Doc[]): unknown[] {
  const store = (
    service as unknown as { collections: Map<string, { store: { get(id: string): { dense?: Float32Array } | undefined } }> }
  ).collections.get(name)?.store;
  return docs.map((d) => ({ ...d, dense: store?.get(d.id as string)?.dense ? Array.from(store.get(d.id as string)?.dense ?? []) : null }));
}

describe('export → index round trip', () => {
  it('through the data dir and through --url, the re-indexed collections are identical', async () => {
    const data = join(dir, 'data');
    let service = await openSpladexService({ dataDir: data, encodersDir: join(dir, 'enc'), logger, memtableMaxDocs: 120 });
    await fill(service);
    await service.close();

    // Local: export, create the targets with the same configuration, index the files back.
    for (const name of ['lex', 'vec']) {
      const out = join(dir, `${name}.jsonl`);
      const e = silentCliIo();
      expect(await runCli(['export', name, '--out', out, '--data', data, '--page', '64'], e.io, {}), e.stderr()).toBe(0);
      expect(e.stderr()).toMatch(new RegExp(`^exported 298 documents of ${name}`));
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(298);
      const ix = silentCliIo();
      const cfg = JSON.stringify(name === 'lex' ? LEX : VEC);
      expect(await runCli(['index', `${name}2`, '--input', out, '--data', data, '--config', cfg, '--quiet'], ix.io, {}), ix.stderr()).toBe(
        0,
      );
    }

    // Over HTTP: export from a served data dir into files, index them back through the same server.
    const server = await startServer(
      { SPLADEX_DATA_DIR: data, SPLADEX_PORT: '0', SPLADEX_LOG_LEVEL: 'silent' },
      { handleSignals: false, logger },
    );
    try {
      for (const name of ['lex', 'vec']) {
        const out = join(dir, `${name}-url.jsonl`);
        const e = silentCliIo();
        expect(await runCli(['export', name, '--out', out, '--url', server.url], e.io, {}), e.stderr()).toBe(0);
        expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(dir, `${name}.jsonl`), 'utf8'));
        const put = await fetch(`${server.url}/v1/collections/${name}3`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(name === 'lex' ? LEX : VEC),
        });
        expect(put.status).toBe(201);
        const ix = silentCliIo();
        expect(await runCli(['index', `${name}3`, '--input', out, '--url', server.url, '--quiet'], ix.io, {}), ix.stderr()).toBe(0);
      }
    } finally {
      await server.close();
    }

    service = await openSpladexService({ dataDir: data, encodersDir: join(dir, 'enc'), logger, memtableMaxDocs: 120 });
    try {
      // bm25 scores depend on the avgdl each segment was sealed with: compare merged collections.
      for (const name of ['lex', 'lex2', 'lex3', 'vec', 'vec2', 'vec3']) await service.optimize(name);
      for (const name of ['lex', 'vec']) {
        const want = await everything(service, name);
        expect(want.length).toBeGreaterThan(290);
        const wantRanks = await rankings(service, name);
        expect(wantRanks.some((r) => (r as string[]).length > 10)).toBe(true);
        for (const copy of [`${name}2`, `${name}3`]) {
          const got = await everything(service, copy);
          expect(normalised(service, copy, got)).toEqual(normalised(service, name, want));
          expect(await rankings(service, copy)).toEqual(wantRanks);
          expect(service.getCollection(copy).stats.documents).toBe(service.getCollection(name).stats.documents);
        }
      }
    } finally {
      await service.close();
    }
  }, 120_000);

  it('usage and unknown-collection errors', async () => {
    const a = silentCliIo();
    expect(await runCli(['export', 'lex', '--data', join(dir, 'data')], a.io, {})).toBe(2);
    expect(a.stderr()).toMatch(/^spladex: usage: --out FILE is required/);
    const b = silentCliIo();
    expect(await runCli(['export', 'nope', '--out', join(dir, 'x.jsonl'), '--data', join(dir, 'data')], b.io, {})).toBe(1);
    expect(b.stderr()).toMatch(/^spladex: error: NOT_FOUND: /);
    expect(existsSync(join(dir, 'x.jsonl'))).toBe(false);
    const c = silentCliIo();
    expect(await runCli(['export', 'lex', '--out', join(dir, 'x.jsonl'), '--page', '5000', '--data', join(dir, 'data')], c.io, {})).toBe(2);
  });
});
