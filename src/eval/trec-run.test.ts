// TREC run writer/reader: format, exact score round trip, and independent re-scoring of a written run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadQrels } from './beir-loader.js';
import { evaluateRun, type Run } from './metrics.js';
import { formatTrecLines, readTrecRun, writeTrecRun } from './trec-run.js';

const dir = mkdtempSync(join(tmpdir(), 'spladex-trec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Independent nDCG@10 straight from the run file's text and the qrels text (no shared code with metrics.ts). */
function ndcgFromFiles(runText: string, qrelsText: string): number {
  const rel = new Map<string, Map<string, number>>();
  for (const line of qrelsText.trim().split('\n').slice(1)) {
    const [q, d, r] = line.split('\t');
    if (!rel.has(q)) rel.set(q, new Map());
    rel.get(q)?.set(d, Number(r));
  }
  const byQ = new Map<string, [string, number][]>();
  for (const line of runText.trim().split('\n')) {
    const [q, , d, , s] = line.split(' ');
    if (!byQ.has(q)) byQ.set(q, []);
    byQ.get(q)?.push([d, Number(s)]);
  }
  let total = 0;
  for (const [q, rels] of rel) {
    const hits = (byQ.get(q) ?? []).filter(([d]) => d !== q).sort((a, b) => b[1] - a[1] || b[0].localeCompare(a[0]));
    let dcg = 0;
    hits.slice(0, 10).forEach(([d], i) => (dcg += (rels.get(d) ?? 0) / Math.log2(i + 2)));
    const ideal = [...rels.values()]
      .filter((r) => r > 0)
      .sort((a, b) => b - a)
      .slice(0, 10);
    let idcg = 0;
    ideal.forEach((r, i) => (idcg += r / Math.log2(i + 2)));
    total += idcg > 0 ? dcg / idcg : 0;
  }
  return total / rel.size;
}

describe('TREC run files', () => {
  it('formats qid Q0 docid rank score tag', () => {
    expect(
      formatTrecLines('q1', [
        { id: 'd1', score: 1.5 },
        { id: 'd2', score: 0.1 + 0.2 },
      ]),
    ).toBe('q1 Q0 d1 1 1.5 spladex\nq1 Q0 d2 2 0.30000000000000004 spladex\n');
    expect(() => formatTrecLines('q1', [{ id: 'd', score: 1 }], 'my tag')).toThrow(/tag/);
  });

  it('escapes ids with whitespace or % and reads them back', async () => {
    expect(
      formatTrecLines('query_0', [
        { id: 'Geneva Durben', score: 2 },
        { id: '100%\tx', score: 1 },
      ]),
    ).toBe('query_0 Q0 Geneva%20Durben 1 2 spladex\nquery_0 Q0 100%25%09x 2 1 spladex\n');
    const run: Run = new Map([
      [
        'q 1',
        [
          { id: 'Geneva Durben', score: 2 },
          { id: 'a%20b', score: 1 },
        ],
      ],
    ]);
    const p = join(dir, 'escaped.trec');
    await writeTrecRun(p, run);
    expect(await readTrecRun(p)).toEqual(run);
  });

  it('round-trips exactly and re-scores to the same nDCG@10 independently', async () => {
    // Deterministic pseudo-random run over 30 queries × 40 docs with graded qrels.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const run: Run = new Map();
    let qrelsText = 'query-id\tcorpus-id\tscore\n';
    for (let q = 0; q < 30; q++) {
      const hits = [];
      for (let d = 0; d < 40; d++) if (rnd() < 0.6) hits.push({ id: `doc${d}`, score: Math.round(rnd() * 20) / 4 });
      hits.sort((a, b) => b.score - a.score);
      run.set(`q${q}`, hits);
      for (let d = 0; d < 40; d++) if (rnd() < 0.08) qrelsText += `q${q}\tdoc${d}\t${1 + Math.floor(rnd() * 2)}\n`;
    }
    qrelsText += 'q99\tdoc1\t1\n';
    const runPath = join(dir, 'run.trec');
    const qrelsPath = join(dir, 'test.tsv');
    writeFileSync(qrelsPath, qrelsText);
    await writeTrecRun(runPath, run);
    const back = await readTrecRun(runPath);
    expect(back).toEqual(run);
    const qrels = await loadQrels(qrelsPath);
    const mine = evaluateRun(back, qrels).ndcg10;
    const independent = ndcgFromFiles(readFileSync(runPath, 'utf8'), qrelsText);
    expect(mine).toBeGreaterThan(0.05);
    expect(mine).toBeCloseTo(independent, 12);
    expect(evaluateRun(run, qrels).ndcg10).toBe(mine);
  });

  it('rejects malformed lines with the line number', async () => {
    const p = join(dir, 'bad.trec');
    writeFileSync(p, 'q1 Q0 d1 1 2.0 t\nq1 Q0 d2 2\n');
    await expect(readTrecRun(p)).rejects.toThrow(/bad\.trec:2/);
  });
});
