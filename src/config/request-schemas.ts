/**
 * zod schemas for request bodies of the REST API (API.md), shared by the server (validation + OpenAPI) and the
 * search service (per-document validation inside a batch, so valid documents are indexed while bad ones are
 * reported). Limits come from `Limits` so they stay configurable.
 */
import { z } from 'zod';
import { CollectionConfigSchema } from './index-config.js';
import { ILL_FORMED_MESSAGE, isWellFormed } from '../core/well-formed.js';

export interface Limits {
  maxDocsPerRequest: number;
  maxK: number;
  maxQueryTerms: number;
  maxDocTerms: number;
  maxTextBytes: number;
  maxIdBytes: number;
  maxBatchSearches: number;
  /** Metadata keys per document (SPLADEX_MAX_METADATA_KEYS). */
  maxMetadataKeys: number;
  /** Metadata size per document, UTF-8 bytes of keys and strings, 8 per number (SPLADEX_MAX_METADATA_BYTES). */
  maxMetadataBytes: number;
  /** Sum of `k` over the searches of one request (a batch's response holds at most this many hits). */
  maxResponseHits: number;
  /** Sum of `k` × query terms over the searches with `explain` (explain lists one entry per matched term). */
  maxResponseExplainTerms: number;
  /** Sum of `k` over the searches whose `include` asks for stored text or metadata (each hit up to maxTextBytes). */
  maxResponseIncludedHits: number;
  /** Collections one data dir may hold (each holds open files: WAL, segments, lock). */
  maxCollections: number;
  /** Largest `offset + k` of a search (SPLADEX_MAX_RESULT_WINDOW); deeper pages take `searchAfter`. */
  maxResultWindow: number;
  /** Open cursors (search and scroll points in time) per collection (SPLADEX_MAX_CURSORS); the least recently used goes first. */
  maxCursors: number;
  /** A cursor's point in time expires this long after its last use, ms (SPLADEX_CURSOR_TTL_MS). */
  cursorTtlMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxDocsPerRequest: 10_000,
  maxK: 1000,
  maxQueryTerms: 1024,
  maxDocTerms: 100_000,
  maxTextBytes: 1024 * 1024,
  maxIdBytes: 512,
  maxBatchSearches: 1000,
  maxMetadataKeys: 256,
  maxMetadataBytes: 64 * 1024,
  maxResponseHits: 100_000,
  maxResponseExplainTerms: 200_000,
  maxResponseIncludedHits: 10_000,
  maxCollections: 100,
  maxResultWindow: 10_000,
  maxCursors: 1000,
  cursorTtlMs: 300_000,
};

/** Documents per scroll page (`GET …/documents?limit=`), and ids per bulk delete. */
export const MAX_SCROLL_LIMIT = 1000;
export const DEFAULT_SCROLL_LIMIT = 100;
/** Characters of a cursor token (they are ~100; anything longer is not one of ours). */
export const MAX_CURSOR_CHARS = 2048;

/** A string that is well-formed UTF-16 (see core/well-formed.ts for why lone surrogates are refused). */
const wellFormedString = () => z.string().refine(isWellFormed, ILL_FORMED_MESSAGE);

/** `k` when a search does not say (API.md). */
const DEFAULT_K = 10;

/**
 * Upper bound on the explain entries of one hit: the distinct query terms. A text query is counted by its
 * whitespace-separated words (stemming and stopwords only lower the real count), capped at `maxQueryTerms` like
 * vectors; PRF adds up to `prf.terms` expansion terms. A dense-only search explains no terms.
 */
function explainTermsEstimate(r: BudgetedSearch, limits: Limits): number {
  let n = 0;
  if (r.query !== undefined) {
    const words = new Set(r.query.toLowerCase().split(/\s+/u));
    words.delete('');
    n = words.size;
  } else if (typeof r.vector === 'object' && r.vector !== null) {
    const indices = (r.vector as { indices?: unknown }).indices;
    n = Array.isArray(indices) ? indices.length : Object.keys(r.vector).length;
  }
  if (r.prf !== undefined) n += r.prf.terms;
  return Math.min(n, limits.maxQueryTerms + (r.prf?.terms ?? 0));
}

