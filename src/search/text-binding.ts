/**
 * How a collection turns text into vectors: the bridge between an encoder (src/encoders) and the collection's
 * store (src/storage), which never import each other. Three kinds:
 * - `lexical`: terms from the lexical analyzer, ids from the store's growable dictionary; documents are stored
 *   as raw term frequencies (the store applies BM25 saturation), queries are count × live IDF (Lucene's BM25
 *   over one SHOULD clause per query token); query text with more distinct terms than the cap is refused.
 * - `none`: vectors only; text is refused.
 * - `model`: ONNX sparse encoders with a fixed vocabulary (document encoder, optional separate query encoder).
 */
import type { SparseVector } from '../core/sparse-vector.js';
import { fromPairs } from '../core/sparse-vector.js';
import { invalidArgument } from '../core/errors.js';
import { TimeSlicer } from '../core/time-slice.js';
import type { SparseEncoder } from '../encoders/encoder.js';
import { analyze, analyzeQuery, bm25Idf } from '../encoders/lexical/lexical-encoder.js';
import type { CollectionStore, Dictionary, TermStats } from '../storage/store-types.js';
import type { Vocabulary } from './vector-input.js';

export interface TextBinding {
  readonly kind: 'lexical' | 'none' | 'model';
  readonly vocab: Vocabulary;
  /** Whether documents may bring their own `vector`. */
  readonly acceptsDocumentVectors: boolean;
  /** Whether documents and queries may be given as text. */
  readonly acceptsText: boolean;
  encodeDocuments(texts: readonly string[]): Promise<SparseVector[]>;
  /**
   * Query text → vector. Lexical: INVALID_ARGUMENT naming `limit.field` when the text has more than
   * `limit.maxTerms` distinct terms (checked during analysis, before any vector is built).
   */
  encodeQuery(text: string, limit?: QueryTermLimit): Promise<SparseVector>;
  /**
   * Feedback importance of terms for one query (lexical: live IDF, since its document weights are saturated
   * tf); absent when document weights already are importance weights.
   */
  feedbackImportance?(): (termId: number) => number;
}

/** Cap on the distinct terms of query text, and the request field it is reported against. */
export interface QueryTermLimit {
  maxTerms: number;
  field: string;
}

/** Vocabulary view over a store's growable dictionary. */
export function dictionaryVocabulary(dict: Dictionary, dim: number): Vocabulary {
  return {
    dim,
    lookup: (t) => dict.get(t),
    add: (t) => {
      const id = dict.getOrAdd(t);
      if (id >= dim) throw invalidArgument('vector', `vocabulary is full (dim ${dim})`);
      return id;
    },
    decode: (id) => dict.term(id) ?? `#${id}`,
  };
}

export function encoderVocabulary(enc: SparseEncoder): Vocabulary {
  return { dim: enc.dim, lookup: (t) => enc.lookup(t), decode: (id) => enc.decode(id) };
}

export function createLexicalBinding(store: CollectionStore): TextBinding {
  const dict = store.dictionary;
  if (!dict) throw new Error('lexical collections need a growable dictionary');
  const vocab = dictionaryVocabulary(dict, store.config.dim);
  return {
    kind: 'lexical',
    vocab,
    acceptsDocumentVectors: false,
    acceptsText: true,
    async encodeDocuments(texts) {
      // Analysis is ~0.1 s per MB of text: a 28.7 MB upsert analyzed in one go blocked /health for seconds.
      const slicer = new TimeSlicer();
      const out: SparseVector[] = [];
      for (const t of texts) {
        if (slicer.due()) await slicer.yield();
        const pairs: [number, number][] = [];
        for (const [term, n] of analyze(t)) pairs.push([dict.getOrAdd(term), n]);
        out.push(fromPairs(pairs, 'sum'));
      }
      return out;
    },
    async encodeQuery(text, limit) {
      const counts = analyzeQuery(text, limit?.maxTerms ?? Infinity);
      if (counts === null) {
        const max = limit?.maxTerms ?? 0;
        throw invalidArgument(limit?.field ?? 'query', `at most ${max} distinct terms (maxQueryTerms); this text has more`);
      }
      return lexicalQueryVector(counts, dict, store.termStats());
    },
    feedbackImportance() {
      const stats = store.termStats();
      return (termId) => {
        const df = stats.df(termId);
        return df > 0 ? bm25Idf(stats.numDocs, df) : 0;
      };
    },
  };
}

/**
 * Query term counts → sorted (id, count × live IDF) vector; unknown terms, terms without live documents and
 * non-positive weights are dropped. Runs once per search, so it avoids the generic `fromPairs` (a Map, a tuple
 * per term and a comparator sort): distinct terms have distinct ids, and a typed-array sort needs no closure.
 */
export function lexicalQueryVector(counts: ReadonlyMap<string, number>, dict: Dictionary, stats: TermStats): SparseVector {
  const ids = new Uint32Array(counts.size);
  const weights = new Float64Array(counts.size);
  let n = 0;
  for (const [term, count] of counts) {
    const id = dict.get(term);
    if (id === undefined) continue;
    const df = stats.df(id);
    if (df <= 0) continue;
    const w = count * bm25Idf(stats.numDocs, df);
    if (!(w > 0)) continue;
    ids[n] = id;
    weights[n++] = w;
  }
  const indices = ids.slice(0, n).sort();
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Binary search of ids[i] in the sorted copy (ids are distinct).
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (indices[mid] < ids[i]) lo = mid + 1;
      else hi = mid;
    }
    values[lo] = weights[i];
  }
  return { indices, values };
}

export function createVectorsOnlyBinding(store: CollectionStore): TextBinding {
  const dict = store.dictionary;
  if (!dict) throw new Error('vectors-only collections need a growable dictionary');
  return {
    kind: 'none',
    vocab: dictionaryVocabulary(dict, store.config.dim),
    acceptsDocumentVectors: true,
    acceptsText: false,
    async encodeDocuments() {
      throw invalidArgument('vector', 'this collection has encoder "none": every document must carry a vector');
    },
    async encodeQuery() {
      throw invalidArgument('query', 'this collection has encoder "none": send a vector instead of query text');
    },
  };
}

export function createModelBinding(docEncoder: SparseEncoder, queryEncoder: SparseEncoder): TextBinding {
  return {
    kind: 'model',
    vocab: encoderVocabulary(docEncoder),
    acceptsDocumentVectors: true,
    acceptsText: true,
    encodeDocuments: (texts) => docEncoder.encode(texts, 'document'),
    async encodeQuery(text) {
      const [v] = await queryEncoder.encode([text], 'query');
      return v;
    },
  };
}
