/**
 * Seeded generator of SPLADE-like sparse collections for tests and the benchmark (DESIGN.md §7), plus a JSONL
 * writer and streaming reader for pre-encoded vectors (`{"id", "vector": {"token": w}}` or
 * `{"id", "vector": {"indices": [...], "values": [...]}}`).
 *
 * Model: a vocabulary of `dim` terms with Zipf-like global popularity (over a seeded permutation of the ids);
 * `nTopics` topics, each a long-tailed distribution over a few hundred terms drawn by popularity (so popular
 * terms are shared by many topics); topic sizes are Zipf-like too. A document mixes one or two topics plus a
 * little background noise, ~`docTerms` distinct terms, weight = topic strength × log-normal noise. A query is drawn
 * from the same topic model (never a copy of a document) with sharper weights, ~`queryTerms` terms. The noise
 * parameters were set so the concentration matches SPLADE: the top 10 query terms hold ~75% of a query's L1
 * mass and the top 50 document terms ~75% of a document's (checked in synthetic.test.ts).
 *
 * Invariants: document `i` depends only on (seed, i), so documents can be generated in any order, streamed or
 * split across workers; the same options give the same collection on every platform.
 * Callers: src/eval/bench-runner.ts, tests, the CLI's ingest-benchmark data writer.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { SparseVector } from '../core/sparse-vector.js';
import { fromIndicesValues } from '../core/sparse-vector.js';
import { invalidArgument } from '../core/errors.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { Rng } from '../core/rng.js';

/** Options of the topic model. Only `seed` is required. */
export interface SyntheticOptions {
  seed: number;
  /** Vocabulary size (default 30,522, BERT's). */
  dim?: number;
  /** Number of topics (default 1,000). */
  nTopics?: number;
  /** Terms per topic (default 300). */
  topicTerms?: number;
  /** Mean distinct terms per document (default 120). */
  docTerms?: number;
  /** Mean distinct terms per query (default 43). */
  queryTerms?: number;
}

/** A built topic model: flat typed arrays, cheap to share. */
export interface SyntheticModel {
  readonly seed: number;
  readonly dim: number;
  readonly nTopics: number;
  readonly topicTerms: number;
  readonly docTerms: number;
  readonly queryTerms: number;
  /** Cumulative global popularity over ids (length dim), for background terms. */
  readonly popCdf: Float64Array;
  /** Cumulative topic sizes (length nTopics). */
  readonly topicCdf: Float64Array;
  /** Topic t's terms are `termIds[t*topicTerms ..]`, strengths and cumulative draw probabilities alongside. */
  readonly termIds: Uint32Array;
  readonly strengths: Float32Array;
  readonly termCdf: Float64Array;
}

const DOC_SALT = 0x0d0c;
const QUERY_SALT = 0x9e37;
const BACKGROUND_FRACTION = 0.12;
const DOC_SIGMA = 0.5;
const QUERY_SIGMA = 1.0;
const QUERY_SHARPNESS = 1.9;
const TOPIC_SIGMA = 0.6;

