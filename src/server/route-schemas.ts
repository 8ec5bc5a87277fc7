/**
 * zod schemas for path parameters, query strings and request envelopes of the REST routes, built from the
 * service's `Limits` so configured limits are enforced and documented alike. Request *bodies* reuse
 * src/config/request-schemas.ts. Used by the routes-*.ts files; the OpenAPI document is generated from these,
 * and `ZodTypeProvider` gives each route handler its request types from the same schemas (no hand-written
 * `Body`/`Params` types to drift). Every field carries a description and every body route an example
 * (test/openapi-doc.test.ts checks both, and that each example passes its route's schema).
 */
import type { FastifyTypeProvider } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES } from '../core/errors.js';
import { COLLECTION_NAME_RE } from '../config/index-config.js';
import { documentSchema, MAX_CURSOR_CHARS, MAX_SCROLL_LIMIT, DEFAULT_SCROLL_LIMIT, type Limits } from '../config/request-schemas.js';
import { toOpenApiSchema } from './openapi.js';

/** `{name}` of a collection route. */
export const collectionParamsSchema = z
  .object({
    name: z
      .string()
      .regex(COLLECTION_NAME_RE, `must match ${COLLECTION_NAME_RE.source}`)
      .meta({ description: 'collection name: 1–64 of a-z 0-9 _ -, starting with a letter or digit' }),
  })
  .meta({ description: 'collection name' });

/**
 * Fastify type provider for zod route schemas: a handler's `request.body`, `params` and `query` are the parsed
 * (output) types of its schemas, which is what the validator compiler (openapi.ts) hands over. Replies are not
 * typed from the response schemas: those document the service's answers, which the server only forwards.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: unknown;
}

/** `{name, id}` of a document route; ids are limited in UTF-8 bytes. */
export function documentParamsSchema(limits: Limits) {
  return z.object({
    name: z.string().regex(COLLECTION_NAME_RE, `must match ${COLLECTION_NAME_RE.source}`).meta({ description: 'collection name' }),
    id: z
      .string()
      .min(1, 'must not be empty')
      .refine((s) => Buffer.byteLength(s, 'utf8') <= limits.maxIdBytes, `must be at most ${limits.maxIdBytes} UTF-8 bytes`)
      .meta({ description: `document id, percent-encoded in the path; 1 to ${limits.maxIdBytes} UTF-8 bytes` }),
  });
}

/** `?vector=true` on GET document. */
export const getDocumentQuerySchema = z
  .object({ vector: z.enum(['true', 'false', '1', '0']).optional().describe('include the document vector as a token map') })
  .strict();

/** Query string of `GET /v1/collections/{name}/documents` (scroll); the route turns it into a ScrollRequest. */
export const scrollQuerySchema = z
  .object({
    limit: z
      .string()
      .regex(/^[0-9]{1,9}$/, 'must be an integer')
      .optional()
      .describe(`documents per page, 1–${MAX_SCROLL_LIMIT}; default ${DEFAULT_SCROLL_LIMIT}`),
    cursor: z.string().min(1).max(MAX_CURSOR_CHARS).optional().describe("the previous page's nextCursor (same filter)"),
    include: z
      .string()
      .regex(/^(title|text|metadata)(,(title|text|metadata))*$/, 'must be a comma-separated list of title, text, metadata')
      .optional()
      .describe('stored fields shown, comma-separated (default title,text,metadata)'),
    vector: z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .describe('add each document vector (a token map; with format=upsert the upsert form)'),
    filter: z.string().max(1_000_000).optional().describe('a metadata filter as JSON (the search `filter` object), URL-encoded'),
    format: z
      .enum(['view', 'upsert'])
      .optional()
      .describe('view (default): as GET …/documents/{id}; upsert: the upsert body form with vectors where the collection takes them'),
  })
  .strict();

/**
 * The upsert envelope. Documents are deliberately not validated here: the service validates each one so valid
 * documents are indexed and bad ones reported by index. The item schema is attached as metadata so the OpenAPI
 * document still shows what a document looks like.
 */
export function upsertBodySchema(limits: Limits) {
  const documentJson = toOpenApiSchema(documentSchema(limits));
  return z
    .object({
      documents: z
        .array(z.unknown().meta(documentJson))
        .max(limits.maxDocsPerRequest, `at most ${limits.maxDocsPerRequest} documents per request`)
        .meta({
          description: `the documents, 0 to ${limits.maxDocsPerRequest} (SPLADEX_MAX_DOCS_PER_REQUEST); each is checked on its own, a bad one is reported in \`errors\` by index and the others are indexed`,
        }),
    })
    .strict();
}

