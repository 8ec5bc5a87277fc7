/**
 * Operational routes, open even when an API key is set (API.md "Health and operations"): /health (the process
 * serves), /ready (503 until the service has loaded collections and warmed encoders), /metrics (Prometheus
 * text), and the web page at / (src/server/web/index.html when present, else a placeholder) with its assets at
 * /web/<file> (flat names only, so no path can leave the web folder).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sendError } from './error-handler.js';
import type { AppMetrics } from './metrics.js';
import { errorEnvelopeSchema, healthResponse, metricsResponse, readyResponse, type ZodTypeProvider } from './route-schemas.js';
import type { ServerService } from './service-port.js';

/** Where the web page lives (written by the web page's owner; optional). */
export const WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};
const WEB_FILE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_-]*(?:\.[a-zA-Z0-9_-]+)*\.(?:html|js|css|svg|png|ico|json)$/;

const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spladex</title></head>
<body><h1>spladex</h1><p>The search page is not installed. The API is described at <a href="/docs">/docs</a>;
health at <a href="/health">/health</a>, metrics at <a href="/metrics">/metrics</a>.</p></body></html>
`;

async function readOptional(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return null;
    throw e;
  }
}

/** Registers /health, /ready, /metrics, / and /web/:file. `webDir` is overridable for tests. */
export function registerOpsRoutes(fastify: FastifyInstance, service: ServerService, metrics: AppMetrics, webDir = WEB_DIR): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['operations'];
  app.get('/health', { schema: { tags, summary: 'Liveness', response: { 200: healthResponse } } }, async () => ({ status: 'ok' }));

  app.get(
    '/ready',
    {
      schema: {
        tags,
        summary: 'Readiness: 200 once collections are loaded and encoders warmed',
        response: { 200: readyResponse, 503: errorEnvelopeSchema },
      },
    },
    async (_request, reply) => {
      if (service.isReady() && (service.clusterReady?.() ?? true)) return { status: 'ready' };
      if (service.isReady()) return sendError(reply, 503, 'BUSY', 'not ready: a shard has no live replica (see GET /v1/cluster)', 1);
      return sendError(reply, 503, 'BUSY', 'not ready: collections are loading or encoders warming', 1);
    },
  );

  app.get(
    '/metrics',
    { schema: { tags, summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: metricsResponse } } },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    },
  );

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const page = await readOptional(path.join(webDir, 'index.html'));
    return reply.type('text/html; charset=utf-8').send(page ?? PLACEHOLDER_HTML);
  });

  app.get(
    '/web/:file',
    { schema: { hide: true, params: z.object({ file: z.string().regex(WEB_FILE_RE, 'must be a plain file name') }) } },
    async (request, reply) => {
      const file = request.params.file;
      const body = await readOptional(path.join(webDir, file));
      if (body === null) return sendError(reply, 404, 'NOT_FOUND', `web file ${file} not found`);
      return reply.type(CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream').send(body);
    },
  );
}
