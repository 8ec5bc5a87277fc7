/**
 * LSA: a model-free dense encoder fitted on the collection itself, so hybrid search works without a model file.
 * Fit: the lexical analyzer's terms (stemmed, stopwords dropped) → TF-IDF matrix (docs × terms, weight
 * `(1 + ln tf)·idf` with `idf = ln((1+N)/(1+df)) + 1`, rows L2-normalised; terms with df < minDf dropped) →
 * randomized truncated SVD (seeded) → keep P = V·Σ⁻¹. Projection (documents and queries alike, "fold-in"):
 * `x·V·Σ⁻¹` for the text's TF-IDF row x, L2-normalised, zero-padded to `dim` when the corpus supports fewer
 * components. Texts without a known term project to the zero vector.
 *
 * Invariants: a model is immutable; the same texts, options and seed give the same model. No imports from
^ * src/storage (encoders and the engine never meet; the search layer feeds texts in and stores what comes out).
 * Callers: src/search/lsa-binding.ts (fit on open/optimize, persist, project), tests.
 */
import { LexicalAnalyzer } from '../lexical/lexical-encoder.js';
import type { DenseEncoder, EncodeKind } from '../encoder.js';
import { randomizedSvd, type CsrMatrix } from './randomized-svd.js';

/** Options of `fitLsa`. */
export interface LsaFitOptions {
  /** Output length (the collection's dense.dim); components = min(dim, what the corpus supports). */
  dim: number;
  powerIterations?: number;
  oversample?: number;
  seed?: number;
  /** Terms in fewer documents are dropped (default 2; 1 keeps every term). */
  minDf?: number;
  /** Fit on at most this many texts (a seeded sample); projection still covers every document. */
  maxFitDocs?: number;
  /** Bound on rank × fitted docs × kept terms (default LSA_MAX_FIT_COST); see `fitLsa`. */
  maxFitCost?: number;
}

/**
 * Largest LSA rank (the collection's `dense.dim` with `encoder: "lsa"`). The fit's dense matrices are
 * (docs + terms) × (rank + 10) float64 and its time grows with their product by the rank: 3,000 docs at rank
 * 8192 burned a core for minutes (issue 12.4). Collections are refused above it at creation.
 */
export const LSA_MAX_RANK = 512;

/**
 * Default bound on rank × fitted docs × kept terms. Past it the fit samples fewer docs (so that at least
 * LSA_MIN_TERMS terms fit) and keeps only the most frequent terms: at rank 256 and 100,000 docs, 15,625 terms.
 */
export const LSA_MAX_FIT_COST = 4e11;
const LSA_MIN_TERMS = 1024;

/** A fitted LSA model. */
export interface LsaModel {
  readonly dim: number;
  /** Components actually fitted (≤ dim). */
  readonly rank: number;
  /** Number of texts the model was fitted on. */
  readonly numDocs: number;
  /** Term of each column. */
  readonly terms: readonly string[];
  readonly termIndex: ReadonlyMap<string, number>;
  readonly idf: Float32Array;
  /** P = V·Σ⁻¹, terms × rank, row-major. */
  readonly projection: Float32Array;
  readonly sigma: Float64Array;
}

