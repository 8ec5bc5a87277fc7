/**
 * Unit tests of the web page's DOM-free modules (src/server/web/url-state.js and terms.js): the shareable URL
 * round trip and the search body built from it, which query-vector terms count as expansion terms, the
 * searched query vector under PRF, and the snippet highlight. The page is plain JS without type declarations,
 * so the modules are loaded by URL and typed here by the slice the tests use.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

interface PageState {
  collection: string;
  q: string;
  k: number | null;
  exact: boolean;
  queryCut: number | null;
  heapFactor: number | null;
  prf: boolean;
  alpha: number | null;
  page: number;
  targetRecall: number | null;
  prfDocs: number | null;
  prfTerms: number | null;
  prfWeight: number | null;
  filters: Record<string, { value?: string; gte?: number; lte?: number }>;
}
interface UrlStateModule {
  emptyState(): PageState;
  parseState(search: string): PageState;
  formatState(state: PageState): string;
  toSearchBody(
    state: PageState,
    hasDense: boolean,
    context?: { metadata?: Record<string, string>; defaultK?: number },
  ): Record<string, unknown>;
}
interface Hit {
  explain?: { terms?: { token: string; query: number }[] };
}
interface TermsModule {
  queryWords(text: string): string[];
  literalTokens(text: string, analyzed: string[], tokens: string[]): Set<string>;
  searchedQueryTerms(
    encoded: Record<string, number>,
    hits: Hit[],
    literalOf: (tokens: string[]) => Set<string>,
  ): { token: string; weight: number; expansion: boolean }[];
  snippetParts(text: string, query: { words: string[]; stems?: string[] }, maxChars?: number): { text: string; mark: boolean }[];
}

const WEB_DIR = path.join(import.meta.dirname, '..', 'src', 'server', 'web');
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(WEB_DIR, file)).href)) as T;

let us: UrlStateModule;
let terms: TermsModule;
beforeAll(async () => {
  us = await load<UrlStateModule>('url-state.js');
  terms = await load<TermsModule>('terms.js');
});

describe('url-state', () => {
  it('round-trips a full state through the query string, canonically', () => {
    const state: PageState = {
      ...us.emptyState(),
      collection: 'news',
      q: 'earthquake & damage',
      k: 5,
      exact: true,
      queryCut: 8,
      heapFactor: 0.75,
      prf: true,
      alpha: 0.3,
    };
    const search = us.formatState(state);
    expect(search).toBe('?collection=news&q=earthquake+%26+damage&k=5&exact=1&queryCut=8&heapFactor=0.75&prf=1&alpha=0.3');
    expect(us.parseState(search)).toEqual(state);
    expect(us.formatState(us.parseState(search))).toBe(search);
  });

  it('round-trips page, targetRecall, PRF parameters and filters, filters by field name', () => {
    const state: PageState = {
      ...us.emptyState(),
      collection: 'news',
      q: 'quake',
      k: 5,
      page: 3,
      targetRecall: 0.9,
      prf: true,
      prfDocs: 3,
      prfTerms: 10,
      prfWeight: 0.25,
      filters: { year: { gte: 2020, lte: 2024.5 }, lang: { value: 'en,de' } },
    };
    const search = us.formatState(state);
    expect(search).toBe(
      '?collection=news&q=quake&k=5&page=3&targetRecall=0.9&prf=1&prfDocs=3&prfTerms=10&prfWeight=0.25&f.lang=en%2Cde&f.year.gte=2020&f.year.lte=2024.5',
    );
    expect(us.parseState(search)).toEqual(state);
    expect(us.formatState(us.parseState(search))).toBe(search);
    // Bad values are dropped; page 1 is not written.
    expect(us.parseState('?page=0&targetRecall=0&prfDocs=101&prfWeight=11&f.year.gte=x&f.=1&f.lang=%20')).toEqual(us.emptyState());
    expect(us.formatState({ ...us.emptyState(), q: 'x', page: 1 })).toBe('?q=x');
  });

  it('builds filters for declared fields, offset for a page, targetRecall and PRF parameters', () => {
    const metadata = { lang: 'keyword', year: 'number' };
    const state: PageState = {
      ...us.emptyState(),
      q: 'quake',
      page: 3,
      targetRecall: 0.8,
      prf: true,
      prfTerms: 7,
      filters: { lang: { value: ' en , de ' }, year: { gte: 2020 }, undeclared: { value: 'x' }, tag: { value: 'solo' } },
    };
    expect(us.toSearchBody(state, false, { metadata: { ...metadata, tag: 'keyword' }, defaultK: 4 })).toEqual({
      query: 'quake',
      explain: true,
      include: ['title', 'text'],
      offset: 8,
      filter: {
        must: [
          { field: 'lang', in: ['en', 'de'] },
          { field: 'tag', eq: 'solo' },
          { field: 'year', gte: 2020 },
        ],
      },
      params: { targetRecall: 0.8 },
      prf: { terms: 7 },
    });
    // k is the page size when set; no filter at all without declared fields.
    const body = us.toSearchBody({ ...state, k: 10 }, false, {});
    expect(body.offset).toBe(20);
    expect(body).not.toHaveProperty('filter');
  });

  it('writes nothing for the empty state and reads an empty string as it', () => {
    expect(us.formatState(us.emptyState())).toBe('');
    expect(us.parseState('')).toEqual(us.emptyState());
  });

  it('drops malformed or out-of-range values so the collection defaults apply', () => {
    const s = us.parseState('?collection=news&q=x&k=0&queryCut=2.5&heapFactor=0&alpha=1.5&exact=yes&prf=0');
    expect(s).toEqual({ ...us.emptyState(), collection: 'news', q: 'x' });
    expect(us.parseState('?k=1001').k).toBeNull();
    expect(us.parseState('?k=1000&heapFactor=1&alpha=0').k).toBe(1000);
    expect(us.parseState('?heapFactor=1&alpha=0')).toMatchObject({ heapFactor: 1, alpha: 0 });
  });

  it('builds the search body: explain always, params only when set, alpha only with a dense part', () => {
    const base = { ...us.emptyState(), collection: 'news', q: 'quake' };
    expect(us.toSearchBody(base, false)).toEqual({ query: 'quake', explain: true, include: ['title', 'text'] });
    const full = { ...base, k: 3, exact: true, queryCut: 4, heapFactor: 0.5, prf: true, alpha: 0.25 };
    expect(us.toSearchBody(full, true)).toEqual({
      query: 'quake',
      explain: true,
      include: ['title', 'text'],
      k: 3,
      params: { exact: true, queryCut: 4, heapFactor: 0.5 },
      prf: {},
      hybrid: { alpha: 0.25 },
    });
    expect(us.toSearchBody(full, false)).not.toHaveProperty('hybrid');
  });
});

describe('terms: literal vs expansion', () => {
  it('counts query words and their lexical stems as literal, other terms as expansion', () => {
    const lit = terms.literalTokens(
      'Earthquakes damaged Zürich',
      ['earthquak', 'damag', 'zurich'],
      ['earthquak', 'damag', 'zurich', 'tremor', 'earth'],
    );
    expect([...lit].sort()).toEqual(['damag', 'earthquak', 'zurich']);
  });

  it('recognises WordPiece splits only when the pieces spell the whole word', () => {
    // "tremors" = tremor + ##s; "earth" alone does not spell "earthquake", so it is expansion.
    const lit = terms.literalTokens('tremors earthquake', [], ['tremor', '##s', 'earth', 'seismic', '##quake']);
    expect([...lit].sort()).toEqual(['##quake', '##s', 'earth', 'tremor']);
    const lit2 = terms.literalTokens('earthquake', [], ['earth', 'quake', 'seismic']);
    expect([...lit2]).toEqual([]);
    const lit3 = terms.literalTokens('earthquake', [], ['▁earthquake', 'Ġshake']);
    expect([...lit3]).toEqual(['▁earthquake']);
  });

  it('builds the searched vector from the encoding and the explanations (PRF terms added, weights as searched)', () => {
    const hits: Hit[] = [
      {
        explain: {
          terms: [
            { token: 'quak', query: 1.5 },
            { token: 'shake', query: 0.3 },
          ],
        },
      },
      { explain: { terms: [{ token: 'tremor', query: 0.3 }] } },
    ];
    const out = terms.searchedQueryTerms({ quak: 1.2, coast: 0.4 }, hits, (tokens) =>
      terms.literalTokens('quakes coast', ['quak', 'coast'], tokens),
    );
    expect(out).toEqual([
      { token: 'quak', weight: 1.5, expansion: false },
      { token: 'coast', weight: 0.4, expansion: false },
      { token: 'shake', weight: 0.3, expansion: true },
      { token: 'tremor', weight: 0.3, expansion: true },
    ]);
  });
});

describe('terms: snippet', () => {
  const marked = (parts: { text: string; mark: boolean }[]) => parts.filter((p) => p.mark).map((p) => p.text);

  it('marks whole query words and words starting with a stem, at word starts only', () => {
    const parts = terms.snippetParts('Within the Earthquakes zone, quake in inland', {
      words: terms.queryWords('in quake'),
      stems: ['earthquak'],
    });
    expect(marked(parts)).toEqual(['Earthquakes', 'quake', 'in']);
    expect(parts.map((p) => p.text).join('')).toBe('Within the Earthquakes zone, quake in inland');
  });

  it('centres a long text on the first match and marks the cuts', () => {
    const text = `${'filler words here '.repeat(30)}the earthquake struck ${'more filler text '.repeat(30)}`;
    const parts = terms.snippetParts(text, { words: ['earthquake'] }, 120);
    const joined = parts.map((p) => p.text).join('');
    expect(joined.startsWith('… ')).toBe(true);
    expect(joined.endsWith(' …')).toBe(true);
    expect(joined.length).toBeLessThanOrEqual(120 + 4);
    expect(marked(parts)).toEqual(['earthquake']);
  });

  it('returns the text unmarked when no word matches, and nothing for no text', () => {
    expect(terms.snippetParts('short text', { words: ['absent'] })).toEqual([{ text: 'short text', mark: false }]);
    expect(terms.snippetParts('', { words: ['x'] })).toEqual([]);
  });
});