// ---- Example request bodies, one per body route (test/openapi-doc.test.ts parses each with its route's schema). ----

/** PUT /v1/collections/{name}. */
export const createCollectionExample = {
  encoder: 'lexical',
  index: { nPostings: 4000, centroidFraction: 0.1, summaryEnergy: 0.4 },
  search: { k: 10, queryCut: 10, heapFactor: 0.9 },
  metadata: { lang: 'keyword', year: 'number' },
};
/** POST /v1/collections/{name}/documents (JSON form; NDJSON sends the same documents one per line). */
export const upsertExample = {
  documents: [
    {
      id: 'doc-1',
      title: 'Learned sparse retrieval',
      text: 'SPLADE expands documents into weighted vocabulary terms.',
      metadata: { lang: 'en', year: 2021 },
    },
    { id: 'doc-2', text: 'Seismic prunes posting lists into blocks with summaries.', metadata: { lang: 'en', year: 2024 } },
  ],
};
/** POST /v1/collections/{name}/search. */
export const searchExample = {
  query: 'sparse retrieval',
  k: 5,
  filter: {
    must: [
      { field: 'lang', eq: 'en' },
      { field: 'year', gte: 2020 },
    ],
  },
  include: ['title'],
  explain: true,
};
/** POST /v1/collections/{name}/count. */
export const countExample = { filter: { must: [{ field: 'lang', eq: 'en' }] } };
/** POST /v1/collections/{name}/documents/delete. */
export const deleteExample = { ids: ['doc-1', 'doc-2'] };
/** PATCH /v1/collections/{name}/documents/{id}. */
export const patchExample = { metadata: { year: 2022, draft: null } };
/** POST /v1/collections/{name}/search/batch. */
export const batchSearchExample = {
  searches: [
    { query: 'sparse retrieval', k: 3 },
    { vector: { seismic: 1.2, blocks: 0.7 }, k: 3 },
  ],
};
/** POST /v1/collections/{name}/optimize (the body is optional; without it documents serve as sample queries). */
export const optimizeExample = {
  calibrationQueries: [
    'sparse retrieval',
    'learned sparse',
    'posting lists',
    'blocks with summaries',
    'vocabulary terms',
    'weighted terms',
    'seismic prunes',
    'splade expands',
    'documents',
    'retrieval',
    'blocks',
    'summaries',
    'learned retrieval',
    'sparse terms',
    'posting blocks',
    'weighted vocabulary',
  ].map((query) => ({ query })),
};
/** POST /v1/encode. */
export const encodeExample = { encoder: 'lexical', kind: 'query', texts: ['learned sparse retrieval'] };

// ---- Response shapes: documentation only (responses are serialised with JSON.stringify, see openapi.ts). ----

const d = (description: string) => ({ description });

const statsSchema = z
  .object({
    documents: z.number().int().meta(d('live documents (memtable and segments, deleted ones excluded)')),
    deleted: z.number().int().meta(d('deleted documents still held in sealed segments (dropped by the next merge)')),
    segments: z.number().int().meta(d('sealed segments on disk')),
    memtableDocuments: z.number().int().meta(d('documents in the in-memory memtable, not yet sealed into a segment')),
    nnz: z.number().int().meta(d('non-zero term weights over all live documents')),
    avgDocTerms: z.number().meta(d('mean non-zero terms per document')),
    bytes: z.number().int().meta(d('bytes on disk: WAL, manifest, dictionary, delete files and segments')),
    estimatedRecall: z
      .number()
      .nullable()
      .meta(
        d(
          'recall@10 the calibration measured for the setting chosen for search.targetRecall (0–1); null when no target is set or nothing was calibrated (see calibration)',
        ),
      ),
    tuned: z
      .object({
        queryCut: z.number().int().meta(d('calibrated queryCut for search.targetRecall')),
        heapFactor: z.number().meta(d('calibrated heapFactor for search.targetRecall')),
      })
      .nullable()
      .meta(d('the setting a search with search.targetRecall uses; null without a target or a calibration')),
    calibration: z
      .object({
        documents: z.number().int().meta(d('live documents of the calibrated segment (the largest one with an approximate index)')),
        rows: z
          .array(
            z.object({
              targetRecall: z.number().meta(d('recall target of the row')),
              queryCut: z.number().int().meta(d('cheapest queryCut reaching it (with 95% confidence)')),
              heapFactor: z.number().meta(d('heapFactor of that setting')),
              estimatedRecall: z.number().meta(d('mean recall@10 of that setting over the calibration queries')),
            }),
          )
          .meta(d('one row per calibrated target, targets ascending')),
      })
      .nullable()
      .meta(
        d(
          'the recall calibration table (seal/optimize time; optimize calibrationQueries), shown whether or not search.targetRecall is set; null when no segment is calibrated',
        ),
      ),
  })
  .meta(d('index statistics'));

