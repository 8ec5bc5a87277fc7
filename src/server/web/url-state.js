/**
 * The page's shareable state and its query-string form: `?collection=news&q=quake&k=5&exact=1&prf=1&
 * queryCut=8&heapFactor=0.8&alpha=0.3`. Parsing is forgiving (a bad or out-of-range value is dropped, so the
 * collection default applies) and writing is canonical (fixed key order, empty fields left out), so a URL
 * survives a round trip unchanged. Also builds the search request body (API.md "Search") from a state.
 * Pure functions, no DOM; imported by app.js and by test/web-state.test.ts.
 */

/**
 * @typedef {object} PageState
 * @property {string} collection collection name, '' when none
 * @property {string} q query text, '' when none
 * @property {number|null} k hits wanted (1..1000), null = collection default
 * @property {boolean} exact exact search instead of approximate
 * @property {number|null} queryCut query terms kept (1..1024), null = default
 * @property {number|null} heapFactor (0, 1], null = default
 * @property {boolean} prf pseudo-relevance feedback on
 * @property {number|null} alpha hybrid weight of the sparse score (0..1), null = not sent
 */

/** @returns {PageState} */
export function emptyState() {
  return { collection: '', q: '', k: null, exact: false, queryCut: null, heapFactor: null, prf: false, alpha: null };
}

function intIn(raw, lo, hi) {
  if (raw === null || raw === undefined || String(raw).trim() === '') return null;
  const s = String(raw).trim();
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n >= lo && n <= hi ? n : null;
}

function numIn(raw, lo, hi, loExclusive) {
  if (raw === null || raw === undefined || String(raw).trim() === '') return null;
  const n = Number(String(raw).trim());
  if (!Number.isFinite(n) || n > hi || n < lo || (loExclusive && n === lo)) return null;
  return n;
}

function flag(raw) {
  return raw === '1' || raw === 'true' || raw === 'on';
}

/**
 * Reads a state from a query string (with or without the leading `?`) or URLSearchParams.
 * @returns {PageState}
 */
export function parseState(search) {
  const p = search instanceof URLSearchParams ? search : new URLSearchParams(search);
  return {
    collection: (p.get('collection') ?? '').trim(),
    q: p.get('q') ?? '',
    k: intIn(p.get('k'), 1, 1000),
    exact: flag(p.get('exact')),
    queryCut: intIn(p.get('queryCut'), 1, 1024),
    heapFactor: numIn(p.get('heapFactor'), 0, 1, true),
    prf: flag(p.get('prf')),
    alpha: numIn(p.get('alpha'), 0, 1, false),
  };
}

/** Writes a state as a canonical query string starting with `?` (or '' when the state is empty). */
export function formatState(state) {
  const p = new URLSearchParams();
  if (state.collection) p.set('collection', state.collection);
  if (state.q) p.set('q', state.q);
  if (state.k !== null) p.set('k', String(state.k));
  if (state.exact) p.set('exact', '1');
  if (state.queryCut !== null) p.set('queryCut', String(state.queryCut));
  if (state.heapFactor !== null) p.set('heapFactor', String(state.heapFactor));
  if (state.prf) p.set('prf', '1');
  if (state.alpha !== null) p.set('alpha', String(state.alpha));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

/**
 * The search body for a state. `hasDense`: the collection declares a dense part, the only case where `alpha`
 * (as `hybrid: {alpha}`) is sent. Always asks for explanations and the title and text (for the snippet).
 */
export function toSearchBody(state, hasDense) {
  const body = { query: state.q, explain: true, include: ['title', 'text'] };
  if (state.k !== null) body.k = state.k;
  const params = {};
  if (state.exact) params.exact = true;
  if (state.queryCut !== null) params.queryCut = state.queryCut;
  if (state.heapFactor !== null) params.heapFactor = state.heapFactor;
  if (Object.keys(params).length > 0) body.params = params;
  if (state.prf) body.prf = {};
  if (hasDense && state.alpha !== null) body.hybrid = { alpha: state.alpha };
  return body;
}
