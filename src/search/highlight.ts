/**
 * Search highlighting (API.md "Highlighting"): fragments of a stored field around the words that match the
 * query, each matched word wrapped in the pre/post tags and everything else HTML-escaped. Which words match is
 * the text binding's business (`TextBinding.wordMatcher`: the lexical analyzer's stems, the model vocabulary's
 * word pieces that carry weight in the query vector, or a vectors-only collection's tokens); this file only cuts
 * words and fragments.
 *
 * Words are maximal runs of letters, digits and marks, with an inner apostrophe (`don't`, `O’Neil`). A fragment
 * is a window of about `fragmentSize` characters centred on a matched word and widened or cut to word
 * boundaries; fragments do not overlap. The `numberOfFragments` with the most distinct matched words are
 * returned, best first (ties: earlier first); a field without a matched word gets none. Callers: collection.ts.
 */
import type { HighlightParams } from '../config/request-schemas.js';

const WORD_RE = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*/gu;

/** Lower-cases and strips accents, as the lexical analyzer and uncased WordPiece vocabularies see words. */
export function foldWord(w: string): string {
  return w
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

interface Span {
  start: number;
  end: number;
  word: string;
}

/** Fragments of `text` with the words `matches` accepts marked (see the file comment); [] when none matches. */
export function highlightFragments(text: string, matches: (word: string) => boolean, p: HighlightParams): string[] {
  const hits: Span[] = [];
  const memo = new Map<string, boolean>();
  for (const m of text.matchAll(WORD_RE)) {
    const word = m[0];
    let ok = memo.get(word);
    if (ok === undefined) {
      ok = matches(word);
      memo.set(word, ok);
    }
    if (ok) hits.push({ start: m.index, end: m.index + word.length, word: foldWord(word) });
  }
  if (hits.length === 0) return [];
  const frags: { start: number; end: number; spans: Span[]; distinct: number }[] = [];
  let i = 0;
  while (i < hits.length) {
    const h = hits[i];
    const room = Math.max(0, p.fragmentSize - (h.end - h.start));
    let start = Math.max(frags.length > 0 ? frags[frags.length - 1].end : 0, h.start - Math.floor(room / 2));
    let end = Math.min(text.length, start + p.fragmentSize);
    if (end - start < p.fragmentSize) start = Math.max(frags.length > 0 ? frags[frags.length - 1].end : 0, end - p.fragmentSize);
    start = wordStart(text, start, h.start);
    end = wordEnd(text, end, h.end);
    const spans: Span[] = [];
    while (i < hits.length && hits[i].end <= end) spans.push(hits[i++]);
    frags.push({ start, end, spans, distinct: new Set(spans.map((s) => s.word)).size });
  }
  const best = frags
    .map((f, at) => ({ f, at }))
    .sort((a, b) => b.f.distinct - a.f.distinct || a.at - b.at)
    .slice(0, p.numberOfFragments);
  return best.map(({ f }) => render(text, f.start, f.end, f.spans, p));
}

/** Moves `at` forward to the start of a word (not past `limit`, the matched word's start). */
function wordStart(text: string, at: number, limit: number): number {
  if (at === 0) return 0;
  let i = at;
  while (i < limit && !/\s/u.test(text[i - 1])) i++;
  return i;
}

/** Moves `at` back to the end of a word (not before `limit`, the matched word's end). */
function wordEnd(text: string, at: number, limit: number): number {
  if (at >= text.length) return text.length;
  let i = at;
  while (i > limit && !/\s/u.test(text[i])) i--;
  return i;
}

function render(text: string, start: number, end: number, spans: readonly Span[], p: HighlightParams): string {
  let out = '';
  let at = start;
  for (const s of spans) {
    out += escapeHtml(text.slice(at, s.start)) + p.preTag + escapeHtml(text.slice(s.start, s.end)) + p.postTag;
    at = s.end;
  }
  return (out + escapeHtml(text.slice(at, end))).trim();
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