/** Fits a model on `texts` (see the file header). Throws nothing on an empty corpus: the model maps all to 0. */
export function fitLsa(texts: readonly string[], opts: LsaFitOptions): LsaModel {
  const analyzer = new LexicalAnalyzer();
  const cost = opts.maxFitCost ?? LSA_MAX_FIT_COST;
  const rankWanted = Math.max(1, opts.dim);
  const maxDocs = Math.max(1, Math.min(opts.maxFitDocs ?? 100_000, Math.floor(cost / (rankWanted * LSA_MIN_TERMS))));
  const sample = sampleTexts(texts, maxDocs, opts.seed ?? 42);
  const docs = sample.map((t) => analyzer.analyze(t));
  const df = new Map<string, number>();
  for (const d of docs) for (const term of d.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const minDf = opts.minDf ?? 2;
  let kept = [...df.keys()].filter((t) => (df.get(t) as number) >= minDf);
  const maxTerms = Math.max(1, Math.floor(cost / (rankWanted * Math.max(1, docs.length))));
  if (kept.length > maxTerms) {
    // The most frequent terms carry the most of the TF-IDF matrix's energy; ties by term for determinism.
    kept = kept.sort((x, y) => (df.get(y) as number) - (df.get(x) as number) || (x < y ? -1 : x > y ? 1 : 0)).slice(0, maxTerms);
  }
  const terms = kept.sort();
  const termIndex = new Map<string, number>();
  terms.forEach((t, i) => termIndex.set(t, i));
  const n = docs.length;
  const idf = new Float32Array(terms.length);
  terms.forEach((t, i) => (idf[i] = Math.log((1 + n) / (1 + (df.get(t) as number))) + 1));
  const rows = docs.map((d) => tfidfRow(d, termIndex, idf));
  let nnz = 0;
  for (const r of rows) nnz += r.cols.length;
  const a: CsrMatrix = {
    rows: n,
    cols: terms.length,
    offsets: new Uint32Array(n + 1),
    colIds: new Uint32Array(nnz),
    values: new Float32Array(nnz),
  };
  let p = 0;
  rows.forEach((r, i) => {
    a.colIds.set(r.cols, p);
    a.values.set(r.vals, p);
    p += r.cols.length;
    (a.offsets as Uint32Array)[i + 1] = p;
  });
  if (n === 0 || terms.length === 0 || nnz === 0) {
    return { dim: opts.dim, rank: 0, numDocs: n, terms, termIndex, idf, projection: new Float32Array(0), sigma: new Float64Array(0) };
  }
  const svd = randomizedSvd(a, {
    rank: opts.dim,
    oversample: opts.oversample ?? 10,
    powerIterations: opts.powerIterations ?? 3,
    seed: opts.seed ?? 42,
  });
  const projection = new Float32Array(terms.length * svd.rank);
  for (let c = 0; c < terms.length; c++) {
    for (let k = 0; k < svd.rank; k++) projection[c * svd.rank + k] = svd.v[c * svd.rank + k] / svd.sigma[k];
  }
  return { dim: opts.dim, rank: svd.rank, numDocs: n, terms, termIndex, idf, projection, sigma: svd.sigma };
}

/** A seeded sample of at most `max` texts (all of them when there are few enough), in input order. */
function sampleTexts(texts: readonly string[], max: number, seed: number): readonly string[] {
  if (texts.length <= max) return texts;
  // Deterministic hash-based selection keeps input order and needs no shuffle buffer.
  const scored = texts.map((_, i) => [hash32(i ^ seed), i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const keep = scored
    .slice(0, max)
    .map((s) => s[1])
    .sort((x, y) => x - y);
  return keep.map((i) => texts[i]);
}

function hash32(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The L2-normalised TF-IDF row of an analyzed text (columns ascending). */
function tfidfRow(
  tf: Map<string, number>,
  termIndex: ReadonlyMap<string, number>,
  idf: Float32Array,
): { cols: Uint32Array; vals: Float32Array } {
  const pairs: [number, number][] = [];
  for (const [term, n] of tf) {
    const c = termIndex.get(term);
    if (c !== undefined) pairs.push([c, (1 + Math.log(n)) * idf[c]]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  let norm = 0;
  for (const [, w] of pairs) norm += w * w;
  norm = Math.sqrt(norm);
  const cols = new Uint32Array(pairs.length);
  const vals = new Float32Array(pairs.length);
  pairs.forEach(([c, w], i) => {
    cols[i] = c;
    vals[i] = w / norm;
  });
  return { cols, vals };
}

/** Projects texts with a fitted model (one analyzer for the batch). Each vector has length `model.dim`. */
export function projectLsa(model: LsaModel, texts: readonly string[]): Float32Array[] {
  const analyzer = new LexicalAnalyzer();
  const r = model.rank;
  return texts.map((text) => {
    const out = new Float32Array(model.dim);
    if (r === 0) return out;
    const row = tfidfRow(analyzer.analyze(text), model.termIndex, model.idf);
    const acc = new Float64Array(r);
    for (let i = 0; i < row.cols.length; i++) {
      const w = row.vals[i];
      const o = row.cols[i] * r;
      for (let k = 0; k < r; k++) acc[k] += w * model.projection[o + k];
    }
    let norm = 0;
    for (let k = 0; k < r; k++) norm += acc[k] * acc[k];
    if (norm === 0) return out;
    norm = Math.sqrt(norm);
    for (let k = 0; k < r; k++) out[k] = acc[k] / norm;
    return out;
  });
}

/** Arrays of a model for persistence (the search layer writes them as named sections). */
export function lsaModelToArrays(model: LsaModel): Record<string, Uint8Array | Uint32Array | Float32Array | Float64Array> {
  return {
    'lsa.meta': Uint32Array.from([1, model.dim, model.rank, model.numDocs, model.terms.length, 0, 0, 0]),
    'lsa.terms': new Uint8Array(Buffer.from(JSON.stringify(model.terms), 'utf8')),
    'lsa.idf': model.idf,
    'lsa.projection': model.projection,
    'lsa.sigma': model.sigma,
  };
}

/** Rebuilds a model from `lsaModelToArrays` output; throws a plain Error describing the inconsistency. */
export function lsaModelFromArrays(get: (name: string) => ArrayBufferView): LsaModel {
  const meta = get('lsa.meta') as Uint32Array;
  if (meta.length < 5 || meta[0] !== 1) throw new Error('lsa model: unsupported version');
  const [, dim, rank, numDocs, nTerms] = meta;
  const tb = get('lsa.terms') as Uint8Array;
  const terms = JSON.parse(Buffer.from(tb.buffer, tb.byteOffset, tb.byteLength).toString('utf8')) as string[];
  const idf = get('lsa.idf') as Float32Array;
  const projection = get('lsa.projection') as Float32Array;
  const sigma = get('lsa.sigma') as Float64Array;
  if (
    !Array.isArray(terms) ||
    terms.length !== nTerms ||
    idf.length !== nTerms ||
    projection.length !== nTerms * rank ||
    sigma.length !== rank ||
    rank > dim
  ) {
    throw new Error('lsa model: inconsistent array lengths');
  }
  const termIndex = new Map<string, number>();
  terms.forEach((t, i) => termIndex.set(t, i));
  return { dim, rank, numDocs, terms, termIndex, idf, projection, sigma };
}

/** A DenseEncoder over a fixed model (queries and documents are projected the same way). */
export class LsaEncoder implements DenseEncoder {
  readonly kind = 'dense';
  readonly name = 'lsa';
  constructor(readonly model: LsaModel) {}
  get dim(): number {
    return this.model.dim;
  }
  async encode(texts: readonly string[], _as: EncodeKind): Promise<Float32Array[]> {
    return projectLsa(this.model, texts);
  }
  async close(): Promise<void> {}
}
