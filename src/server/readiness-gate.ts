/**
 * Readiness gate: while the search service is still opening its collections (src/main.ts listens first and loads
 * in the background), `/v1/*` requests are answered 503 BUSY with `Retry-After: 1` instead of seeing a partial
 * set of collections (a lookup would say NOT_FOUND, a create could race the load). `/health` stays 200 and
 * `/ready` 503 meanwhile (routes-ops.ts), so an orchestrator waits for `/ready`. Registered by app.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';
import type { ServerService } from './service-port.js';

/** Installs the onRequest hook; once the service is ready the hook costs one boolean check per request. */
export function registerReadinessGate(app: FastifyInstance, service: ServerService): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (service.isReady()) return;
    if (!request.url.startsWith('/v1') && !(request.routeOptions.url ?? '').startsWith('/v1')) return;
    return sendError(reply, 503, 'BUSY', 'not ready: collections are loading; retry later', 1);
  });
}
