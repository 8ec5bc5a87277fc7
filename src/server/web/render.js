/**
 * DOM rendering for the page: collection options, the collection panel, the query vector and the hits with
 * their term bars. Everything from the server is inserted as text (textContent, never innerHTML), so a document
 * title or an error message cannot inject markup. Bars are decoration: each one's number is also written out.
 * Imported by app.js.
 */
import { snippetParts } from './terms.js';

/** Terms shown per hit; the explanation lists up to 32, the heaviest first. */
const HIT_TERMS = 8;
/** Query terms shown before the rest is folded away. */
const QUERY_TERMS = 24;

/** Creates an element with a class and optional text. */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A number for people: 3 significant digits for small values, grouped thousands for large ones. */
export function formatNumber(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '—';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  const abs = Math.abs(x);
  if (abs >= 100) return x.toLocaleString('en-US', { maximumFractionDigits: 1 });
  if (abs >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** Bytes as KiB/MiB/GiB with 3 significant digits. */
export function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${n.toPrecision(3)} ${units[i]}`;
}

/**
 * Fills the collection select; keeps `selected` when it exists, else leaves the placeholder chosen.
 * `emptyText` is the placeholder when there is no collection (default: there are none yet).
 */
export function renderCollectionOptions(select, collections, selected, emptyText = 'No collections yet') {
  select.replaceChildren();
  const placeholder = el('option', '', collections.length === 0 ? emptyText : 'Choose…');
  placeholder.value = '';
  select.append(placeholder);
  for (const c of collections) {
    const option = el('option', '', `${c.name} (${formatNumber(c.documents)} docs)`);
    option.value = c.name;
    select.append(option);
  }
  select.value = collections.some((c) => c.name === selected) ? selected : '';
}

/** Fills the collection panel's description list from GET /v1/collections/{name}. */
export function renderCollectionPanel(dl, info) {
  const s = info.stats ?? {};
  const c = info.config ?? {};
  const recall = typeof s.estimatedRecall === 'number' ? `${(s.estimatedRecall * 100).toFixed(1)} %` : 'no target set';
  const rowsOf = s.calibration?.rows ?? [];
  const calibration =
    rowsOf.length === 0
      ? 'not calibrated'
      : rowsOf
          .map((r) => `${r.targetRecall}: queryCut ${r.queryCut}, heapFactor ${r.heapFactor} (${(r.estimatedRecall * 100).toFixed(1)} %)`)
          .join('; ');
  const rows = [
    ['Name', info.name],
    ['Documents', formatNumber(s.documents)],
    ['Segments', formatNumber(s.segments)],
    ['Memtable documents', formatNumber(s.memtableDocuments)],
    ['Deleted', formatNumber(s.deleted)],
    ['Avg. terms per document', formatNumber(s.avgDocTerms)],
    ['Size on disk', formatBytes(s.bytes)],
    ['Estimated recall', recall],
    ['Calibration', calibration],
    ['Encoder', c.encoder ?? '—'],
    ['Query encoder', c.queryEncoder ?? c.encoder ?? '—'],
    ['Dense part', c.dense ? `${c.dense.dim} dims, ${c.dense.metric}${c.dense.encoder ? `, ${c.dense.encoder}` : ''}` : 'none'],
    ['Search defaults', c.search ? `k ${c.search.k}, queryCut ${c.search.queryCut}, heapFactor ${c.search.heapFactor}` : '—'],
  ];
  dl.replaceChildren();
  for (const [term, value] of rows) {
    const row = el('div', 'stat');
    row.append(el('dt', '', term), el('dd', '', String(value)));
    dl.append(row);
  }
}

/**
 * The filter controls for the declared metadata fields (`metadata`: field → `keyword` | `number`): a text field
 * `f.<field>` per keyword field, a min/max pair `f.<field>.gte` / `f.<field>.lte` per number field, named so the
 * form's values read back through parseState.
 */
export function renderFilterFields(container, metadata) {
  container.replaceChildren();
  for (const field of Object.keys(metadata).sort()) {
    const inputs =
      metadata[field] === 'number'
        ? [
            ['gte', `${field} ≥`],
            ['lte', `${field} ≤`],
          ]
        : [[null, field]];
    for (const [bound, label] of inputs) {
      const wrap = el('div', 'field small');
      const input = document.createElement('input');
      input.id = `filter-${field}${bound ? `-${bound}` : ''}`.replace(/[^A-Za-z0-9_-]/g, '_');
      input.name = `f.${field}${bound ? `.${bound}` : ''}`;
      if (bound) {
        input.type = 'number';
        input.step = 'any';
        input.inputMode = 'decimal';
      } else {
        input.type = 'text';
        input.autocomplete = 'off';
      }
      const lab = el('label', '', label);
      lab.htmlFor = input.id;
      wrap.append(lab, input);
      container.append(wrap);
    }
  }
}

/** One labelled bar: token, a bar scaled to `fraction` (0..1), the value, and an optional detail line. */
function termBar({ token, fraction, value, detail, expansion, title }) {
  const li = el('li', expansion ? 'term-bar expansion' : 'term-bar');
  const name = el('span', 'term-name');
  // Expansion terms carry a visible "+" and, for screen readers, the word itself: colour is never the only cue.
  if (expansion) {
    const plus = el('span', 'exp-mark', '+');
    plus.setAttribute('aria-hidden', 'true');
    name.append(plus);
  }
  name.append(el('span', 'term-token', token));
  if (expansion) name.append(el('span', 'visually-hidden', ' (expansion term)'));
  li.append(name);
  const track = el('span', 'bar-track');
  track.setAttribute('aria-hidden', 'true');
  const fill = el('span', 'bar-fill');
  fill.style.width = `${Math.max(2, Math.min(100, fraction * 100)).toFixed(1)}%`;
  track.append(fill);
  li.append(track, el('span', 'term-value', value));
  if (detail) li.append(el('span', 'term-detail', detail));
  if (title) li.title = title;
  return li;
}

/** Renders the searched query vector (from searchedQueryTerms), heaviest first, expansion terms marked. */
export function renderQueryTerms(ul, terms) {
  ul.replaceChildren();
  const max = terms.length > 0 ? terms[0].weight : 1;
  for (const t of terms.slice(0, QUERY_TERMS)) {
    ul.append(termBar({ token: t.token, fraction: t.weight / max, value: formatNumber(t.weight), expansion: t.expansion }));
  }
  if (terms.length > QUERY_TERMS) ul.append(el('li', 'more muted', `… and ${terms.length - QUERY_TERMS} lighter terms`));
}

/** The snippet paragraph with query words highlighted in <mark>. */
function snippet(text, words) {
  const p = el('p', 'snippet');
  for (const part of snippetParts(text, words)) p.append(part.mark ? el('mark', '', part.text) : document.createTextNode(part.text));
  return p;
}

/**
 * Renders the hits. Each hit's term bars show query weight × document weight = product, scaled to the hit's
 * sparse score, so a bar's length is that term's share of the score.
 * @param {HTMLOListElement} ol
 * @param {object[]} hits search hits (with explain)
 * @param {{words: string[], stems?: string[]}} words what the snippet highlights (see snippetParts)
 * @param {Set<string>} expansionTokens tokens of the query vector that are expansion terms
 * @param {number} [firstRank] hits before this page (ranks start after them)
 */
export function renderHits(ol, hits, words, expansionTokens, firstRank = 0) {
  ol.replaceChildren();
  ol.start = firstRank + 1;
  hits.forEach((hit, n) => {
    const i = firstRank + n;
    const li = el('li', 'hit');
    const article = el('article');
    const headingId = `hit-${i + 1}-title`;
    article.setAttribute('aria-labelledby', headingId);
    const head = el('div', 'hit-head');
    const h3 = el('h3', 'hit-title');
    h3.id = headingId;
    h3.append(el('span', 'rank', `${i + 1}.`), document.createTextNode(` ${hit.title || hit.id}`));
    const score = el('span', 'score', `score ${formatNumber(hit.score)}`);
    head.append(h3, score);
    article.append(head);
    const meta = el('p', 'hit-meta');
    meta.append(el('span', '', `id ${hit.id}`));
    const ex = hit.explain;
    if (ex && typeof ex.dense === 'number')
      meta.append(el('span', '', `sparse ${formatNumber(ex.sparse)} · dense ${formatNumber(ex.dense)}`));
    article.append(meta);
    if (hit.text) article.append(snippet(hit.text, words));
    const terms = ex?.terms ?? [];
    if (terms.length > 0) {
      const total = terms.reduce((sum, t) => sum + t.product, 0);
      const denom = typeof ex.sparse === 'number' && ex.sparse > 0 ? ex.sparse : total || 1;
      const h4 = el('h4', 'visually-hidden', `Top contributing terms of ${hit.title || hit.id}`);
      const ul = el('ul', 'term-bars hit-terms');
      ul.setAttribute('aria-label', `Top contributing terms of hit ${i + 1}`);
      for (const t of terms.slice(0, HIT_TERMS)) {
        const share = t.product / denom;
        ul.append(
          termBar({
            token: t.token,
            fraction: share,
            value: formatNumber(t.product),
            detail: `${formatNumber(t.query)} × ${formatNumber(t.doc)}`,
            expansion: expansionTokens.has(t.token),
            title: `query ${t.query} × document ${t.doc} = ${t.product} (${(share * 100).toFixed(0)} % of the sparse score)`,
          }),
        );
      }
      if (terms.length > HIT_TERMS) ul.append(el('li', 'more muted', `… and ${terms.length - HIT_TERMS} more terms`));
      article.append(h4, ul);
    }
    li.append(article);
    ol.append(li);
  });
}
