/**
 * zod schemas for path parameters, query strings and request envelopes of the REST routes, built from the
 * service's `Limits` so configured limits are enforced and documented alike. Request *bodies* reuse
 * src/config/request-schemas.ts. Used by the routes-*.ts files; the OpenAPI document is generated from these.
 */
import { z } from 'zod';
import { COLLECTION_NAME_RE } from '../config/index-config.js';
import { documentSchema, type Limits } from '../config/request-schemas.js';
import { toOpenApiSchema } from './openapi.js';

/** `{name}` of a collection route. */
export const collectionParamsSchema = z
  .object({ name: z.string().regex(COLLECTION_NAME_RE, `must match ${COLLECTION_NAME_RE.source}`) })
  .meta({ description: 'collection name' });

/** `{name, id}` of a document route; ids are limited in UTF-8 bytes. */
export function documentParamsSchema(limits: Limits) {
  return z.object({
    name: z.string().regex(COLLECTION_NAME_RE, `must match ${COLLECTION_NAME_RE.source}`),
    id: z
      .string()
      .min(1, 'must not be empty')
      .refine((s) => Buffer.byteLength(s, 'utf8') <= limits.maxIdBytes, `must be at most ${limits.maxIdBytes} UTF-8 bytes`),
  });
}

/** `?vector=true` on GET document. */
export const getDocumentQuerySchema = z
  .object({ vector: z.enum(['true', 'false', '1', '0']).optional().describe('include the document vector as a token map') })
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
        .max(limits.maxDocsPerRequest, `at most ${limits.maxDocsPerRequest} documents per request`),
    })
    .strict();
}

// ---- Response shapes: documentation only (responses are serialised with JSON.stringify, see openapi.ts). ----

const statsSchema = z.object({
  documents: z.number().int(),
  deleted: z.number().int(),
  segments: z.number().int(),
  memtableDocuments: z.number().int(),
  nnz: z.number().int(),
  avgDocTerms: z.number(),
  bytes: z.number().int(),
  estimatedRecall: z.number().nullable(),
});

/** `{name, config, stats}` of GET/PUT collection. */
export const collectionInfoResponse = z.looseObject({ name: z.string(), config: z.looseObject({ encoder: z.string() }), stats: statsSchema });
export const collectionListResponse = z.object({
  collections: z.array(z.looseObject({ name: z.string(), documents: z.number().int() })),
});
export const optimizeResponse = z.object({ segments: z.number().int(), tookMs: z.number() });
export const upsertResponse = z.object({
  indexed: z.number().int(),
  errors: z.array(z.object({ index: z.number().int(), id: z.string().optional(), code: z.string(), message: z.string() })),
});
export const documentResponse = z.object({
  id: z.string(),
  title: z.string().optional(),
  text: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  vector: z.object({ tokens: z.record(z.string(), z.number()) }).optional(),
});
const hitSchema = z.looseObject({
  id: z.string(),
  score: z.number(),
  title: z.string().optional(),
  text: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  explain: z
    .looseObject({
      sparse: z.number().optional(),
      dense: z.number().optional(),
      fused: z.number().optional(),
      terms: z.array(z.object({ token: z.string(), query: z.number(), doc: z.number(), product: z.number() })).optional(),
    })
    .optional(),
});
export const searchResponse = z.object({
  hits: z.array(hitSchema).describe('sorted by score descending, ties by id ascending'),
  took: z.object({ totalMs: z.number(), encodeMs: z.number(), searchMs: z.number() }),
  stats: z.object({ docsScored: z.number().int(), blocksScored: z.number().int(), blocksSkipped: z.number().int(), exact: z.boolean() }),
  warnings: z.array(z.string()),
});
export const batchSearchResponse = z.object({ results: z.array(searchResponse) });
export const encodeResponse = z.object({
  vectors: z.array(z.object({ indices: z.array(z.number().int()), values: z.array(z.number()), tokens: z.record(z.string(), z.number()) })),
});

/** The error envelope (API.md "Errors"). */
export const errorEnvelopeSchema = z.object({
  statusCode: z.number().int(),
  code: z.enum(['INVALID_ARGUMENT', 'UNAUTHENTICATED', 'NOT_FOUND', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'BUSY', 'CORRUPT_INDEX', 'STORAGE_FULL', 'INTERNAL']),
  error: z.string(),
  message: z.string().describe('names the field and why; CORRUPT_INDEX names the damaged file'),
});

/** Response map for a route: the success schema(s) plus the error envelope for 4xx/5xx. */
export function responses(ok: Record<number, z.ZodType>): Record<string, z.ZodType> {
  return { ...ok, '4xx': errorEnvelopeSchema, '5xx': errorEnvelopeSchema };
}

/** An empty response body (204). */
export const noContent = z.null().describe('no content');
