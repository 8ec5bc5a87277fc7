// Metrics checked against hand-computed values (pytrec_eval semantics: graded gains, tie order, self-hits dropped).
import { describe, expect, it } from 'vitest';
import type { Qrels } from './beir-loader.js';
import { evaluateRun, mrrAt, ndcgAt, overlapRecall, rankHits, recallAt, type Run } from './metrics.js';

const qrels: Qrels = new Map([
  [
    'q1',
    new Map([
      ['d1', 2],
      ['d2', 1],
      ['d3', 0],
    ]),
  ],
  ['q2', new Map([['x', 1]])],
  ['q3', new Map([['y', 1]])],
  ['q4', new Map([['a', 1]])],
]);
const run: Run = new Map([
  [
    'q1',
    [
      { id: 'd3', score: 3 },
      { id: 'd1', score: 2 },
      { id: 'd4', score: 1 },
      { id: 'd2', score: 0.5 },
    ],
  ],
  [
    'q2',
    [
      { id: 'x', score: 1 },
      { id: 'q2', score: 9 },
    ],
  ],
  // q3 has no hits at all
  [
    'q4',
    [
      { id: 'a', score: 1 },
      { id: 'b', score: 1 },
    ],
  ],
  ['q9', [{ id: 'zz', score: 1 }]], // not judged: ignored
]);

describe('metrics', () => {
  it('orders like trec_eval: score desc, ties by id desc, self-hits removed', () => {
    expect(rankHits('q4', run.get('q4') ?? []).map((h) => h.id)).toEqual(['b', 'a']);
    expect(rankHits('q2', run.get('q2') ?? []).map((h) => h.id)).toEqual(['x']);
  });
  it('nDCG@10 uses graded gains and the ideal from the qrels', () => {
    const ranked = rankHits('q1', run.get('q1') ?? []);
    // DCG = 2/log2(3) + 1/log2(5); IDCG = 2 + 1/log2(3)
    expect(ndcgAt(ranked, qrels.get('q1') as Map<string, number>, 10)).toBeCloseTo(0.6433224083306327, 12);
    // cut at 2: DCG = 2/log2(3); IDCG = 2 + 1/log2(3)
    expect(ndcgAt(ranked, qrels.get('q1') as Map<string, number>, 2)).toBeCloseTo(2 / Math.log2(3) / (2 + 1 / Math.log2(3)), 12);
  });
  it('Recall@k and MRR@k', () => {
    const ranked = rankHits('q1', run.get('q1') ?? []);
    const rels = qrels.get('q1') as Map<string, number>;
    expect(recallAt(ranked, rels, 100)).toBe(1);
    expect(recallAt(ranked, rels, 3)).toBe(0.5);
    expect(mrrAt(ranked, rels, 10)).toBe(0.5);
    expect(mrrAt(ranked, rels, 1)).toBe(0);
    expect(ndcgAt([], new Map([['a', 0]]), 10)).toBe(0);
  });
  it('averages over the qrels queries; a query without hits scores 0', () => {
    const e = evaluateRun(run, qrels);
    expect(e.queries).toBe(4);
    expect(e.perQuery.get('q3')).toEqual({ ndcg10: 0, recall100: 0, mrr10: 0 });
    expect(e.perQuery.get('q2')).toEqual({ ndcg10: 1, recall100: 1, mrr10: 1 });
    expect(e.perQuery.get('q4')?.ndcg10).toBeCloseTo(0.6309297535714575, 12);
    expect(e.ndcg10).toBeCloseTo(0.5685630404755226, 12);
    expect(e.recall100).toBe(0.75);
    expect(e.mrr10).toBe(0.5);
  });
  it('overlap recall of an approximate run against the exact one', () => {
    const exact: Run = new Map([
      [
        'q',
        [
          { id: 'a', score: 3 },
          { id: 'b', score: 2 },
        ],
      ],
      ['r', [{ id: 'c', score: 1 }]],
    ]);
    const approx: Run = new Map([
      [
        'q',
        [
          { id: 'a', score: 3 },
          { id: 'z', score: 1 },
        ],
      ],
      ['r', [{ id: 'c', score: 1 }]],
    ]);
    expect(overlapRecall(approx, exact, 10)).toBe(0.75);
  });
});