/** The fields of a search request the response budgets read. */
export interface BudgetedSearch {
  query?: string;
  vector?: unknown;
  k?: number;
  explain?: boolean;
  include?: readonly string[];
  prf?: { terms: number };
  highlight?: unknown;
}

/** What a set of searches would put in one response, in the units of the three response budgets. */
export interface ResponseCost {
  hits: number;
  explainTerms: number;
  includedHits: number;
}

/** Adds one search's cost to `cost` (before any work: only the request is read). */
export function addResponseCost(cost: ResponseCost, r: BudgetedSearch, limits: Limits): void {
  const k = r.k ?? DEFAULT_K;
  cost.hits += k;
  if (r.explain === true) cost.explainTerms += k * explainTermsEstimate(r, limits);
  const included = r.include !== undefined && (r.include.includes('text') || r.include.includes('metadata'));
  if (included || r.highlight !== undefined) cost.includedHits += k;
}

/** The message for the first budget `cost` exceeds, or null when it fits. */
export function responseBudgetMessage(cost: ResponseCost, limits: Limits): string | null {
  if (cost.hits > limits.maxResponseHits) {
    return `asks for ${cost.hits} hits (sum of k); at most ${limits.maxResponseHits} per request (SPLADEX_MAX_RESPONSE_HITS)`;
  }
  if (cost.explainTerms > limits.maxResponseExplainTerms) {
    return `asks for up to ${cost.explainTerms} explain terms (k × query terms with explain); at most ${limits.maxResponseExplainTerms} per request (SPLADEX_MAX_RESPONSE_EXPLAIN_TERMS)`;
  }
  if (cost.includedHits > limits.maxResponseIncludedHits) {
    return `asks for ${cost.includedHits} hits with stored text or metadata (sum of k with include); at most ${limits.maxResponseIncludedHits} per request (SPLADEX_MAX_RESPONSE_INCLUDED_HITS)`;
  }
  return null;
}

const finiteWeight = z
  .number()
  .refine(Number.isFinite, 'must be a finite number')
  .refine((w) => w >= 0, 'must be >= 0');

/**
 * A JSON array of term ids (integers >= 0) or weights (finite, >= 0), checked in one loop with the same messages
 * and paths a per-element zod schema gives. Why: zod's per-element parse cost ~80–150 µs for a 120-term
 * `{indices, values}` document, 2/3 of bulk ingest time; this loop costs ~4 µs (measured on 20k synthetic docs).
 * `meta` keeps the OpenAPI schema an array of numbers.
 */
function numberArraySchema(kind: 'termId' | 'weight', maxTerms: number) {
  return z
    .custom<number[]>()
    .superRefine((arr: unknown, ctx) => {
      // Shape errors are `invalid_type` without a message, exactly as z.array(z.number()) reports them (so error
      // maps word them and union branch selection sees a shape mismatch); they stop the parse like zod's own.
      if (!Array.isArray(arr)) {
        ctx.addIssue({ code: 'invalid_type', expected: 'array', input: arr, continue: false });
        return;
      }
      for (let i = 0; i < arr.length; i++) {
        const x: unknown = arr[i];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          ctx.addIssue({ code: 'invalid_type', expected: 'number', input: x, path: [i], continue: false });
          return;
        }
        // Range errors are continuable refinements, as `.int()` / `.min(0)` / `refine` are.
        if (kind === 'termId' && !Number.isInteger(x)) {
          ctx.addIssue({ code: 'custom', message: 'must be an integer', input: x, path: [i] });
          return;
        }
        if (x < 0) {
          ctx.addIssue({ code: 'custom', message: 'must be >= 0', input: x, path: [i] });
          return;
        }
      }
      if (arr.length > maxTerms) ctx.addIssue({ code: 'custom', message: `at most ${maxTerms} terms`, input: arr });
    })
    .meta({
      type: 'array',
      items: kind === 'termId' ? { type: 'integer', minimum: 0 } : { type: 'number', minimum: 0 },
      maxItems: maxTerms,
      description:
        kind === 'termId' ? `term ids (integers ≥ 0), at most ${maxTerms}` : `weights (finite, ≥ 0), one per term id, at most ${maxTerms}`,
    });
}

