/**
 * The shape of one search page and the small pure pieces of building it (API.md "Search", "Paging",
 * "Highlighting"): the response with its timings, `nextCursor` and `total`; the stored fields a hit shows and
 * those it must read (highlighted fields are read even when not shown); the fingerprint a cursor's later pages
 * must match; the highlight fragments of a hit. Callers: collection.ts.
 */
import { createHash } from 'node:crypto';
import type { HighlightParams, SearchRequest } from '../config/request-schemas.js';
import type { StoredFields, StoredFieldSet } from '../storage/store-types.js';
import type { HitExplanation } from './explain.js';
import { highlightFragments } from './highlight.js';

export interface SearchHit {
  id: string;
  score: number;
  title?: string;
  text?: string;
  metadata?: Record<string, unknown>;
  explain?: HitExplanation;
  /** Fragments per highlighted field (only fields with a matched word), with `highlight`. */
  highlight?: Record<string, string[]>;
}

export interface SearchResponse {
  hits: SearchHit[];
  took: { totalMs: number; encodeMs: number; searchMs: number };
  stats: { docsScored: number; blocksScored: number; blocksSkipped: number; exact: boolean; tuned?: SearchTuning };
  warnings: string[];
  /** `searchAfter` for the next page; null when this page is not full (the last) or the search is hybrid/dense. */
  nextCursor: string | null;
  /** With `trackTotal`: matching documents, exactly ("eq") or a lower bound ("gte"). */
  total?: { value: number; relation: 'eq' | 'gte' };
}

/** What a search with a recall target used (response `stats.tuned`). */
export interface SearchTuning {
  targetRecall: number;
  queryCut: number;
  heapFactor: number;
  /** The calibrated row's measured recall; null when no segment carries a calibration (defaults were used). */
  estimatedRecall: number | null;
  /** True when queryCut and heapFactor came from the calibration (false: given in params, or no table). */
  calibrated: boolean;
}

/** The work counters of a search. */
export interface SearchWork {
  docsScored: number;
  blocksScored: number;
  blocksSkipped: number;
  exact: boolean;
}

/** What a page adds to its hits: `times` are start, encoded, searched (performance.now() ms). */
export interface PageParts {
  nextCursor: string | null;
  warnings: string[];
  times: [number, number, number];
  /** Whether docsScored counts every match (an exact, non-hybrid search). */
  totalExact: boolean;
  /** With a recall target: the settings used (`stats.tuned`). */
  tuned?: SearchTuning;
}

/** The response of a page. */
export function pageResponse(hits: SearchHit[], result: SearchWork, req: SearchRequest, page: PageParts): SearchResponse {
  const [t0, t1, t2] = page.times;
  const out: SearchResponse = {
    hits,
    took: { totalMs: round3(performance.now() - t0), encodeMs: round3(t1 - t0), searchMs: round3(t2 - t1) },
    stats: {
      docsScored: result.docsScored,
      blocksScored: result.blocksScored,
      blocksSkipped: result.blocksSkipped,
      exact: result.exact,
    },
    warnings: page.warnings,
    nextCursor: page.nextCursor,
  };
  if (page.tuned !== undefined) out.stats.tuned = page.tuned;
  // Exact searches score every document sharing a term with the query (that passes the filter): docsScored is
  // the number of matches. An approximate one skips blocks, so what it scored is a lower bound.
  if (req.trackTotal === true) out.total = { value: result.docsScored, relation: page.totalExact ? 'eq' : 'gte' };
  return out;
}

/** Highlight fragments of the fields `params` names, from the hit's stored `fields` (fields without a match left out). */
export function highlightHit(fields: StoredFields, params: HighlightParams, matches: (word: string) => boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of params.fields) {
    const text = fields[f];
    const frags = text === undefined ? [] : highlightFragments(text, matches, params);
    if (frags.length > 0) out[f] = frags;
  }
  return out;
}

/** The fields a hit needs read: those shown plus those highlighted. */
export function fetchedFields(shown: StoredFieldSet, highlighted: readonly ('title' | 'text')[] | undefined): StoredFieldSet {
  if (highlighted === undefined) return shown;
  return {
    title: shown.title || highlighted.includes('title'),
    text: shown.text || highlighted.includes('text'),
    metadata: shown.metadata,
  };
}

/** What a cursor's later pages must repeat from the first: everything that decides the ranking. */
export function searchFingerprint(req: SearchRequest): string {
  const parts = [req.query, req.vector, req.dense, req.filter, req.params, req.prf, req.hybrid];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

/** The stored fields a search shows (`include`, default titles only). */
export function storedFieldSet(include: readonly string[] | undefined): StoredFieldSet {
  if (include === undefined) return TITLE_ONLY;
  return { title: include.includes('title'), text: include.includes('text'), metadata: include.includes('metadata') };
}

const TITLE_ONLY: StoredFieldSet = Object.freeze({ title: true, text: false, metadata: false });

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
