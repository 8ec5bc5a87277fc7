/**
 * Alias routes (API.md "Aliases"): `PUT /v1/aliases/{alias}` `{"collection"}` creates or atomically switches an
 * alias (durable when answered), `GET /v1/aliases` lists them, `DELETE /v1/aliases/{alias}` removes one. Every
 * collection route accepts an alias in place of `{name}` (the service resolves it). Writes, so a read-only key
 * gets 403 on PUT and DELETE (auth.ts).
 */
import type { FastifyInstance } from 'fastify';
import { aliasListResponse, aliasParamsSchema, putAliasBodySchema, putAliasExample, putAliasResponse } from './admin-schemas.js';
import { noContent, responses, type ZodTypeProvider } from './route-schemas.js';
import type { ServerService } from './service-port.js';

/** Registers the alias routes. */
export function registerAliasRoutes(fastify: FastifyInstance, service: ServerService): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['aliases'];
  const security = [{ bearer: [] }];

  app.put(
    '/v1/aliases/:alias',
    {
      schema: {
        tags,
        security,
        summary: 'Create an alias or switch it atomically to another collection',
        params: aliasParamsSchema,
        body: putAliasBodySchema.meta({ examples: [putAliasExample] }),
        response: responses({ 200: putAliasResponse }),
      },
    },
    async (request) => service.putAlias(request.params.alias, request.body.collection),
  );

  app.get(
    '/v1/aliases',
    { schema: { tags, security, summary: 'List aliases', response: responses({ 200: aliasListResponse }) } },
    async () => service.listAliases(),
  );

  app.delete(
    '/v1/aliases/:alias',
    {
      schema: {
        tags,
        security,
        summary: 'Delete an alias (its collection stays)',
        params: aliasParamsSchema,
        response: responses({ 204: noContent }),
      },
    },
    async (request, reply) => {
      await service.deleteAlias(request.params.alias);
      return reply.code(204).send();
    },
  );
}