/**
 * `{indices, values}` or a token map `{token: weight}`, decided by shape: both keys present with array values is
 * the indices form; any other object is a token map, so real wordpieces spelled "values" or "indices" (BERT has
 * both) are tokens like any other. Semantic checks (range, duplicates) happen later (vector-input.ts). The
 * key count is checked once, before either branch looks at the input: a strict object enumerates every key of
 * its input (1 s for a 10⁶-key token map) and the token-map branch would enumerate them again. The piped
 * schema is documented (OpenAPI) as the union it feeds.
 */
export function vectorInputSchema(maxTerms: number) {
  const union = z.union([
    z
      .object({
        indices: numberArraySchema('termId', maxTerms),
        values: numberArraySchema('weight', maxTerms),
      })
      .strict()
      .refine((v) => v.indices.length === v.values.length, 'indices and values must have equal lengths'),
    z
      .record(z.string().min(1), finiteWeight)
      .refine((m) => Object.keys(m).length <= maxTerms, `at most ${maxTerms} terms`)
      .superRefine((m, ctx) => {
        // Here rather than as the key schema: zod reports a bad record key as a bare "Invalid key in record".
        for (const token of Object.keys(m)) {
          if (!isWellFormed(token)) {
            ctx.addIssue({ code: 'custom', message: `token ${JSON.stringify(token)} ${ILL_FORMED_MESSAGE}`, input: m });
            return;
          }
        }
      }),
  ]);
  const doc = z.toJSONSchema(union, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  delete doc.$schema;
  // Key counts of refused objects: a failing input is parsed twice (safeParseWithMessages), and Object.keys
  // of 10⁶ keys costs ~0.5 s each time. Weak, so nothing outlives the request.
  const refusedCounts = new WeakMap<object, number>();
  return z
    .unknown()
    .superRefine((v, ctx) => {
      // An object has at most maxTerms token keys, or exactly 2 (indices, values): beyond both, refuse unread.
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
      const n = refusedCounts.get(v) ?? Object.keys(v).length;
      if (n <= Math.max(maxTerms, 2)) return;
      refusedCounts.set(v, n);
      ctx.addIssue({ code: 'custom', message: `at most ${maxTerms} terms (got ${n})`, input: v, continue: false });
    })
    .pipe(union)
    .meta(doc);
}
export type VectorInput = { indices: number[]; values: number[] } | Record<string, number>;

const metadataValue = z.union([
  z.string(),
  z.number().refine(Number.isFinite, 'must be finite'),
  z.boolean(),
  z.array(z.union([z.string(), z.number()])),
]);

/**
 * A document after normalisation (src/search/document-input.ts resolves `_id`/`content`, integer ids and empty
 * strings first, then parses with this schema and checks metadata against the collection's declared types).
 */
export function documentSchema(limits: Limits) {
  const utf8Len = (s: string) => Buffer.byteLength(s, 'utf8');
  return z
    .object({
      id: wellFormedString()
        .min(1, 'must not be empty')
        .refine((s) => utf8Len(s) <= limits.maxIdBytes, `must be at most ${limits.maxIdBytes} UTF-8 bytes`)
        .meta({
          description: `document id, 1 to ${limits.maxIdBytes} UTF-8 bytes (also accepted as \`_id\`, or an integer); an existing id is replaced`,
        }),
      title: wellFormedString()
        .refine((s) => utf8Len(s) <= limits.maxTextBytes, `must be at most ${limits.maxTextBytes} bytes`)
        .optional()
        .meta({ description: `title, encoded with the text; at most ${limits.maxTextBytes} UTF-8 bytes` }),
      text: wellFormedString()
        .refine((s) => utf8Len(s) <= limits.maxTextBytes, `must be at most ${limits.maxTextBytes} bytes`)
        .optional()
        .meta({
          description: `text to encode and store (also accepted as \`content\`); at most ${limits.maxTextBytes} UTF-8 bytes; text, title or vector is required`,
        }),
      vector: vectorInputSchema(limits.maxDocTerms)
        .optional()
        .meta({
          description: `precomputed sparse vector, \`{indices, values}\` or a token map; at most ${limits.maxDocTerms} terms; replaces encoding`,
        }),
      dense: z
        .array(z.number().refine(Number.isFinite, 'must be finite'))
        .optional()
        .meta({ description: "dense vector of the collection's dense.dim finite numbers (collections with a dense part)" }),
      metadata: z
        .record(wellFormedString(), metadataValue)
        .optional()
        .meta({
          description: `metadata: string, finite number, boolean or an array of strings/numbers per key; at most ${limits.maxMetadataKeys} keys and ${limits.maxMetadataBytes} bytes; declared fields are filterable`,
        }),
    })
    .strict()
    .refine((d) => d.text !== undefined || d.title !== undefined || d.vector !== undefined, {
      message: 'a document needs text (or title) or a vector',
      path: ['text'],
    });
}
export type DocumentInput = z.infer<ReturnType<typeof documentSchema>>;

const filterValue = z.union([wellFormedString(), z.number(), z.boolean()]);
export const FilterClauseSchema = z
  .object({
    field: wellFormedString().min(1).meta({ description: 'metadata field declared in the collection config' }),
    eq: filterValue.optional().meta({ description: 'keyword field equals this value' }),
    in: z.array(filterValue).min(1).max(10_000).optional().meta({ description: 'keyword field equals one of these, 1–10,000 values' }),
    gt: z.number().optional().meta({ description: 'number field > this' }),
    gte: z.number().optional().meta({ description: 'number field ≥ this' }),
    lt: z.number().optional().meta({ description: 'number field < this' }),
    lte: z.number().optional().meta({ description: 'number field ≤ this' }),
  })
  .strict()
  .refine(
    (c) =>
      c.eq !== undefined || c.in !== undefined || c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined,
    'a clause needs one of eq, in, gt, gte, lt, lte',
  );
export type FilterClause = z.infer<typeof FilterClauseSchema>;

export const FilterSchema = z
  .object({
    must: z.array(FilterClauseSchema).max(64).optional().meta({ description: 'clauses every hit matches; at most 64' }),
    mustNot: z.array(FilterClauseSchema).max(64).optional().meta({ description: 'clauses no hit matches; at most 64' }),
    should: z
      .array(FilterClauseSchema)
      .max(64)
      .optional()
      .meta({ description: 'clauses of which a hit matches at least one (when given); at most 64' }),
  })
  .strict();
export type FilterInput = z.infer<typeof FilterSchema>;

export const HybridSchema = z
  .object({
    method: z
      .enum(['convex', 'rrf'])
      .default('convex')
      .meta({ description: 'fusion: convex combination of normalised scores, or reciprocal rank fusion; default convex' }),
    alpha: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .meta({ description: 'convex weight of the sparse score (1 − alpha for dense; not used by rrf); [0, 1], default 0.5' }),
    normalization: z
      .enum(['minmax', 'zscore', 'none'])
      .default('minmax')
      .meta({ description: 'score normalisation before a convex fusion; default minmax' }),
    rrfK: z.number().min(0).max(10_000).default(60).meta({ description: 'RRF constant k in 1 / (k + rank); 0–10,000, default 60' }),
    candidates: z.number().int().min(1).max(10_000).default(100).meta({
      description: 'top candidates taken from each of sparse and dense before fusing (raised to k when smaller); 1–10,000, default 100',
    }),
  })
  .strict();
export type HybridParams = z.infer<typeof HybridSchema>;

export const PrfSchema = z
  .object({
    docs: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(5)
      .meta({ description: 'top documents of the first pass used as feedback; 1–100, default 5' }),
    terms: z.number().int().min(1).max(1000).default(20).meta({ description: 'expansion terms added to the query; 1–1,000, default 20' }),
    weight: z
      .number()
      .min(0)
      .max(10)
      .default(0.5)
      .meta({ description: "weight of the expansion terms, relative to the query's L1 mass; 0–10, default 0.5" }),
  })
  .strict();
export type PrfParams = z.infer<typeof PrfSchema>;

export const HighlightSchema = z
  .object({
    fields: z
      .array(z.enum(['title', 'text']))
      .min(1)
      .max(2)
      .default(['text'])
      .meta({ description: "stored fields to highlight ('title', 'text'); default ['text']" }),
    fragmentSize: z
      .number()
      .int()
      .min(20)
      .max(2000)
      .default(150)
      .meta({ description: 'characters per fragment (a fragment is cut at word boundaries); 20–2,000, default 150' }),
    numberOfFragments: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(3)
      .meta({ description: 'fragments per field, those with the most distinct matched words first; 1–20, default 3' }),
    preTag: z
      .string()
      .max(64)
      .default('<em>')
      .meta({ description: "inserted before a matched word; at most 64 characters, default '<em>'" }),
    postTag: z
      .string()
      .max(64)
      .default('</em>')
      .meta({ description: "inserted after a matched word; at most 64 characters, default '</em>'" }),
  })
  .strict();
export type HighlightParams = z.infer<typeof HighlightSchema>;

export const SearchParamsInputSchema = z
  .object({
    queryCut: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .optional()
      .meta({ description: "largest query terms searched; 1–1,024, default the collection's search.queryCut" }),
    heapFactor: z.number().gt(0).max(1).optional().meta({
      description:
        "a block is skipped when its summary score < heapFactor × the k-th score (larger = faster, lower recall); (0, 1], default the collection's search.heapFactor",
    }),
    nKnn: z.number().int().min(0).max(256).optional().meta({
      description:
        "kNN-graph neighbours of the top hits re-scored (needs a graph: index.nKnn > 0); 0–256, default the collection's index.nKnn",
    }),
    exact: z.boolean().optional().meta({ description: 'search exhaustively (exact top-k); default false' }),
    targetRecall: z.number().gt(0).max(1).nullable().optional().meta({
      description: "use the calibrated queryCut/heapFactor for this recall@k; (0, 1] or null, default the collection's search.targetRecall",
    }),
  })
  .strict();

export function searchRequestSchema(limits: Limits) {
  return z
    .object({
      query: wellFormedString()
        .min(1, 'must not be empty')
        .max(limits.maxTextBytes)
        .optional()
        .meta({ description: "query text, encoded by the collection's query encoder; exactly one of query or vector" }),
      vector: vectorInputSchema(limits.maxQueryTerms)
        .optional()
        .meta({
          description: `query sparse vector, \`{indices, values}\` or a token map, at most ${limits.maxQueryTerms} terms; exactly one of query or vector`,
        }),
      dense: z
        .array(z.number().refine(Number.isFinite, 'must be finite'))
        .optional()
        .meta({ description: 'dense query vector (collections with a dense part); alone it makes a dense-only search' }),
      k: z
        .number()
        .int('must be an integer')
        .min(1, 'must be >= 1')
        .max(limits.maxK, `must be <= ${limits.maxK}`)
        .optional()
        .meta({ description: `hits to return; 1–${limits.maxK}, default the collection's search.k (10)` }),
      filter: FilterSchema.optional().meta({ description: 'metadata filter on declared fields' }),
      params: SearchParamsInputSchema.optional().meta({
        description: "Seismic search knobs; absent fields take the collection's search defaults",
      }),
      hybrid: HybridSchema.optional().meta({ description: 'fusion of sparse and dense scores; applies when a dense query is present' }),
      prf: PrfSchema.optional().meta({
        description: 'pseudo-relevance feedback: expand the query with terms of the top documents, then search again',
      }),
      explain: z.boolean().optional().meta({ description: 'add a per-hit score breakdown (`explain`); default false' }),
      include: z
        .array(z.enum(['title', 'text', 'metadata']))
        .optional()
        .meta({ description: 'stored fields returned with each hit; default none (ids and scores only)' }),
      offset: z
        .number()
        .int('must be an integer')
        .min(0, 'must be >= 0')
        .optional()
        .meta({
          description: `hits to skip (paging): the response holds hits offset … offset + k − 1 of the ranking; offset + k ≤ ${limits.maxResultWindow} (SPLADEX_MAX_RESULT_WINDOW); default 0`,
        }),
      searchAfter: z
        .string()
        .min(1, 'must not be empty')
        .max(MAX_CURSOR_CHARS, `must be at most ${MAX_CURSOR_CHARS} characters`)
        .optional()
        .meta({
          description:
            'the `nextCursor` of the previous page: the next k hits of the same search on the point in time the first page pinned (send the same query, vector, filter, params and prf)',
        }),
      trackTotal: z.boolean().optional().meta({
        description: 'add `total: {value, relation}`: matching documents, exact ("eq") for exact searches, a lower bound ("gte") otherwise',
      }),
      highlight: HighlightSchema.optional().meta({ description: "fragments of the stored fields with the query's matching words marked" }),
    })
    .strict()
    .refine((r) => !(r.query !== undefined && r.vector !== undefined), { message: 'give exactly one of query or vector', path: ['query'] })
    .refine((r) => r.query !== undefined || r.vector !== undefined || r.dense !== undefined, {
      message: 'one of query, vector or dense is required',
      path: ['query'],
    })
    .superRefine((r, ctx) => {
      const window = (r.offset ?? 0) + (r.k ?? DEFAULT_K);
      if (r.offset !== undefined && r.offset > 0 && r.searchAfter !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'cannot be combined with searchAfter (a cursor already says where the page starts)',
          path: ['offset'],
        });
      }
      if (window > limits.maxResultWindow) {
        ctx.addIssue({
          code: 'custom',
          message: `offset + k = ${window} is more than the result window of ${limits.maxResultWindow} (SPLADEX_MAX_RESULT_WINDOW); page deeper with searchAfter (nextCursor)`,
          path: ['offset'],
        });
      }
      const cost: ResponseCost = { hits: 0, explainTerms: 0, includedHits: 0 };
      addResponseCost(cost, r, limits);
      const message = responseBudgetMessage(cost, limits);
      if (message !== null) ctx.addIssue({ code: 'custom', message, path: ['k'] });
    });
}
export type SearchRequest = z.infer<ReturnType<typeof searchRequestSchema>>;