/** `{name, config, stats}` of GET/PUT collection. */
export const collectionInfoResponse = z.looseObject({
  name: z.string().meta(d('collection name')),
  config: z
    .looseObject({ encoder: z.string().meta(d('document encoder id')) })
    .meta(d('the persisted collection config, defaults filled in (same fields as the PUT body)')),
  stats: statsSchema,
});
export const collectionListResponse = z.object({
  collections: z
    .array(
      z.looseObject({
        name: z.string().meta(d('collection name')),
        documents: z.number().int().meta(d('live documents (0 for one that failed to open)')),
        encoder: z.string().meta(d("document encoder id ('unknown' for one that failed to open)")),
        segments: z.number().int().meta(d('sealed segments on disk')),
        error: z.string().optional().meta(d('why the collection failed to open (code: message, file names relative to the data dir)')),
      }),
    )
    .meta(d('every collection of the data dir, by name; one that failed to open is listed with `error`')),
});
export const optimizeResponse = z.object({
  segments: z.number().int().meta(d('segments after the merge')),
  tookMs: z.number().meta(d('wall time of the optimize, milliseconds')),
});
export const upsertResponse = z.object({
  indexed: z.number().int().meta(d('documents indexed (and durable) by this request')),
  errors: z
    .array(
      z.object({
        index: z.number().int().meta(d('0-based position of the refused document in the request')),
        id: z.string().optional().meta(d('its id, when it had a readable one')),
        code: z.string().meta(d('error code, as in the error envelope (INVALID_ARGUMENT for a bad document)')),
        message: z.string().meta(d('names the field and why')),
      }),
    )
    .meta(d('documents that were refused; empty when all were indexed')),
});
const tokensMap = z.record(z.string(), z.number()).meta(d('token → weight'));
export const documentResponse = z.object({
  id: z.string().meta(d('document id')),
  title: z.string().optional().meta(d('stored title, when given at upsert')),
  text: z.string().optional().meta(d('stored text, when given at upsert')),
  metadata: z.record(z.string(), z.unknown()).optional().meta(d('stored metadata, when given at upsert')),
  vector: z.object({ tokens: tokensMap }).optional().meta(d('the indexed sparse vector as a token map; only with ?vector=true')),
});
export const countResponse = z.object({ count: z.number().int().meta(d('live documents passing the filter (deleted ones never count)')) });
export const deleteResponse = z.object({
  deleted: z.number().int().meta(d('live documents deleted by this request (absent ids are not counted)')),
});
export const scrollResponse = z.object({
  documents: z.array(z.looseObject({ id: z.string().meta(d('document id')) })).meta(d('at most limit documents, ids ascending')),
  nextCursor: z.string().nullable().meta(d('send as `cursor` for the next page, on the same point in time; null on the last page')),
});
const hitSchema = z.looseObject({
  id: z.string().meta(d('document id')),
  score: z.number().meta(d('relevance score (sparse dot product, or the fused score of a hybrid search)')),
  title: z.string().optional().meta(d("stored title; only when `include` names 'title'")),
  text: z.string().optional().meta(d("stored text; only when `include` names 'text'")),
  metadata: z.record(z.string(), z.unknown()).optional().meta(d("stored metadata; only when `include` names 'metadata'")),
  explain: z
    .looseObject({
      sparse: z.number().optional().meta(d('sparse score')),
      dense: z.number().optional().meta(d('dense similarity (hybrid searches)')),
      fused: z.number().optional().meta(d('fused score (hybrid searches)')),
      terms: z
        .array(
          z.object({
            token: z.string().meta(d('matched token')),
            query: z.number().meta(d('its query weight')),
            doc: z.number().meta(d('its document weight')),
            product: z.number().meta(d('query × doc, its share of the sparse score')),
          }),
        )
        .optional()
        .meta(d('matched query terms, largest product first')),
    })
    .optional()
    .meta(d('score breakdown; only with `explain: true`')),
  highlight: z
    .record(z.string(), z.array(z.string()))
    .optional()
    .meta(d('with `highlight`: per field with a matched word, fragments with the matched words between the tags, the rest HTML-escaped')),
});
export const searchResponse = z.object({
  hits: z.array(hitSchema).meta(d('at most k hits, sorted by score descending, ties by id ascending')),
  took: z
    .object({
      totalMs: z.number().meta(d('whole search, milliseconds')),
      encodeMs: z.number().meta(d('query encoding, milliseconds')),
      searchMs: z.number().meta(d('index search, milliseconds')),
    })
    .meta(d('timings')),
  stats: z
    .object({
      docsScored: z.number().int().meta(d('documents whose score was computed')),
      blocksScored: z.number().int().meta(d('index blocks evaluated')),
      blocksSkipped: z.number().int().meta(d('index blocks skipped by their summaries')),
      exact: z.boolean().meta(d('true when every segment was searched exhaustively (exact top-k)')),
      tuned: z
        .object({
          targetRecall: z.number().meta(d('the recall target (params.targetRecall, else search.targetRecall)')),
          queryCut: z.number().int().meta(d('queryCut used')),
          heapFactor: z.number().meta(d('heapFactor used')),
          estimatedRecall: z.number().nullable().meta(d("the calibrated row's measured recall@10; null without a calibration")),
          calibrated: z
            .boolean()
            .meta(d('true when queryCut/heapFactor came from the calibration (false: given in params, or no calibration)')),
        })
        .optional()
        .meta(d('present when a recall target applied: the setting it chose')),
    })
    .meta(d('work done')),
  warnings: z
    .array(z.string())
    .meta(
      d('non-fatal notes (unknown tokens ignored, a query with no term known to the collection, dense index not built yet); usually empty'),
    ),
  nextCursor: z
    .string()
    .nullable()
    .meta(
      d(
        'send as `searchAfter` for the next page (same search, same point in time); null when this page is the last or the search is hybrid or dense',
      ),
    ),
  total: z
    .object({
      value: z.number().int().meta(d('matching documents: sharing a term with the query and passing the filter')),
      relation: z.enum(['eq', 'gte']).meta(d('"eq": exact (an exact search); "gte": a lower bound (an approximate or hybrid search)')),
    })
    .optional()
    .meta(d('only with `trackTotal: true`')),
});
export const batchSearchResponse = z.object({
  results: z.array(searchResponse).meta(d('one search response per request in `searches`, same order')),
});
export const encodeResponse = z.object({
  vectors: z
    .array(
      z.object({
        indices: z.array(z.number().int()).meta(d('term ids, ascending')),
        values: z.array(z.number()).meta(d('weights, one per term id')),
        tokens: tokensMap,
      }),
    )
    .meta(d('one sparse vector per text, same order')),
});

