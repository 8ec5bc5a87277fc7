/**
 * Wiring of the web page (index.html): loads the collections, restores the state from the URL, runs searches
 * and renders the results, the query vector and the collection panel. One search at a time is shown: a newer
 * search makes the answers of older ones stale (a sequence number), so slow answers never overwrite fresh ones.
 * A 401 from any call opens the API-key field and retries the call once a key is entered.
 * Filters are built from the selected collection's declared metadata fields (a text field per keyword field, a
 * min/max pair per number field); the pager asks for the next or previous page (`offset`, page size k) and
 * keeps the page in the URL; a new search from the form starts again at page 1.
 * Errors appear in the alert region as "what failed: the server's message (CODE)"; nothing else is shown.
 */
import { ApiError, createApi } from './api.js';
import { emptyState, formatState, MAX_PAGE, parseState, toSearchBody } from './url-state.js';
import { literalTokens, queryWords, searchedQueryTerms } from './terms.js';
import {
  renderCollectionOptions,
  renderCollectionPanel,
  renderFilterFields,
  renderHits,
  renderQueryTerms,
  formatNumber,
} from './render.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const ui = {
  form: /** @type {HTMLFormElement} */ ($('search-form')),
  collection: /** @type {HTMLSelectElement} */ ($('collection')),
  query: /** @type {HTMLInputElement} */ ($('query')),
  k: /** @type {HTMLInputElement} */ ($('k')),
  queryCut: /** @type {HTMLInputElement} */ ($('queryCut')),
  heapFactor: /** @type {HTMLInputElement} */ ($('heapFactor')),
  exact: /** @type {HTMLInputElement} */ ($('exact')),
  prf: /** @type {HTMLInputElement} */ ($('prf')),
  targetRecall: /** @type {HTMLInputElement} */ ($('targetRecall')),
  prfOptions: $('prf-options'),
  prfDocs: /** @type {HTMLInputElement} */ ($('prfDocs')),
  prfTerms: /** @type {HTMLInputElement} */ ($('prfTerms')),
  prfWeight: /** @type {HTMLInputElement} */ ($('prfWeight')),
  filters: $('filters'),
  filterFields: $('filter-fields'),
  pager: $('pager'),
  prevPage: /** @type {HTMLButtonElement} */ ($('prev-page')),
  nextPage: /** @type {HTMLButtonElement} */ ($('next-page')),
  pageInfo: $('page-info'),
  alpha: /** @type {HTMLInputElement} */ ($('alpha')),
  alphaField: $('alpha-field'),
  alphaValue: $('alpha-value'),
  alert: $('alert'),
  status: $('status'),
  results: $('results'),
  hits: /** @type {HTMLOListElement} */ ($('hits')),
  qvTerms: $('qv-terms'),
  qvEmpty: $('qv-empty'),
  cpStats: $('cp-stats'),
  cpEmpty: $('cp-empty'),
  cpRefresh: $('cp-refresh'),
  keyForm: /** @type {HTMLFormElement} */ ($('key-form')),
  keyInput: /** @type {HTMLInputElement} */ ($('api-key')),
  keyToggle: $('key-toggle'),
};

const api = createApi();
/** The selected collection's GET /v1/collections/{name} answer, or null. */
let current = null;
let searchSeq = 0;
let panelSeq = 0;
/** What to run again once an API key is entered after a 401. */
let retryAfterKey = null;
/** Whether the user (or the URL) set alpha; see readForm. */
let alphaChosen = false;
/** Filter values from the URL for fields not rendered yet (the collection's fields arrive with its info). */
let pendingFilters = {};
/** The state of the search shown (for the pager). */
let shown = null;

// ---- alert region and API key -------------------------------------------------------------------------------

function showAlert(context, err) {
  ui.alert.replaceChildren();
  const strong = document.createElement('strong');
  strong.textContent = `${context}: `;
  const message = err instanceof ApiError ? err.message : 'something went wrong in the page; reload it and try again';
  ui.alert.append(strong, document.createTextNode(message));
  if (err instanceof ApiError && err.code !== 'NETWORK') {
    const code = document.createElement('span');
    code.className = 'alert-code';
    code.textContent = ` (${err.code}${err.status ? `, HTTP ${err.status}` : ''})`;
    ui.alert.append(code);
  }
  ui.alert.hidden = false;
}

function clearAlert() {
  ui.alert.hidden = true;
  ui.alert.replaceChildren();
}

function setKeyFormOpen(open) {
  ui.keyForm.hidden = !open;
  ui.keyToggle.setAttribute('aria-expanded', String(open));
  if (open) ui.keyInput.focus();
}

