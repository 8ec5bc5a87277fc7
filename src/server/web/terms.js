/**
 * The "why" arithmetic of the page, kept free of the DOM so it can be tested on its own:
 * - which query-vector terms are *expansion* terms (added by PRF or by a SPLADE-style model) rather than the
 *   literal query's own terms;
 * - the query vector as it was searched, from the encoded query plus the weights the hits' explanations report
 *   (with PRF on, the searched vector differs from the encoded one: feedback terms are added and weights change);
 * - a snippet of a hit's text around the first literal query word.
 * Imported by app.js and render.js, and by test/web-state.test.ts.
 */

/** Lower-cases and strips accents, the way the lexical analyzer and BERT's uncased tokenizer see words. */
function fold(s) {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/** The query's words, folded (letters and digits; everything else separates words). */
export function queryWords(text) {
  return fold(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

/**
 * Which of `tokens` (a query vector's tokens) are the literal query's own terms; the others are expansion.
 * A token is literal when, folded and stripped of a SentencePiece/BPE word marker (`▁`, `Ġ`), it is
 * - a word of the query, or
 * - one of `analyzedTerms`, the lexical encoder's terms for the query (stemmed: `quakes` → `quak`), or
 * - a WordPiece of a query word: the word is exactly spelled by a first piece plus `##` continuation pieces
 *   that are all in the vector (`tremors` = `tremor` + `##s`).
 * A bare prefix without the pieces that complete the word (`earth` for `earthquake`) is expansion.
 * @param {string} text the query text
 * @param {Iterable<string>} analyzedTerms terms the lexical encoder derived from the text (may be empty)
 * @param {Iterable<string>} tokens the query vector's tokens
 * @returns {Set<string>} the literal tokens, as given
 */
export function literalTokens(text, analyzedTerms, tokens) {
  const words = queryWords(text);
  const exact = new Set(words);
  for (const t of analyzedTerms) exact.add(fold(t));
  const literal = new Set();
  const firsts = new Map(); // folded first piece -> token
  const conts = new Map(); // folded continuation (without ##) -> token
  for (const token of tokens) {
    const f = fold(token);
    const bare = f.replace(/^(?:\u2581|\u0120)/, '');
    if (exact.has(f) || exact.has(bare)) literal.add(token);
    if (f.startsWith('##')) {
      if (f.length > 2) conts.set(f.slice(2), token);
    } else if (bare !== '') firsts.set(bare, token);
  }
  for (const w of words) {
    for (const piece of wordPieces(w, firsts, conts) ?? []) literal.add(piece);
  }
  return literal;
}

/** A split of `word` into one first piece and continuation pieces, all known; null when there is none. */
function wordPieces(word, firsts, conts) {
  /** @type {(string[] | undefined)[]} */
  const reach = new Array(word.length + 1);
  for (const [p, token] of firsts) if (p.length < word.length && word.startsWith(p)) reach[p.length] = [token];
  for (let i = 1; i < word.length; i++) {
    const path = reach[i];
    if (path === undefined) continue;
    for (const [c, token] of conts) {
      const j = i + c.length;
      if (j <= word.length && reach[j] === undefined && word.startsWith(c, i)) reach[j] = [...path, token];
    }
  }
  return reach[word.length] ?? null;
}

/**
 * @typedef {object} QueryTerm
 * @property {string} token
 * @property {number} weight weight in the searched query vector
 * @property {boolean} expansion not one of the literal query's terms
 */

/**
 * The query vector as searched, heaviest first (ties by token). Weights come from the hits' explanations when
 * a term appears there (they are the searched weights), else from the encoded query; terms only the
 * explanations know (PRF feedback terms that matched a hit) are added.
 * @param {Record<string, number>} encodedTokens token map of POST /v1/encode, may be empty
 * @param {{explain?: {terms?: {token: string, query: number}[]}}[]} hits search hits with explanations
 * @param {(tokens: string[]) => Set<string>} literalOf the literal subset of the tokens (see literalTokens)
 * @returns {QueryTerm[]}
 */
export function searchedQueryTerms(encodedTokens, hits, literalOf) {
  const weights = new Map(Object.entries(encodedTokens ?? {}));
  for (const hit of hits) {
    for (const t of hit.explain?.terms ?? []) weights.set(t.token, t.query);
  }
  const literal = literalOf([...weights.keys()]);
  const out = [];
  for (const [token, weight] of weights) {
    if (weight > 0) out.push({ token, weight, expansion: !literal.has(token) });
  }
  out.sort((a, b) => b.weight - a.weight || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
  return out;
}

/**
 * A snippet of `text` of about `maxChars` characters around the first occurrence of a query word, cut at word
 * boundaries, as parts to render; `mark` parts are occurrences to highlight: a query word as a whole word, or a
 * word that starts with one of the query's stems (`earthquak` marks `earthquakes`).
 * @param {string} text
 * @param {{words: string[], stems?: string[]}} query folded query words (queryWords) and lexical stems
 * @param {number} [maxChars]
 * @returns {{text: string, mark: boolean}[]}
 */
export function snippetParts(text, query, maxChars = 220) {
  if (!text) return [];
  const folded = fold(text);
  // fold() may change lengths for a few characters (ligatures); only trust positions when lengths agree.
  const aligned = folded.length === text.length;
  const alternatives = (list) =>
    [...new Set(list.map(fold))]
      .filter((w) => w !== '')
      .map(escapeRegExp)
      .sort((a, b) => b.length - a.length)
      .join('|');
  const words = aligned ? alternatives(query.words) : '';
  const stems = aligned ? alternatives((query.stems ?? []).filter((t) => t.length >= 3)) : '';
  const branches = [];
  if (stems) branches.push(`(?:${stems})[\\p{L}\\p{N}]*`);
  if (words) branches.push(`(?:${words})(?![\\p{L}\\p{N}])`);
  // Matches start at a word start only, so `in` does not light up inside `within`.
  const pattern = branches.length > 0 ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${branches.join('|')})`, 'gu') : null;
  const first = pattern === null ? -1 : folded.search(pattern);
  let start = 0;
  if (first > maxChars / 3) {
    start = text.lastIndexOf(' ', first - Math.floor(maxChars / 3));
    start = start < 0 ? 0 : start + 1;
  }
  let end = Math.min(text.length, start + maxChars);
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    if (space > start + maxChars / 2) end = space;
  }
  const prefix = start > 0 ? '… ' : '';
  const suffix = end < text.length ? ' …' : '';
  const parts = [];
  if (prefix) parts.push({ text: prefix, mark: false });
  let i = start;
  if (pattern !== null) {
    const window = folded.slice(start, end);
    for (const m of window.matchAll(pattern)) {
      const at = start + (m.index ?? 0);
      if (at > i) parts.push({ text: text.slice(i, at), mark: false });
      parts.push({ text: text.slice(at, at + m[0].length), mark: true });
      i = at + m[0].length;
    }
  }
  if (i < end) parts.push({ text: text.slice(i, end), mark: false });
  if (suffix) parts.push({ text: suffix, mark: false });
  return parts;
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
