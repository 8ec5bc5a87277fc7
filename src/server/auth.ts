/**
 * API-key authentication (API.md "Auth"): when a key is configured, every `/v1/*` request (including unknown
 * `/v1/*` routes, so the route table is not probeable) must carry `Authorization: Bearer <key>`, else 401
 * UNAUTHENTICATED. `/health`, `/ready`, `/metrics`, `/docs`, `/` stay open. Keys are compared in constant time
 * over their SHA-256 digests, so neither content nor length leaks through timing. Registered by app.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** True when `header` is `Bearer <apiKey>` (scheme case-insensitive), compared in constant time. */
export function checkBearer(header: string | undefined, apiKeyDigest: Buffer): boolean {
  if (header === undefined) return false;
  const m = /^Bearer[ \t]+(.+)$/i.exec(header.trim());
  if (m === null) return false;
  return timingSafeEqual(digest(m[1]), apiKeyDigest);
}

function isProtected(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/') || path.startsWith('/v1?');
}

/** Installs the onRequest hook; a no-op when `apiKey` is undefined or empty. */
export function registerAuth(app: FastifyInstance, apiKey: string | undefined): void {
  if (apiKey === undefined || apiKey === '') return;
  const keyDigest = digest(apiKey);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // Both the raw URL and the matched route pattern are checked, so an encoded or odd spelling of a /v1 path
    // that still routes to a /v1 handler cannot bypass the check.
    if (!isProtected(request.url) && !isProtected(request.routeOptions.url ?? '')) return;
    if (checkBearer(request.headers.authorization, keyDigest)) return;
    reply.header('www-authenticate', 'Bearer');
    return sendError(reply, 401, 'UNAUTHENTICATED', 'authorization: a valid "Bearer <api key>" header is required');
  });
}