/** Reports a failure; a 401 also opens the key field and remembers `retry` for when a key is entered. */
function fail(context, err, retry) {
  if (err instanceof ApiError && err.status === 401) {
    retryAfterKey = retry;
    showAlert(
      context,
      new ApiError(
        401,
        err.code,
        api.hasKey() ? 'the API key was not accepted; enter it again' : 'this server needs an API key; enter it above',
      ),
    );
    setKeyFormOpen(true);
    return;
  }
  showAlert(context, err);
}

ui.keyToggle.addEventListener('click', () => setKeyFormOpen(ui.keyForm.hidden));
ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  api.setKey(ui.keyInput.value);
  ui.keyInput.value = '';
  setKeyFormOpen(false);
  clearAlert();
  const retry = retryAfterKey ?? loadCollections;
  retryAfterKey = null;
  retry();
});

// ---- form <-> state -------------------------------------------------------------------------------------------

function readForm() {
  const data = new FormData(ui.form);
  const params = new URLSearchParams();
  for (const [key, value] of data) if (typeof value === 'string') params.set(key, value);
  // alpha is sent only once chosen (moved, or restored from the URL): until then the server's default fusion applies.
  if (ui.alphaField.hidden || !alphaChosen) params.delete('alpha');
  if (!ui.prf.checked) for (const key of ['prfDocs', 'prfTerms', 'prfWeight']) params.delete(key);
  const state = parseState(params);
  // Filters on fields the page has not rendered (yet) stay as the URL gave them.
  for (const [field, f] of Object.entries(pendingFilters)) if (!(field in state.filters)) state.filters[field] = f;
  return state;
}

function writeForm(state) {
  if ([...ui.collection.options].some((o) => o.value === state.collection)) ui.collection.value = state.collection;
  ui.query.value = state.q;
  ui.k.value = state.k === null ? '' : String(state.k);
  ui.queryCut.value = state.queryCut === null ? '' : String(state.queryCut);
  ui.heapFactor.value = state.heapFactor === null ? '' : String(state.heapFactor);
  ui.exact.checked = state.exact;
  ui.prf.checked = state.prf;
  ui.targetRecall.value = state.targetRecall === null ? '' : String(state.targetRecall);
  ui.prfDocs.value = state.prfDocs === null ? '' : String(state.prfDocs);
  ui.prfTerms.value = state.prfTerms === null ? '' : String(state.prfTerms);
  ui.prfWeight.value = state.prfWeight === null ? '' : String(state.prfWeight);
  ui.prfOptions.hidden = !state.prf;
  writeFilters(state.filters);
  pendingFilters = unrendered(state.filters);
  alphaChosen = state.alpha !== null;
  ui.alpha.value = String(state.alpha ?? 0.5);
  showAlpha();
}

/** The filters whose field has no rendered control (kept for when that collection's fields appear). */
function unrendered(filters) {
  const rendered = new Set();
  for (const input of ui.filterFields.querySelectorAll('input')) rendered.add(input.name.replace(/^f\.|\.(gte|lte)$/g, ''));
  return Object.fromEntries(Object.entries(filters).filter(([field]) => !rendered.has(field)));
}

/** Puts filter values into the rendered filter fields (missing fields are kept in pendingFilters). */
function writeFilters(filters) {
  for (const input of ui.filterFields.querySelectorAll('input')) {
    const m = /^f\.(.+?)(?:\.(gte|lte))?$/.exec(input.name);
    if (m === null) continue;
    const f = filters[m[1]] ?? {};
    const v = m[2] === undefined ? f.value : f[m[2]];
    input.value = v === undefined ? '' : String(v);
  }
}

ui.prf.addEventListener('change', () => {
  ui.prfOptions.hidden = !ui.prf.checked;
});

function showAlpha() {
  ui.alphaValue.textContent = `${Number(ui.alpha.value).toFixed(2)}${alphaChosen ? '' : ' (server default)'}`;
}

ui.alpha.addEventListener('input', () => {
  alphaChosen = true;
  showAlpha();
});

// ---- collections -----------------------------------------------------------------------------------------------

async function loadCollections() {
  const wanted = parseState(location.search);
  try {
    const { collections } = await api.listCollections();
    renderCollectionOptions(ui.collection, collections, wanted.collection || ui.collection.value);
    if (wanted.collection && ui.collection.value !== wanted.collection) {
      showAlert('Collection', new ApiError(404, 'NOT_FOUND', `collection "${wanted.collection}" does not exist on this server`));
    }
    if (collections.length === 0)
      ui.status.textContent = 'This server has no collections yet; create one through the API (PUT /v1/collections/{name}).';
    if (ui.collection.value) {
      await selectCollection(ui.collection.value);
      if (wanted.q && ui.collection.value === wanted.collection) void runSearch({ ...readForm(), page: wanted.page });
    }
  } catch (err) {
    renderCollectionOptions(ui.collection, [], '', 'Collections unavailable');
    fail('Loading collections', err, loadCollections);
  }
}

