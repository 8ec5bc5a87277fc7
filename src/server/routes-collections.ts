/**
 * Collection routes (API.md "Collections"): create (PUT, 201 new / 200 identical / 409 different config),
 * list, get, delete (204) and optimize (optional body: sample `calibrationQueries`). Names are validated at the edge (400 for an invalid name, before the
 * service is asked); the config body is validated with the persisted config's schema, then by the service.
 */
import type { FastifyInstance } from 'fastify';
import { CollectionConfigSchema } from '../config/index-config.js';
import { optimizeRequestSchema } from '../config/request-schemas.js';
import {
  collectionInfoResponse,
  collectionListResponse,
  collectionParamsSchema,
  createCollectionExample,
  noContent,
  optimizeExample,
  optimizeResponse,
  responses,
  type ZodTypeProvider,
} from './route-schemas.js';
import { relativizeMessage } from './error-handler.js';
import type { ServerService } from './service-port.js';

/** Registers the collection routes. */
export function registerCollectionRoutes(fastify: FastifyInstance, service: ServerService, dataDir?: string): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['collections'];
  const security = [{ bearer: [] }];

  app.put(
    '/v1/collections/:name',
    {
      schema: {
        tags,
        security,
        summary: 'Create a collection (idempotent for an identical config)',
        params: collectionParamsSchema,
        body: CollectionConfigSchema.optional().meta({
          description: 'collection config; every field optional (defaults per field)',
          examples: [createCollectionExample],
        }),
        response: responses({ 200: collectionInfoResponse, 201: collectionInfoResponse }),
      },
    },
    async (request, reply) => {
      const { created, collection } = await service.createCollection(request.params.name, request.body ?? {});
      return reply.code(created ? 201 : 200).send(collection);
    },
  );

  app.get(
    '/v1/collections',
    { schema: { tags, security, summary: 'List collections', response: responses({ 200: collectionListResponse }) } },
    async () => {
      const list = await service.listCollections();
      // A collection that failed to open is listed with its error, which may name a file under the data dir.
      for (const c of list.collections as { error?: unknown }[])
        if (typeof c.error === 'string') c.error = relativizeMessage(c.error, dataDir);
      return list;
    },
  );

  app.get(
    '/v1/collections/:name',
    {
      schema: {
        tags,
        security,
        summary: 'A collection with its config and stats',
        params: collectionParamsSchema,
        response: responses({ 200: collectionInfoResponse }),
      },
    },
    async (request) => service.getCollection(request.params.name),
  );

  app.delete(
    '/v1/collections/:name',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a collection and its data',
        params: collectionParamsSchema,
        response: responses({ 204: noContent }),
      },
    },
    async (request, reply) => {
      await service.deleteCollection(request.params.name);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/collections/:name/optimize',
    {
      schema: {
        tags,
        security,
        summary: 'Seal the memtable and merge segments (optionally calibrating targetRecall on sample queries)',
        params: collectionParamsSchema,
        body: optimizeRequestSchema(service.limits)
          .optional()
          .meta({ description: 'optional: sample queries for the recall calibration', examples: [optimizeExample] }),
        response: responses({ 200: optimizeResponse }),
      },
    },
    async (request) => service.optimize(request.params.name, request.body),
  );
}
