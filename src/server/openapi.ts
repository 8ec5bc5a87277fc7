/**
 * OpenAPI at /docs, generated from the zod schemas that validate requests (route `schema.body`, `params`,
 * `querystring` are zod; `z.toJSONSchema` converts them for @fastify/swagger, input side, so defaults read as
 * optional). Also installs zod as Fastify's validator compiler (see validation.ts) and a plain JSON serializer,
 * since response schemas here are documentation only. Registered by app.ts before the routes. Records every
 * route's schemas as registered (`registeredRoutes`), so a test can hold the document against the app's routes
 * and each documented example against the zod schema that validates it.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { z } from 'zod';
import { isZodSchema, safeParseForFastify } from './validation.js';

const PARTS = ['body', 'querystring', 'params', 'headers'] as const;

/** A route as registered: its method, URL (`:param` form) and schema (zod parts), the document's input. */
export interface RegisteredRoute {
  method: string;
  url: string;
  schema: Record<string, unknown> | undefined;
}
const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** The routes of `app` (the instance given to `registerOpenApi`), auto-added HEAD routes left out. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

/** zod → JSON Schema for OpenAPI 3.0 documents; refinements and transforms cannot be expressed and are omitted. */
export function toOpenApiSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Fastify's validator for zod route schemas (any other schema passes data through). */
export function zodValidatorCompiler({
  schema,
  httpPart,
}: {
  schema: unknown;
  httpPart?: string;
}): (data: unknown) => { value: unknown } | { error: Error } {
  if (!isZodSchema(schema)) return (data: unknown) => ({ value: data });
  // Fastify hands a missing body over as null; zod schemas that allow an absent body use `.optional()`.
  // Body fields and path parameters are named bare (`k`, `name`); query-string ones under `querystring`.
  const root = httpPart === 'querystring' || httpPart === 'headers' ? httpPart : '';
  return (data: unknown) => safeParseForFastify(schema, httpPart === 'body' && data === null ? undefined : data, root);
}

/** Installs zod validation and serves the OpenAPI document and UI under /docs. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    const schema = route.schema as Record<string, unknown> | undefined;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, schema });
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'spladex REST API', version, description: 'Learned-sparse-retrieval search server. Contract: docs/API.md.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required on /v1/* when SPLADEX_API_KEY is set' } },
      },
    },
    transform: ({ schema, url }) => {
      if (schema === undefined || schema === null) return { schema, url };
      const out: Record<string, unknown> = { ...(schema as Record<string, unknown>) };
      for (const part of PARTS) {
        const s = out[part];
        if (isZodSchema(s)) out[part] = toOpenApiSchema(s);
      }
      const response = out.response as Record<string, unknown> | undefined;
      if (response !== undefined) {
        const converted: Record<string, unknown> = {};
        for (const [status, s] of Object.entries(response)) converted[status] = isZodSchema(s) ? toOpenApiSchema(s) : s;
        out.response = converted;
      }
      return { schema: out as never, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