/** Loads the collection panel and adapts the controls (defaults as placeholders, alpha only with a dense part). */
async function selectCollection(name) {
  const seq = ++panelSeq;
  if (!name) {
    current = null;
    ui.cpStats.hidden = true;
    ui.cpRefresh.hidden = true;
    ui.cpEmpty.hidden = false;
    return;
  }
  try {
    const info = await api.getCollection(name);
    if (seq !== panelSeq) return;
    current = info;
    renderCollectionPanel(ui.cpStats, info);
    ui.cpStats.hidden = false;
    ui.cpRefresh.hidden = false;
    ui.cpEmpty.hidden = true;
    const defaults = info.config?.search ?? {};
    ui.k.placeholder = defaults.k !== undefined ? String(defaults.k) : '';
    ui.queryCut.placeholder = defaults.queryCut !== undefined ? String(defaults.queryCut) : '';
    ui.heapFactor.placeholder = defaults.heapFactor !== undefined ? String(defaults.heapFactor) : '';
    const dense = Boolean(info.config?.dense);
    ui.alphaField.hidden = !dense;
    ui.alpha.disabled = !dense;
    if (ui.filterFields.dataset.collection !== info.name) {
      const metadata = info.config?.metadata ?? {};
      renderFilterFields(ui.filterFields, metadata);
      ui.filterFields.dataset.collection = info.name;
      ui.filters.hidden = Object.keys(metadata).length === 0;
      writeFilters(pendingFilters);
      pendingFilters = unrendered(pendingFilters);
      for (const input of ui.filterFields.querySelectorAll('input')) input.addEventListener('change', rerunOnChange);
    }
  } catch (err) {
    if (seq === panelSeq) fail(`Loading collection "${name}"`, err, () => selectCollection(name));
  }
}

ui.cpRefresh.addEventListener('click', () => void selectCollection(ui.collection.value));

ui.collection.addEventListener('change', async () => {
  clearAlert();
  await selectCollection(ui.collection.value);
  if (ui.query.value.trim() !== '') submit();
});

// ---- search ------------------------------------------------------------------------------------------------------

/** The query's vector as the collection's query encoder sees it, and the lexical terms of the literal text. */
async function encodeQuery(collection, text) {
  const cfg = current?.name === collection ? current.config : undefined;
  const encoder = cfg?.queryEncoder ?? cfg?.encoder ?? 'lexical';
  const [vector, literal] = await Promise.allSettled([
    encoder === 'none' ? Promise.resolve(null) : api.encode({ encoder, collection, kind: 'query', texts: [text] }),
    api.encode({ encoder: 'lexical', kind: 'query', texts: [text] }),
  ]);
  return {
    tokens: vector.status === 'fulfilled' ? (vector.value?.vectors?.[0]?.tokens ?? {}) : {},
    analyzed: literal.status === 'fulfilled' ? Object.keys(literal.value?.vectors?.[0]?.tokens ?? {}) : [],
  };
}

function statusLine(response, k) {
  const n = response.hits.length;
  const took = response.took ?? {};
  const parts = [`${n} ${n === 1 ? 'hit' : 'hits'} in ${formatNumber(took.totalMs)} ms`];
  if (typeof took.encodeMs === 'number') parts.push(`(encode ${formatNumber(took.encodeMs)} ms, search ${formatNumber(took.searchMs)} ms)`);
  if (response.stats?.exact) parts.push('· exact');
  const tuned = response.stats?.tuned;
  if (tuned) {
    const recall = typeof tuned.estimatedRecall === 'number' ? `, est. recall ${(tuned.estimatedRecall * 100).toFixed(1)} %` : '';
    parts.push(
      `· targetRecall ${tuned.targetRecall}: queryCut ${tuned.queryCut}, heapFactor ${tuned.heapFactor}${tuned.calibrated ? recall : ' (not calibrated: defaults)'}`,
    );
  }
  if (n === 0) parts.push('· no document matched');
  else if (k !== null && n < k) parts.push(`· fewer than k = ${k}`);
  return parts.join(' ');
}