/** GET /health and GET /ready (200; /ready answers 503 BUSY in the error envelope until ready). */
export const healthResponse = z.object({ status: z.literal('ok').meta(d('the process serves')) });
export const readyResponse = z.object({ status: z.literal('ready').meta(d('collections are loaded and encoders warmed')) });
/** GET /metrics: Prometheus text exposition format. */
export const metricsResponse = z.string().meta(d('Prometheus text format 0.0.4: request, latency, search, collection and process metrics'));

/** The error envelope (API.md "Errors"); its codes are src/core/errors.ts's `ERROR_CODES`. */
export const errorEnvelopeSchema = z.object({
  statusCode: z.number().int().meta(d('HTTP status, repeated')),
  code: z.enum(ERROR_CODES).meta(d('machine-readable error code (src/core/errors.ts); API.md "Errors" maps each to its status')),
  error: z.string().meta(d('HTTP reason phrase of the status')),
  message: z.string().meta(d('names the field and why; CORRUPT_INDEX names the damaged file')),
});

/** Response map for a route: the success schema(s) plus the error envelope for 4xx/5xx. */
export function responses(ok: Record<number, z.ZodType>): Record<string, z.ZodType> {
  return { ...ok, '4xx': errorEnvelopeSchema, '5xx': errorEnvelopeSchema };
}

/** An empty response body (204). */
export const noContent = z.null().describe('no content');