/**
 * The searches of a batch as the service reads them: by index, in order, each once. An array is one; the batch
 * route's body is another (server/lazy-batch.ts), which parses and validates a search only when it is read.
 */
export type SearchBatch = Pick<readonly SearchRequest[], 'length' | 'at'>;

export function batchSearchSchema(limits: Limits) {
  return z
    .object({
      searches: z
        .array(searchRequestSchema(limits))
        .min(1)
        .max(limits.maxBatchSearches)
        .meta({ description: `search bodies, 1 to ${limits.maxBatchSearches}; answered in the same order` }),
    })
    .strict()
    .superRefine((b, ctx) => {
      const cost: ResponseCost = { hits: 0, explainTerms: 0, includedHits: 0 };
      for (const r of b.searches) addResponseCost(cost, r, limits);
      const message = responseBudgetMessage(cost, limits);
      if (message !== null) ctx.addIssue({ code: 'custom', message, path: ['searches'] });
    });
}

/** Sample queries accepted by optimize for the recall calibration (fewer usable ones are refused). */
export const MIN_CALIBRATION_QUERIES = 16;
export const MAX_CALIBRATION_QUERIES = 1000;

/**
 * Body of `POST /v1/collections/{name}/optimize`: optional sample queries, each as a search request gives its
 * query (text through the collection's query encoder, or a vector), for the recall calibration of the final build.
 */
