// The lexical analyzer end to end: possessives, lower-casing, stopwords, stemming, tf counts, query terms.
import { describe, expect, it } from 'vitest';
import { ENGLISH_STOP_WORDS } from './stopwords.js';
import { LexicalAnalyzer, analyze, analyzeQuery, bm25Idf, documentText, stripPossessive } from './lexical-encoder.js';

describe('lexical analyzer', () => {
  it("has Lucene's 33 English stopwords", () => {
    expect(ENGLISH_STOP_WORDS.size).toBe(33);
    for (const w of ['the', 'a', 'into', 'such', 'will', 'with', 'their']) expect(ENGLISH_STOP_WORDS.has(w)).toBe(true);
    for (const w of ['he', 'she', 'from', 'have', 'we']) expect(ENGLISH_STOP_WORDS.has(w)).toBe(false);
  });
  it('removes possessives before lower-casing and stopwords', () => {
    expect(stripPossessive("John's")).toBe('John');
    expect(stripPossessive('JOHN’S')).toBe('JOHN');
    expect(stripPossessive("don't")).toBe("don't");
    expect([...(analyzeQuery("It's the patient's own cells") ?? [])]).toEqual([
      ['patient', 1],
      ['own', 1],
      ['cell', 1],
    ]);
  });
  it('counts stemmed term frequencies in first-occurrence order', () => {
    const tf = analyze('Running runners run; the RUNS ran. Cells, cell and CELLS!');
    expect([...tf.entries()]).toEqual([
      ['run', 3],
      ['runner', 1],
      ['ran', 1],
      ['cell', 3],
    ]);
  });
  it('keeps numbers as terms and stems them like Lucene', () => {
    expect([...analyze('In 1990s, 3.14% of 1,000 mice').keys()]).toEqual(['1990', '3.14', '1,000', 'mice']);
  });
  it('counts repeated query terms, in first-seen order (Lucene: one SHOULD clause per token)', () => {
    expect([...(analyzeQuery('Vitamin D deficiency: is vitamin D deficient?') ?? [])]).toEqual([
      ['vitamin', 2],
      ['d', 2],
      ['defici', 2],
    ]);
    expect(analyzeQuery('the of and')?.size).toBe(0);
  });
  it('refuses query text past maxTerms distinct terms, however often each repeats', () => {
    expect(analyzeQuery('alpha beta gamma alpha beta', 3)?.size).toBe(3);
    expect(analyzeQuery('alpha beta gamma delta', 3)).toBeNull();
    expect(analyzeQuery('alpha '.repeat(10_000), 1)?.get('alpha')).toBe(10_000);
  });
  it('joins title and text with one space', () => {
    expect(documentText('Title', 'body')).toBe('Title body');
    expect(documentText(undefined, 'body')).toBe('body');
    expect(documentText('Title', '')).toBe('Title');
    expect([...analyze(documentText('Gene', 'expression')).keys()]).toEqual(['gene', 'express']);
  });
  it('a bounded stem cache never changes results', () => {
    const tiny = new LexicalAnalyzer(2);
    const text = 'proteins bind receptors; receptor binding of proteins modulates signalling';
    expect([...tiny.analyze(text)]).toEqual([...analyze(text)]);
    expect([...tiny.analyze(text)]).toEqual([...analyze(text)]);
  });
  it('binary query × idf dot saturated doc tf is BM25 by hand', () => {
    // Collection of 3 docs; query "cell growth"; doc "cell cell growth factor" (dl 4, avgdl 3).
    const N = 3;
    const idfCell = bm25Idf(N, 2);
    const idfGrowth = bm25Idf(N, 1);
    const tf = analyze('cell cell growth factor');
    const dl = [...tf.values()].reduce((a, b) => a + b, 0);
    expect(dl).toBe(4);
    const w = (t: number) => (t * 1.9) / (t + 0.9 * (0.6 + (0.4 * 4) / 3));
    const score = idfCell * w(tf.get('cell') ?? 0) + idfGrowth * w(tf.get('growth') ?? 0);
    expect(score).toBeCloseTo(
      Math.log(1 + 1.5 / 2.5) * (3.8 / (2 + 0.9 * (0.6 + 1.6 / 3))) + Math.log(1 + 2.5 / 1.5) * (1.9 / (1 + 0.9 * (0.6 + 1.6 / 3))),
      10,
    );
  });
});