/** Builds the topic model for `opts` (deterministic in `opts.seed`). */
export function createSyntheticModel(opts: SyntheticOptions): SyntheticModel {
  const dim = opts.dim ?? 30522;
  const nTopics = opts.nTopics ?? 1000;
  const topicTerms = Math.min(opts.topicTerms ?? 300, dim);
  const rng = new Rng(opts.seed);
  // Global popularity: Zipf over a random permutation of the ids.
  const perm = new Uint32Array(dim);
  for (let i = 0; i < dim; i++) perm[i] = i;
  for (let i = dim - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const pop = new Float64Array(dim);
  for (let r = 0; r < dim; r++) pop[perm[r]] = 1 / Math.pow(r + 20, 1.0);
  const popCdf = cumulative(pop);
  const topicSize = new Float64Array(nTopics);
  for (let t = 0; t < nTopics; t++) topicSize[t] = 1 / Math.pow(t + 10, 0.6);
  const topicCdf = cumulative(topicSize);
  const termIds = new Uint32Array(nTopics * topicTerms);
  const strengths = new Float32Array(nTopics * topicTerms);
  const termCdf = new Float64Array(nTopics * topicTerms);
  const stamp = new Int32Array(dim).fill(-1);
  for (let t = 0; t < nTopics; t++) {
    const base = t * topicTerms;
    let n = 0;
    // Half of a topic's terms come from the popular head, half uniformly (topic-specific jargon).
    while (n < topicTerms) {
      const id = n % 2 === 0 ? sampleCdf(popCdf, rng.next()) : rng.int(dim);
      if (stamp[id] === t) continue;
      stamp[id] = t;
      termIds[base + n] = id;
      strengths[base + n] = Math.exp(TOPIC_SIGMA * rng.normal());
      n++;
    }
    let acc = 0;
    for (let j = 0; j < topicTerms; j++) {
      acc += strengths[base + j];
      termCdf[base + j] = acc;
    }
    for (let j = 0; j < topicTerms; j++) termCdf[base + j] /= acc;
  }
  return {
    seed: opts.seed,
    dim,
    nTopics,
    topicTerms,
    docTerms: opts.docTerms ?? 120,
    queryTerms: opts.queryTerms ?? 43,
    popCdf,
    topicCdf,
    termIds,
    strengths,
    termCdf,
  };
}

/** Reusable scratch for generation (one per thread). */
export class SyntheticScratch {
  readonly stamp: Int32Array;
  readonly weight: Float32Array;
  readonly ids: Uint32Array;
  private epoch = 0;
  constructor(dim: number, maxTerms = 4096) {
    this.stamp = new Int32Array(dim);
    this.weight = new Float32Array(dim);
    this.ids = new Uint32Array(maxTerms);
  }
  nextEpoch(): number {
    return ++this.epoch;
  }
}

/** Document `ord` of the collection (depends only on the model and `ord`). */
export function generateDoc(model: SyntheticModel, ord: number, scratch?: SyntheticScratch): SparseVector {
  return generate(model, Rng.derive(model.seed ^ DOC_SALT, ord), false, scratch ?? new SyntheticScratch(model.dim));
}

/** Query `i` of the query set: same topic model, sharper weights, not a copy of any document. */
export function generateQuery(model: SyntheticModel, i: number, scratch?: SyntheticScratch): SparseVector {
  return generate(model, Rng.derive(model.seed ^ QUERY_SALT, i), true, scratch ?? new SyntheticScratch(model.dim));
}

/** `n` queries (0..n-1). */
export function generateQueries(model: SyntheticModel, n: number): SparseVector[] {
  const s = new SyntheticScratch(model.dim);
  const out: SparseVector[] = [];
  for (let i = 0; i < n; i++) out.push(generateQuery(model, i, s));
  return out;
}

function generate(model: SyntheticModel, rng: Rng, isQuery: boolean, s: SyntheticScratch): SparseVector {
  const mean = isQuery ? model.queryTerms : model.docTerms;
  const target = Math.max(3, Math.min(s.ids.length, Math.round(mean * Math.exp(0.3 * rng.normal() - 0.045))));
  const t1 = sampleCdf(model.topicCdf, rng.next());
  const t2 = rng.next() < (isQuery ? 0.3 : 0.5) ? sampleCdf(model.topicCdf, rng.next()) : t1;
  const mix2 = t2 === t1 ? 0 : isQuery ? 0.25 : 0.3;
  const epoch = s.nextEpoch();
  const sigma = isQuery ? QUERY_SIGMA : DOC_SIGMA;
  let n = 0;
  for (let attempts = 0; n < target && attempts < target * 8; attempts++) {
    let id: number;
    let strength: number;
    const u = rng.next();
    if (!isQuery && u < BACKGROUND_FRACTION) {
      id = sampleCdf(model.popCdf, rng.next());
      strength = 0.25;
    } else {
      const t = rng.next() < mix2 ? t2 : t1;
      const base = t * model.topicTerms;
      const j = sampleRange(model.termCdf, base, base + model.topicTerms, rng.next());
      id = model.termIds[j];
      strength = isQuery ? Math.pow(model.strengths[j], QUERY_SHARPNESS) : model.strengths[j];
    }
    const w = strength * Math.exp(sigma * rng.normal());
    if (s.stamp[id] === epoch) {
      if (w > s.weight[id]) s.weight[id] = w;
      continue;
    }
    s.stamp[id] = epoch;
    s.weight[id] = w;
    s.ids[n++] = id;
  }
  const ids = s.ids.slice(0, n).sort();
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.max(1e-4, s.weight[ids[i]]);
  return { indices: ids, values };
}

/**
 * Generates documents `0..numDocs-1` straight into a CSR forward index (no per-document objects kept).
 * `onProgress(done)` is called every 65,536 docs.
 */
export function buildSyntheticForwardIndex(model: SyntheticModel, numDocs: number, onProgress?: (done: number) => void): ForwardIndex {
  const scratch = new SyntheticScratch(model.dim);
  let cap = Math.max(1024, Math.ceil(numDocs * model.docTerms * 1.15));
  let termIds: Uint16Array | Uint32Array = model.dim <= 65536 ? new Uint16Array(cap) : new Uint32Array(cap);
  let values = new Float32Array(cap);
  const offsets = new Uint32Array(numDocs + 1);
  let p = 0;
  for (let d = 0; d < numDocs; d++) {
    const v = generateDoc(model, d, scratch);
    if (p + v.indices.length > cap) {
      cap = Math.ceil((p + v.indices.length) * 1.25);
      const t2: Uint16Array | Uint32Array = model.dim <= 65536 ? new Uint16Array(cap) : new Uint32Array(cap);
      t2.set(termIds.subarray(0, p));
      const v2 = new Float32Array(cap);
      v2.set(values.subarray(0, p));
      termIds = t2;
      values = v2;
    }
    termIds.set(v.indices, p);
    values.set(v.values, p);
    p += v.indices.length;
    offsets[d + 1] = p;
    if (onProgress && (d & 0xffff) === 0xffff) onProgress(d + 1);
  }
  return { numDocs, dim: model.dim, offsets, termIds: termIds.slice(0, p), values: values.slice(0, p) };
}

/** A document or query with its external id, as read from / written to JSONL. */
export interface IdVector {
  id: string;
  vector: SparseVector;
}

/**
 * Writes vectors as JSONL, one `{"id", "vector"}` object per line, with backpressure (streams 1M docs in
 * bounded memory). `format: 'tokens'` writes `{"token": w}` maps using `decode(termId)`; `'indices'` writes
 * `{"indices", "values"}`. Resolves with the number of lines written.
 */
export async function writeVectorsJsonl(
  path: string,
  items: Iterable<IdVector> | AsyncIterable<IdVector>,
  opts: { format: 'indices' | 'tokens'; decode?: (termId: number) => string },
): Promise<number> {
  if (opts.format === 'tokens' && !opts.decode) throw invalidArgument('decode', 'required for the tokens format');
  const out = createWriteStream(path);
  let n = 0;
  let buf = '';
  for await (const item of items) {
    const v = item.vector;
    let vec: unknown;
    if (opts.format === 'indices') {
      vec = { indices: Array.from(v.indices), values: Array.from(v.values) };
    } else {
      const m: Record<string, number> = {};
      for (let i = 0; i < v.indices.length; i++) m[(opts.decode as (t: number) => string)(v.indices[i])] = v.values[i];
      vec = m;
    }
    buf += JSON.stringify({ id: item.id, vector: vec }) + '\n';
    n++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  if (buf.length > 0) out.write(buf);
  out.end();
  await once(out, 'finish');
  return n;
}

/** Synthetic documents `0..numDocs-1` as `{id: "d<ord>", vector}` (lazy; for writeVectorsJsonl). */
export function* syntheticDocs(model: SyntheticModel, numDocs: number): Generator<IdVector> {
  const scratch = new SyntheticScratch(model.dim);
  for (let d = 0; d < numDocs; d++) yield { id: `d${d}`, vector: generateDoc(model, d, scratch) };
}

/**
 * Streams a JSONL file of pre-encoded vectors line by line (never loads the file whole). `lookup` resolves token
 * maps (a token it does not know is skipped and counted in `unknownTokens`); `dim` bounds indices. Blank lines are
 * skipped; a malformed line throws INVALID_ARGUMENT naming its line number.
 */
export async function* readVectorsJsonl(
  path: string,
  opts: { dim: number; lookup?: (token: string) => number | undefined },
): AsyncGenerator<IdVector & { line: number; unknownTokens: number }> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    let obj: { id?: unknown; vector?: unknown };
    try {
      obj = JSON.parse(text) as { id?: unknown; vector?: unknown };
    } catch (e) {
      throw invalidArgument(`${path}:${line}`, `not valid JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || (typeof obj.id !== 'string' && typeof obj.id !== 'number')) {
      throw invalidArgument(`${path}:${line}`, 'expected an object with a string or number "id"');
    }
    const raw = obj.vector as Record<string, unknown> | null | undefined;
    if (raw === null || typeof raw !== 'object') throw invalidArgument(`${path}:${line}`, 'missing "vector" object');
    let unknownTokens = 0;
    let vector: SparseVector;
    if (Array.isArray(raw.indices) && Array.isArray(raw.values)) {
      vector = fromIndicesValues(raw.indices as number[], raw.values as number[], opts.dim, `${path}:${line}.vector`);
    } else {
      if (!opts.lookup) throw invalidArgument(`${path}:${line}`, 'token-map vector but no vocabulary lookup given');
      const ids: number[] = [];
      const ws: number[] = [];
      for (const tok of Object.keys(raw)) {
        const id = opts.lookup(tok);
        if (id === undefined) {
          unknownTokens++;
          continue;
        }
        ids.push(id);
        ws.push(raw[tok] as number);
      }
      vector = fromIndicesValues(ids, ws, opts.dim, `${path}:${line}.vector`);
    }
    yield { id: String(obj.id), vector, line, unknownTokens };
  }
}

function cumulative(w: Float64Array): Float64Array {
  const c = new Float64Array(w.length);
  let acc = 0;
  for (let i = 0; i < w.length; i++) {
    acc += w[i];
    c[i] = acc;
  }
  for (let i = 0; i < w.length; i++) c[i] /= acc;
  return c;
}

/** Smallest i with cdf[i] > u. */
function sampleCdf(cdf: Float64Array, u: number): number {
  return sampleRange(cdf, 0, cdf.length, u);
}

function sampleRange(cdf: Float64Array, lo: number, hi: number, u: number): number {
  const last = hi - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo > last ? last : lo;
}
