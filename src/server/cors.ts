/**
 * CORS (SPLADEX_CORS_ORIGINS, off by default) through @fastify/cors: answers get `Access-Control-Allow-Origin`
 * for an allowed `Origin` (`*` in the list = any origin), and a preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) from an allowed origin is answered 204 with the allowed methods and headers in
 * the onRequest hook, before auth and the media-type check (a browser's preflight carries neither the key nor a
 * content type). A preflight from any other origin answers 403 FORBIDDEN in the error envelope, so the browser
 * refuses the real request; simple requests from other origins get no CORS headers (the browser hides the answer).
 * Registered by app.ts after the Host check and before auth; nothing is registered when the list is empty.
 */
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'];

/** True for an `OPTIONS` preflight (it names the method the browser wants to send). */
function isPreflight(request: FastifyRequest): boolean {
  return (
    request.method === 'OPTIONS' && request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined
  );
}

/** Installs CORS for `origins`; a no-op when undefined or empty (CORS off). */
export async function registerCors(app: FastifyInstance, origins: readonly string[] | undefined): Promise<void> {
  if (origins === undefined || origins.length === 0) return;
  const any = origins.includes('*');
  const allowed = new Set(origins);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (any || !isPreflight(request) || allowed.has(request.headers.origin as string)) return;
    const shown = JSON.stringify((request.headers.origin as string).slice(0, 200));
    return sendError(reply, 403, 'FORBIDDEN', `origin: ${shown} is not an allowed origin (SPLADEX_CORS_ORIGINS)`);
  });
  await app.register(cors, {
    origin: any ? '*' : [...origins],
    methods: METHODS,
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
    // A bare OPTIONS (no Origin) is not a preflight; strict mode would answer it 400 in plain text.
    strictPreflight: false,
  });
}
