/**
 * Search and encode routes (API.md "Search", "Encode"): single search, batch search (same order as asked) and
 * text encoding. Bodies are parsed at the edge with the shared request schemas (limits applied), so the service
 * receives typed `SearchRequest`s. These routes only read, so they carry a deadline: past `requestTimeoutMs`
 * the client gets 503 BUSY with Retry-After (the work itself is not cancelled; it finishes and is dropped).
 * Write routes have no such deadline: a timed-out write would leave the client unsure whether it happened.
 */
import type { FastifyInstance } from 'fastify';
import { SpladexError } from '../core/errors.js';
import { batchSearchSchema, EncodeRequestSchema, searchRequestSchema, type Limits, type SearchRequest } from '../config/request-schemas.js';
import { LazySearchBatch } from './lazy-batch.js';
import { zodValidatorCompiler } from './openapi.js';
import {
  batchSearchExample,
  batchSearchResponse,
  collectionParamsSchema,
  encodeExample,
  encodeResponse,
  responses,
  searchExample,
  searchResponse,
  type ZodTypeProvider,
} from './route-schemas.js';
import type { ServerService } from './service-port.js';
import type { AppMetrics } from './metrics.js';

/** Resolves like `work`, or rejects with BUSY once `ms` have passed (the timer never keeps the process alive). */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SpladexError('BUSY', `${what}: did not finish within ${ms} ms`, { retryAfterSeconds: 1 })), ms);
    timer.unref();
  });
  // The losing promise's rejection must not go unhandled.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Options of `registerSearchRoutes`. */
export interface SearchRouteOptions {
  metrics: AppMetrics;
  /** Bounds for request validation (k, terms, batch size, text length). */
  limits: Limits;
  /** Deadline of each search/encode request, ms. */
  requestTimeoutMs: number;
}

/** Registers search, batch search and encode. */
export function registerSearchRoutes(fastify: FastifyInstance, service: ServerService, options: SearchRouteOptions): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const security = [{ bearer: [] }];
  const { metrics, limits, requestTimeoutMs } = options;

  app.post(
    '/v1/collections/:name/search',
    {
      schema: {
        tags: ['search'],
        security,
        summary: 'Top-k search by text, sparse vector and/or dense vector',
        params: collectionParamsSchema,
        body: searchRequestSchema(limits).meta({ examples: [searchExample] }),
        response: responses({ 200: searchResponse }),
      },
    },
    async (request) => {
      const t0 = performance.now();
      const result = await withDeadline(service.search(request.params.name, request.body), requestTimeoutMs, 'search');
      metrics.observeSearch(request.params.name, 'single', (performance.now() - t0) / 1000);
      return result;
    },
  );

  app.post(
    '/v1/collections/:name/search/batch',
    {
      config: { searchBatch: true },
      // The body parser hands over a LazySearchBatch, validated search by search as it is read (lazy-batch.ts).
      validatorCompiler: (part) => {
        const zod = zodValidatorCompiler(part);
        return part.httpPart === 'body' ? (data: unknown) => (data instanceof LazySearchBatch ? { value: data } : zod(data)) : zod;
      },
      schema: {
        tags: ['search'],
        security,
        summary: 'Several searches in one request; results in the same order',
        params: collectionParamsSchema,
        body: batchSearchSchema(limits).meta({ examples: [batchSearchExample] }),
        response: responses({ 200: batchSearchResponse }),
      },
    },
    async (request, reply) => {
      const t0 = performance.now();
      const { name } = request.params;
      // A LazySearchBatch (the usual body: searches parsed as the service reads them) or the body validated whole.
      const body = request.body as unknown as LazySearchBatch | { searches: SearchRequest[] };
      const lazy = body instanceof LazySearchBatch ? body : null;
      if (service.searchBatchJson !== undefined) {
        let json: Buffer;
        try {
          // Serialised result by result while the batch runs (spladex-service.ts); Fastify sends the bytes as
          // they are.
          json = await withDeadline(
            service.searchBatchJson(name, lazy ?? (body as { searches: SearchRequest[] }).searches),
            requestTimeoutMs,
            'search',
          );
        } catch (err) {
          // A body error wins over a search's, with the message the whole-body validation gives (lazy-batch.ts).
          throw (await lazy?.rejection()) ?? err;
        }
        metrics.observeSearch(name, 'batch', (performance.now() - t0) / 1000);
        return reply.type('application/json; charset=utf-8').send(json);
      }
      const searches = lazy !== null ? await lazy.all() : (body as { searches: SearchRequest[] }).searches;
      const results = await withDeadline(service.searchBatch(name, searches), requestTimeoutMs, 'search');
      metrics.observeSearch(name, 'batch', (performance.now() - t0) / 1000);
      return { results };
    },
  );

  app.post(
    '/v1/encode',
    {
      schema: {
        tags: ['encode'],
        security,
        summary: 'Encode texts into sparse vectors',
        body: EncodeRequestSchema.meta({ examples: [encodeExample] }),
        response: responses({ 200: encodeResponse }),
      },
    },
    async (request) => withDeadline(service.encode(request.body), requestTimeoutMs, 'encode'),
  );
}
