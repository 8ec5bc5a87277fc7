/**
 * Document routes (API.md "Documents"): batch upsert (JSON `{documents}` or NDJSON, ≤ maxDocsPerRequest;
 * each document validated by the service so valid ones are indexed and bad ones reported per index; durable
 * when answered), get by id (`?vector=true` adds the token map), delete by id (204 / 404), count, bulk delete
 * by ids or filter, PATCH (partial update) and the scroll listing (`GET …/documents`, id order, cursors).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidArgument } from '../core/errors.js';
import {
  CountRequestSchema,
  deleteRequestSchema,
  FilterSchema,
  MAX_SCROLL_LIMIT,
  patchRequestSchema,
  type Limits,
  type ScrollRequest,
} from '../config/request-schemas.js';
import { parseOrThrow } from '../config/zod-errors.js';
import type { ServerService } from './service-port.js';
import {
  collectionParamsSchema,
  countExample,
  countResponse,
  deleteExample,
  deleteResponse,
  patchExample,
  scrollQuerySchema,
  scrollResponse,
  documentParamsSchema,
  documentResponse,
  getDocumentQuerySchema,
  noContent,
  responses,
  upsertBodySchema,
  upsertExample,
  upsertResponse,
  type ZodTypeProvider,
} from './route-schemas.js';
import type { NdjsonRouteConfig } from './body-parsers.js';

/**
 * `?refresh=wait_for` on writes: in cluster mode the answer waits until every live replica of the touched shards
 * has applied the write (docs/CLUSTER.md); a single process's writes are visible when answered, so it is a no-op.
 */
const writeQuerySchema = z
  .object({ refresh: z.enum(['wait_for', 'false']).optional().describe('wait_for: answer once every live replica applied the write') })
  .strict();

function writeOptions(q: { refresh?: 'wait_for' | 'false' }) {
  return q.refresh === 'wait_for' ? { refresh: 'wait_for' as const } : undefined;
}

/** Registers the document routes; `limits` bound the envelope and ids (the service checks each document). */
export function registerDocumentRoutes(fastify: FastifyInstance, service: ServerService, limits: Limits): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['documents'];
  const security = [{ bearer: [] }];
  const ndjson: NdjsonRouteConfig = { ndjson: true };

  app.post(
    '/v1/collections/:name/documents',
    {
      config: ndjson,
      schema: {
        tags,
        security,
        summary: 'Upsert a batch of documents (JSON or application/x-ndjson, one document per line)',
        consumes: ['application/json', 'application/x-ndjson'],
        params: collectionParamsSchema,
        querystring: writeQuerySchema,
        body: upsertBodySchema(limits).meta({ examples: [upsertExample] }),
        response: responses({ 200: upsertResponse }),
      },
    },
    async (request) => {
      const options = writeOptions(request.query);
      return options === undefined
        ? service.upsertDocuments(request.params.name, request.body.documents)
        : service.upsertDocuments(request.params.name, request.body.documents, options);
    },
  );

  app.get(
    '/v1/collections/:name/documents/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Get a document by id',
        params: documentParamsSchema(limits),
        querystring: getDocumentQuerySchema,
        response: responses({ 200: documentResponse }),
      },
    },
    async (request) => {
      const withVector = request.query.vector === 'true' || request.query.vector === '1';
      return service.getDocument(request.params.name, request.params.id, withVector);
    },
  );

  app.patch(
    '/v1/collections/:name/documents/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Partial update: merge metadata (null removes a key), replace title/text (re-encoded) or vectors',
        params: documentParamsSchema(limits),
        querystring: writeQuerySchema,
        body: patchRequestSchema(limits).meta({ examples: [patchExample] }),
        response: responses({ 200: documentResponse }),
      },
    },
    async (request) => {
      const options = writeOptions(request.query);
      return options === undefined
        ? service.patchDocument(request.params.name, request.params.id, request.body)
        : service.patchDocument(request.params.name, request.params.id, request.body, options);
    },
  );

  app.post(
    '/v1/collections/:name/documents/delete',
    {
      schema: {
        tags,
        security,
        summary: 'Delete documents by ids or by a metadata filter',
        params: collectionParamsSchema,
        querystring: writeQuerySchema,
        body: deleteRequestSchema(limits).meta({ examples: [deleteExample] }),
        response: responses({ 200: deleteResponse }),
      },
    },
    async (request) => {
      const options = writeOptions(request.query);
      return options === undefined
        ? service.deleteDocuments(request.params.name, request.body)
        : service.deleteDocuments(request.params.name, request.body, options);
    },
  );

  app.post(
    '/v1/collections/:name/count',
    {
      schema: {
        tags,
        security,
        summary: 'Count live documents, optionally those passing a metadata filter',
        params: collectionParamsSchema,
        body: CountRequestSchema.meta({ examples: [countExample] }),
        response: responses({ 200: countResponse }),
      },
    },
    async (request) => service.countDocuments(request.params.name, request.body ?? {}),
  );

  app.get(
    '/v1/collections/:name/documents',
    {
      schema: {
        tags,
        security,
        summary: 'List documents in id order, page by page on a point in time (scroll / export)',
        params: collectionParamsSchema,
        querystring: scrollQuerySchema,
        response: responses({ 200: scrollResponse }),
      },
    },
    async (request) => service.listDocuments(request.params.name, toScrollRequest(request.query)),
  );

  app.delete(
    '/v1/collections/:name/documents/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a document by id',
        params: documentParamsSchema(limits),
        querystring: writeQuerySchema,
        response: responses({ 204: noContent }),
      },
    },
    async (request, reply) => {
      const options = writeOptions(request.query);
      if (options === undefined) await service.deleteDocument(request.params.name, request.params.id);
      else await service.deleteDocument(request.params.name, request.params.id, options);
      return reply.code(204).send();
    },
  );
}

/** The scroll query string as a ScrollRequest; INVALID_ARGUMENT naming `querystring.<field>`. */
function toScrollRequest(q: {
  limit?: string;
  cursor?: string;
  include?: string;
  vector?: string;
  filter?: string;
  format?: 'view' | 'upsert';
}): ScrollRequest {
  const req: ScrollRequest = {};
  if (q.limit !== undefined) {
    const n = Number(q.limit);
    if (n < 1 || n > MAX_SCROLL_LIMIT)
      throw invalidArgument('querystring.limit', `must be from 1 to ${MAX_SCROLL_LIMIT} (documents per page)`);
    req.limit = n;
  }
  if (q.cursor !== undefined) req.cursor = q.cursor;
  if (q.include !== undefined) req.include = q.include.split(',') as ScrollRequest['include'];
  if (q.vector !== undefined) req.vector = q.vector === 'true' || q.vector === '1';
  if (q.format !== undefined) req.format = q.format;
  if (q.filter !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(q.filter);
    } catch {
      throw invalidArgument('querystring.filter', 'must be a JSON filter object (URL-encoded)');
    }
    req.filter = parseOrThrow(FilterSchema, json, 'querystring.filter');
  }
  return req;
}
