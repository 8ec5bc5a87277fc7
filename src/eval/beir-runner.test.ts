// BEIR runner end to end on a tiny dataset written here: indexes through the bulk indexer, searches through the
// service, and the run file it writes re-scores to the summary's numbers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { loadQrels } from './beir-loader.js';
import { collectionNameFor, runBeir } from './beir-runner.js';
import { evaluateRun } from './metrics.js';
import { readTrecRun } from './trec-run.js';

const dir = mkdtempSync(join(tmpdir(), 'spladex-beirrun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runBeir', () => {
  it('indexes, searches and writes a run that re-scores to the summary', async () => {
    const ds = join(dir, 'Tiny Set');
    mkdirSync(join(ds, 'qrels'), { recursive: true });
    const docs = [
      ['d1', 'Aspirin', 'Aspirin reduces the risk of heart attacks.'],
      ['d2', 'Statins', 'Statins lower cholesterol in the blood.'],
      ['d3', 'Exercise', 'Regular exercise lowers blood pressure and cholesterol.'],
      ['d4', 'Sleep', 'Poor sleep raises the risk of obesity.'],
      ['q2', 'Self', 'Which drug lowers cholesterol? Statins do.'], // same id as a query: must be ignored
    ];
    writeFileSync(join(ds, 'corpus.jsonl'), docs.map(([id, title, text]) => JSON.stringify({ _id: id, title, text })).join('\n'));
    writeFileSync(
      join(ds, 'queries.jsonl'),
      [
        '{"_id":"q1","text":"aspirin heart attack"}',
        '{"_id":"q2","text":"which drug lowers cholesterol"}',
        '{"_id":"q3","text":"sleep obesity"}',
        '{"_id":"q9","text":"unjudged"}',
      ].join('\n'),
    );
    writeFileSync(join(ds, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq2\td3\t1\nq3\td2\t1\n');
    let out = '';
    const io = { stdout: (s: string) => (out += s), stderr: () => {}, stderrIsTty: false };
    const outDir = join(dir, 'out');
    const s = await runBeir({ dataset: ds, out: outDir, logLevel: 'silent' }, loadEnv({}), io);
    expect(collectionNameFor(ds)).toBe('tiny-set');
    expect(s).toMatchObject({ collection: 'tiny-set', documents: 5, queries: 3, skippedLines: 0 });
    // q1: d1 first → 1. q3: d4 is the only doc with sleep/obesity, d2 relevant but never retrieved → 0.
    // q2: statins/cholesterol/lower: d2 (statin+lower+cholesterol) first, d3 second → ideal order → 1.
    expect(s.main.ndcg10).toBeCloseTo(2 / 3, 10);
    expect(s.main.mrr10).toBeCloseTo(2 / 3, 10);
    expect(s.main.recall100).toBeCloseTo(2 / 3, 10);
    expect(s.approxRecall10).toBe(1);
    expect(out).toMatch(/nDCG@10 {5}0\.6667/);

    const run = await readTrecRun(join(outDir, 'tiny-set.run.trec'));
    expect(run.get('q2')?.map((h) => h.id)).toContain('q2'); // written as returned, dropped when scoring
    const qrels = await loadQrels(join(ds, 'qrels', 'test.tsv'));
    expect(evaluateRun(run, qrels).ndcg10).toBe(s.main.ndcg10);
    const summary = JSON.parse(readFileSync(join(outDir, 'tiny-set.summary.json'), 'utf8')) as { main: { ndcg10: number } };
    expect(summary.main.ndcg10).toBe(s.main.ndcg10);
  }, 120_000);
});
