// BEIR loaders on small temp files, plus the real SciFact files when ../shared/data is present.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonLines, readLines } from '../ingest/jsonl.js';
import { loadQrels, loadQueries, readBeirCorpus } from './beir-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'spladex-beir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SCIFACT = join(process.cwd(), '..', 'shared', 'data', 'scifact');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('beir loaders', () => {
  it('streams JSONL with line numbers and reports bad lines', async () => {
    const p = join(dir, 'c.jsonl');
    writeFileSync(p, '{"_id":"a","title":"T","text":"x"}\r\n\n{bad\n[1]\n{"id":7,"text":"y"}\n');
    const lines = await collect(readJsonLines(p));
    expect(lines.map((l) => [l.line, l.ok])).toEqual([
      [1, true],
      [3, false],
      [4, false],
      [5, true],
    ]);
    await expect(collect(readBeirCorpus(p))).rejects.toThrow(/c\.jsonl:3/);
    writeFileSync(p, '{"_id":"a","title":"T","text":"x"}\n{"id":7,"text":"y"}\n');
    expect(await collect(readBeirCorpus(p))).toEqual([
      { id: 'a', title: 'T', text: 'x' },
      { id: '7', title: '', text: 'y' },
    ]);
  });
  it('splits lines across buffer boundaries, CRLF, BOM and a last line without newline', async () => {
    const p = join(dir, 'lines.txt');
    const long = 'x'.repeat((1 << 20) + 17); // straddles the 1 MiB read buffer
    writeFileSync(p, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`first\r\n\n${long}\nétoile ✓\nlast`)]));
    const got = await collect(readLines(p));
    expect(got.map((l) => [l.line, l.text.length])).toEqual([
      [1, 5],
      [2, 0],
      [3, long.length],
      [4, 8],
      [5, 4],
    ]);
    expect(got[0].text).toBe('first');
    expect(got[3].text).toBe('étoile ✓');
  });
  it('loads queries and qrels (header skipped, graded, 4-column TREC)', async () => {
    const q = join(dir, 'q.jsonl');
    writeFileSync(q, '{"_id":"1","text":"hello"}\n{"_id":"2","text":"world","metadata":{}}\n');
    expect([...(await loadQueries(q))]).toEqual([
      ['1', 'hello'],
      ['2', 'world'],
    ]);
    const r = join(dir, 'r.tsv');
    writeFileSync(r, 'query-id\tcorpus-id\tscore\n1\td1\t2\n1\td2\t0\n2\td3\t1\n');
    const qrels = await loadQrels(r);
    expect([...(qrels.get('1') ?? [])]).toEqual([
      ['d1', 2],
      ['d2', 0],
    ]);
    writeFileSync(r, 'query-id\tcorpus-id\tscore\nquery_0\tGeneva Durben\t1\n');
    expect([...((await loadQrels(r)).get('query_0') ?? [])]).toEqual([['Geneva Durben', 1]]);
    writeFileSync(r, '1 0 d1 1\n');
    expect((await loadQrels(r)).get('1')?.get('d1')).toBe(1);
    writeFileSync(r, 'h\th\th\n1\td1\tx\n');
    await expect(loadQrels(r)).rejects.toThrow(/r\.tsv:2/);
    await expect(loadQrels(join(dir, 'missing.tsv'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
  it.skipIf(!existsSync(SCIFACT))('reads SciFact: 5,183 docs, 300 test queries, 339 qrels', async () => {
    let n = 0;
    for await (const d of readBeirCorpus(join(SCIFACT, 'corpus.jsonl'))) if (d.id) n++;
    expect(n).toBe(5183);
    const qrels = await loadQrels(join(SCIFACT, 'qrels', 'test.tsv'));
    expect(qrels.size).toBe(300);
    expect([...qrels.values()].reduce((s, m) => s + m.size, 0)).toBe(339);
  });
});