async function runSearch(state) {
  const seq = ++searchSeq;
  if (!state.collection || state.q.trim() === '') return;
  ui.results.setAttribute('aria-busy', 'true');
  ui.status.textContent = 'Searching…';
  const info = current?.name === state.collection ? current : null;
  const hasDense = Boolean(info?.config?.dense);
  const context = { metadata: info?.config?.metadata ?? {}, defaultK: info?.config?.search?.k ?? 10 };
  const pageSize = state.k ?? context.defaultK;
  try {
    const [response, encoded] = await Promise.all([
      api.search(state.collection, toSearchBody(state, hasDense, context)),
      encodeQuery(state.collection, state.q),
    ]);
    if (seq !== searchSeq) return;
    clearAlert();
    const terms = searchedQueryTerms(encoded.tokens, response.hits, (tokens) => literalTokens(state.q, encoded.analyzed, tokens));
    const expansion = new Set(terms.filter((t) => t.expansion).map((t) => t.token));
    // Highlight the query's words and their stems (`earthquak` also marks `earthquake` in a snippet).
    const highlight = { words: queryWords(state.q), stems: encoded.analyzed };
    renderHits(ui.hits, response.hits, highlight, expansion, (state.page - 1) * pageSize);
    shown = state;
    renderPager(state.page, response.hits.length, pageSize);
    renderQueryTerms(ui.qvTerms, terms);
    ui.qvEmpty.hidden = terms.length > 0;
    ui.qvEmpty.textContent = 'No query term is known to this collection.';
    const warnings = (response.warnings ?? []).filter((w) => typeof w === 'string');
    ui.status.textContent = statusLine(response, state.k) + (warnings.length > 0 ? ` · Note: ${warnings.join('; ')}` : '');
    void selectCollection(state.collection); // stats move as documents arrive
  } catch (err) {
    if (seq !== searchSeq) return;
    // Old hits under a failed search would read as its answer: clear them.
    ui.hits.replaceChildren();
    ui.pager.hidden = true;
    ui.qvTerms.replaceChildren();
    ui.qvEmpty.hidden = false;
    ui.qvEmpty.textContent = "Search to see the query's weighted terms.";
    ui.status.textContent = 'The search failed; see the message above.';
    fail('Search', err, () => runSearch(state));
  } finally {
    if (seq === searchSeq) ui.results.removeAttribute('aria-busy');
  }
}

/** Shows the pager: previous from page 2 on, next while the page came back full (more hits may follow). */
function renderPager(page, hits, pageSize) {
  ui.prevPage.disabled = page <= 1;
  ui.nextPage.disabled = hits < pageSize || page >= MAX_PAGE;
  ui.pageInfo.textContent =
    hits === 0 ? `Page ${page}: no hits` : `Page ${page} · hits ${(page - 1) * pageSize + 1}–${(page - 1) * pageSize + hits}`;
  ui.pager.hidden = page === 1 && hits < pageSize;
}

/** Shows page `page` of the search on display, recorded in the URL. */
function goToPage(page) {
  if (shown === null) return;
  const state = { ...shown, page };
  const search = formatState(state);
  lastSubmitted = search;
  if (search !== location.search) history.pushState(null, '', `${location.pathname}${search}`);
  void runSearch(state);
  ui.results.focus();
}

ui.prevPage.addEventListener('click', () => goToPage(Math.max(1, (shown?.page ?? 1) - 1)));
ui.nextPage.addEventListener('click', () => goToPage((shown?.page ?? 1) + 1));

/** The query string of the last search started from the form. */
let lastSubmitted = null;

/** Reads the form, records it in the URL (a new history entry when it changed) and searches. */
function submit() {
  const state = readForm();
  const search = formatState(state);
  lastSubmitted = search;
  if (search !== location.search) history.pushState(null, '', `${location.pathname}${search}`);
  void runSearch(state);
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  submit();
});

/** Changing an option re-runs the current search (from page 1), so the effect of a knob is visible at once. */
function rerunOnChange() {
  // Enter in a field both submits and may fire change: the second of the two finds nothing new to run.
  if (ui.query.value.trim() === '' || !ui.collection.value || !ui.form.checkValidity()) return;
  if (formatState(readForm()) !== lastSubmitted) submit();
}
const optionInputs = [ui.k, ui.queryCut, ui.heapFactor, ui.targetRecall, ui.exact, ui.prf, ui.prfDocs, ui.prfTerms, ui.prfWeight, ui.alpha];
for (const input of optionInputs) input.addEventListener('change', rerunOnChange);

window.addEventListener('popstate', async () => {
  const state = parseState(location.search);
  const changed = state.collection !== ui.collection.value;
  writeForm(state);
  if (changed) await selectCollection(ui.collection.value);
  if (state.q) void runSearch({ ...readForm(), page: state.page });
});

writeForm({ ...emptyState(), ...parseState(location.search) });
void loadCollections();
