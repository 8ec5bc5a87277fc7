/**
 * Document routes (API.md "Documents"): batch upsert (JSON `{documents}` or NDJSON, ≤ maxDocsPerRequest;
 * each document validated by the service so valid ones are indexed and bad ones reported per index; durable
 * when answered), get by id (`?vector=true` adds the token map), delete by id (204 / 404).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Limits } from '../config/request-schemas.js';
import type { ServerService } from './service-port.js';
import {
  collectionParamsSchema,
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
