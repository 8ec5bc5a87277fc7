/**
 * Per-client-IP rate limit on `/v1/*` (@fastify/rate-limit, in-memory store): at most `max` requests per
 * `timeWindowMs` window, then 429 RATE_LIMITED in the error envelope with `Retry-After` (seconds) and the
 * `x-ratelimit-*` headers. Off unless `max > 0` (SPLADEX_RATE_LIMIT_MAX; API.md keeps /health, /ready,
 * /metrics, /docs and / open, so they are never limited). Behind a proxy every client shares the proxy's address
 * unless Fastify's `trustProxy` is set; limit at the proxy then. Registered by app.ts before the routes.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpladexError } from '../core/errors.js';

export interface RateLimitOptions {
  /** Requests per window per client IP; 0 = off. */
  max: number;
  /** Window length, ms. */
  timeWindowMs: number;
}

function isApiRequest(request: FastifyRequest): boolean {
  return request.url.startsWith('/v1') || (request.routeOptions.url ?? '').startsWith('/v1');
}

/** Registers the limiter (a no-op when `options` is absent or `max` is 0). */
export async function registerRateLimit(app: FastifyInstance, options: RateLimitOptions | undefined): Promise<void> {
  if (options === undefined || options.max <= 0) return;
  await app.register(rateLimit, {
    global: true,
    max: options.max,
    timeWindow: options.timeWindowMs,
    // Checked before body parsing, so an over-limit client costs no JSON parse.
    hook: 'onRequest',
    allowList: (request) => !isApiRequest(request),
    keyGenerator: (request) => request.ip,
    // Thrown by the plugin; the error handler turns it into the envelope (429 RATE_LIMITED).
    errorResponseBuilder: (_request, context) =>
      new SpladexError(
        'RATE_LIMITED',
        `rate limit: at most ${context.max} requests per ${options.timeWindowMs} ms from one address; retry in ${context.after}`,
      ),
  });
}