export function optimizeRequestSchema(limits: Limits) {
  const item = z
    .object({
      query: wellFormedString()
        .min(1, 'must not be empty')
        .max(limits.maxTextBytes)
        .optional()
        .meta({ description: "sample query text, encoded by the collection's query encoder; exactly one of query or vector" }),
      vector: vectorInputSchema(limits.maxQueryTerms)
        .optional()
        .meta({ description: 'sample query sparse vector, `{indices, values}` or a token map; exactly one of query or vector' }),
    })
    .strict()
    .refine((q) => (q.query !== undefined) !== (q.vector !== undefined), {
      message: 'give exactly one of query or vector',
      path: ['query'],
    });
  return z
    .object({
      calibrationQueries: z
        .array(item)
        .min(MIN_CALIBRATION_QUERIES, `at least ${MIN_CALIBRATION_QUERIES} queries`)
        .max(MAX_CALIBRATION_QUERIES, `at most ${MAX_CALIBRATION_QUERIES} queries`)
        .optional()
        .describe(
          `sample queries for the recall calibration of targetRecall, ${MIN_CALIBRATION_QUERIES}–${MAX_CALIBRATION_QUERIES} (instead of documents used as queries); absent = documents are the sample`,
        ),
    })
    .strict();
}
export type OptimizeRequest = z.infer<ReturnType<typeof optimizeRequestSchema>>;

