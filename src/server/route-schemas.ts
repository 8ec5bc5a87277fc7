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
