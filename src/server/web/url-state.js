/**
 * The page's shareable state and its query-string form: `?collection=news&q=quake&k=5&page=2&exact=1&
 * queryCut=8&heapFactor=0.8&targetRecall=0.9&prf=1&prfDocs=3&prfTerms=10&prfWeight=0.5&alpha=0.3&f.lang=en&
 * f.year.gte=2020&f.year.lte=2024`. Filters are `f.<field>` (a keyword field: one value, or several separated by
 * commas) and `f.<field>.gte` / `f.<field>.lte` (a number field's bounds). Parsing is forgiving (a bad or
 * out-of-range value is dropped, so the collection default applies) and writing is canonical (fixed key order,
 * filters by field name, empty fields left out), so a URL survives a round trip unchanged. Also builds the search
 * request body (API.md "Search") from a state. Pure functions, no DOM; imported by app.js and by
 * test/web-state.test.ts.
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
 * @property {number} page result page, 1-based (page size: k, else the collection's default k)
 * @property {number|null} targetRecall recall target (0, 1], null = collection default
 * @property {number|null} prfDocs feedback documents (1..100), null = server default
 * @property {number|null} prfTerms feedback terms (1..1000), null = server default
 * @property {number|null} prfWeight feedback weight (0..10), null = server default
 * @property {Record<string, FieldFilter>} filters metadata filters by field name
 */

/**
 * @typedef {object} FieldFilter
 * @property {string} [value] keyword field: the value, or comma-separated values (any of them)
 * @property {number} [gte] number field: lower bound (inclusive)
 * @property {number} [lte] number field: upper bound (inclusive)
 */

/** Largest page number the page asks for (the server bounds offset + k anyway). */
export const MAX_PAGE = 1000;

/** @returns {PageState} */
export function emptyState() {
  return {
    collection: '',
    q: '',
    k: null,
    exact: false,
    queryCut: null,
    heapFactor: null,
    prf: false,
    alpha: null,
    page: 1,
    targetRecall: null,
    prfDocs: null,
    prfTerms: null,
    prfWeight: null,
    filters: {},
  };
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
  /** @type {Record<string, FieldFilter>} */
  const filters = {};
  for (const [key, raw] of p) {
    const m = /^f\.(.+?)(?:\.(gte|lte))?$/.exec(key);
    if (m === null || m[1] === '') continue;
    const field = m[1];
    if (m[2] === undefined) {
      const value = raw.trim();
      if (value !== '') filters[field] = { ...filters[field], value };
    } else {
      const n = numIn(raw, -Number.MAX_VALUE, Number.MAX_VALUE, false);
      if (n !== null) filters[field] = { ...filters[field], [m[2]]: n };
    }
  }
  return {
    collection: (p.get('collection') ?? '').trim(),
    q: p.get('q') ?? '',
    k: intIn(p.get('k'), 1, 1000),
    exact: flag(p.get('exact')),
    queryCut: intIn(p.get('queryCut'), 1, 1024),
    heapFactor: numIn(p.get('heapFactor'), 0, 1, true),
    prf: flag(p.get('prf')),
    alpha: numIn(p.get('alpha'), 0, 1, false),
    page: intIn(p.get('page'), 1, MAX_PAGE) ?? 1,
    targetRecall: numIn(p.get('targetRecall'), 0, 1, true),
    prfDocs: intIn(p.get('prfDocs'), 1, 100),
    prfTerms: intIn(p.get('prfTerms'), 1, 1000),
    prfWeight: numIn(p.get('prfWeight'), 0, 10, false),
    filters,
  };
}