export const EncodeRequestSchema = z
  .object({
    encoder: z.string().min(1).default('lexical').meta({ description: 'encoder id; default lexical' }),
    collection: z.string().min(1).optional().meta({ description: 'collection whose lexical statistics (and dictionary) the encoder uses' }),
    kind: z.enum(['query', 'document']).default('query').meta({ description: 'encode as queries or as documents; default query' }),
    texts: z
      .array(wellFormedString().max(1024 * 1024))
      .min(1)
      .max(1000)
      .meta({ description: 'texts to encode, 1–1,000, each at most 1,048,576 characters' }),
  })
  .strict();
export type EncodeRequest = z.infer<typeof EncodeRequestSchema>;

export const CreateCollectionSchema = CollectionConfigSchema;

/** Body of `POST /v1/collections/{name}/count`. */
export const CountRequestSchema = z
  .object({ filter: FilterSchema.optional().meta({ description: 'count only the documents passing this metadata filter' }) })
  .strict();
export type CountRequest = z.infer<typeof CountRequestSchema>;

/** Body of `POST /v1/collections/{name}/documents/delete`: exactly one of `ids` / `filter`. */
export function deleteRequestSchema(limits: Limits) {
  return z
    .object({
      ids: z
        .array(
          wellFormedString()
            .min(1, 'must not be empty')
            .refine((s) => Buffer.byteLength(s, 'utf8') <= limits.maxIdBytes, `must be at most ${limits.maxIdBytes} UTF-8 bytes`),
        )
        .min(1, 'must not be empty')
        .max(limits.maxDocsPerRequest, `at most ${limits.maxDocsPerRequest} ids per request (SPLADEX_MAX_DOCS_PER_REQUEST)`)
        .optional()
        .meta({ description: `ids to delete, 1 to ${limits.maxDocsPerRequest}; absent ones are skipped (not counted)` }),
      filter: FilterSchema.optional().meta({ description: 'delete every live document passing this metadata filter' }),
    })
    .strict()
    .refine((r) => (r.ids !== undefined) !== (r.filter !== undefined), { message: 'give exactly one of ids or filter', path: ['ids'] });
}
export type DeleteRequest = z.infer<ReturnType<typeof deleteRequestSchema>>;