/** Writes a state as a canonical query string starting with `?` (or '' when the state is empty). */
export function formatState(state) {
  const p = new URLSearchParams();
  if (state.collection) p.set('collection', state.collection);
  if (state.q) p.set('q', state.q);
  if (state.k !== null) p.set('k', String(state.k));
  if ((state.page ?? 1) > 1) p.set('page', String(state.page));
  if (state.exact) p.set('exact', '1');
  if (state.queryCut !== null) p.set('queryCut', String(state.queryCut));
  if (state.heapFactor !== null) p.set('heapFactor', String(state.heapFactor));
  if ((state.targetRecall ?? null) !== null) p.set('targetRecall', String(state.targetRecall));
  if (state.prf) p.set('prf', '1');
  if ((state.prfDocs ?? null) !== null) p.set('prfDocs', String(state.prfDocs));
  if ((state.prfTerms ?? null) !== null) p.set('prfTerms', String(state.prfTerms));
  if ((state.prfWeight ?? null) !== null) p.set('prfWeight', String(state.prfWeight));
  if (state.alpha !== null) p.set('alpha', String(state.alpha));
  const filters = state.filters ?? {};
  for (const field of Object.keys(filters).sort()) {
    const f = filters[field];
    if (f.value !== undefined && f.value !== '') p.set(`f.${field}`, f.value);
    if (f.gte !== undefined) p.set(`f.${field}.gte`, String(f.gte));
    if (f.lte !== undefined) p.set(`f.${field}.lte`, String(f.lte));
  }
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

/**
 * The filter of a state's `filters` over the collection's declared metadata fields (`metadata`: field → `keyword`
 * | `number`): a keyword value is `eq` (several comma-separated values: `in`), number bounds one `gte`/`lte`
 * clause; filters on undeclared fields are left out (the server filters declared fields only). undefined when
 * nothing applies.
 */
export function toFilter(filters, metadata) {
  const must = [];
  for (const field of Object.keys(filters ?? {}).sort()) {
    const f = filters[field];
    const type = metadata?.[field];
    if (type === 'keyword' && f.value !== undefined) {
      const values = f.value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length === 1) must.push({ field, eq: values[0] });
      else if (values.length > 1) must.push({ field, in: values });
    } else if (type === 'number' && (f.gte !== undefined || f.lte !== undefined)) {
      const clause = { field };
      if (f.gte !== undefined) clause.gte = f.gte;
      if (f.lte !== undefined) clause.lte = f.lte;
      must.push(clause);
    }
  }
  return must.length > 0 ? { must } : undefined;
}

/**
 * The search body for a state. `hasDense`: the collection declares a dense part, the only case where `alpha`
 * (as `hybrid: {alpha}`) is sent. `context.metadata`: the collection's declared metadata fields (for filters);
 * `context.defaultK`: its default k, the page size when `k` is not set (a page > 1 is sent as `offset`).
 * Always asks for explanations and the title and text (for the snippet).
 */
export function toSearchBody(state, hasDense, context = {}) {
  const body = { query: state.q, explain: true, include: ['title', 'text'] };
  if (state.k !== null) body.k = state.k;
  const page = state.page ?? 1;
  if (page > 1) body.offset = (page - 1) * (state.k ?? context.defaultK ?? 10);
  const filter = toFilter(state.filters, context.metadata);
  if (filter !== undefined) body.filter = filter;
  const params = {};
  if (state.exact) params.exact = true;
  if (state.queryCut !== null) params.queryCut = state.queryCut;
  if (state.heapFactor !== null) params.heapFactor = state.heapFactor;
  if ((state.targetRecall ?? null) !== null) params.targetRecall = state.targetRecall;
  if (Object.keys(params).length > 0) body.params = params;
  if (state.prf) {
    body.prf = {};
    if ((state.prfDocs ?? null) !== null) body.prf.docs = state.prfDocs;
    if ((state.prfTerms ?? null) !== null) body.prf.terms = state.prfTerms;
    if ((state.prfWeight ?? null) !== null) body.prf.weight = state.prfWeight;
  }
  if (hasDense && state.alpha !== null) body.hybrid = { alpha: state.alpha };
  return body;
}