const metadataPatchValue = z.union([wellFormedString(), z.number(), z.boolean(), z.array(z.union([wellFormedString(), z.number()]))]);

/** Body of `PATCH /v1/collections/{name}/documents/{id}`: the fields to change; the rest is kept. */
export function patchRequestSchema(limits: Limits) {
  return z
    .object({
      title: wellFormedString().max(limits.maxTextBytes).nullable().optional().meta({ description: 'new title; null removes it' }),
      text: wellFormedString().max(limits.maxTextBytes).nullable().optional().meta({ description: 'new text; null removes it' }),
      metadata: z
        .record(z.string(), metadataPatchValue.nullable())
        .optional()
        .meta({ description: 'merged into the stored metadata key by key; a null value removes that key' }),
      vector: vectorInputSchema(limits.maxDocTerms)
        .optional()
        .meta({ description: 'new sparse vector (collections that take document vectors)' }),
      dense: z
        .array(z.number().refine(Number.isFinite, 'must be finite'))
        .optional()
        .meta({ description: 'new dense vector (collections with a dense part that takes document vectors)' }),
    })
    .strict();
}
export type PatchRequest = z.infer<ReturnType<typeof patchRequestSchema>>;

/** A scroll page request (`GET /v1/collections/{name}/documents`, parsed from its query string; the library takes it as is). */
export interface ScrollRequest {
  /** Documents per page, 1 to MAX_SCROLL_LIMIT (default DEFAULT_SCROLL_LIMIT). */
  limit?: number;
  /** The previous page's `nextCursor`. */
  cursor?: string;
  /** Stored fields shown (default all three). */
  include?: ('title' | 'text' | 'metadata')[];
  /** Add each document's vector. */
  vector?: boolean;
  filter?: FilterInput;
  /** `view`: as `GET …/documents/{id}`; `upsert`: the upsert body form, which `spladex index` reads back. */
  format?: 'view' | 'upsert';
}
