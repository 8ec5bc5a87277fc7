/**
 * The Fastify app factory: wires body parsers, zod validation + OpenAPI, auth, request ids and logging,
 * metrics, the error envelope and all routes of API.md around an already-open search service. No listening and
 * no environment reads here (src/main.ts does both), so tests build apps freely and drive them with `inject`.
 *
 * Request ids: an incoming `x-request-id` (≤ 128 safe characters) is reused, otherwise a UUID is generated; the
 * id is logged with every line of the request and returned in the `x-request-id` response header.
 * Timeouts: `requestTimeoutMs` bounds receiving a request (Node's server `requestTimeout`, a slow-client guard)
 * and the run time of read-only routes (503 BUSY past it, see routes-search.ts). Node only checks the request
 * deadline every `connectionsCheckingInterval` (default 30 s), so a trickled body was cut at ~80 s with a 30 s
 * limit; the interval is set to a tenth of the limit (at most 1 s), so it is honoured within ~10%.
 * Hook order on each request: Host check, CORS (a preflight is answered here), auth (with failed-auth throttling), media type, back-pressure,
 * readiness, rate limit. Requests the router rejects (a malformed `%zz` path, a parameter over maxParamLength)
 * pass the Host and auth checks first too, then answer 400 / 414 in the envelope.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_LIMITS, type Limits } from '../config/request-schemas.js';
import { createAuthGate, registerAuth, type AuthGate } from './auth.js';
import { registerBackPressure } from './back-pressure.js';
import { registerBodyParsers } from './body-parsers.js';
import { handleClientError } from './client-error.js';
import { registerCors } from './cors.js';
import { hostName, registerHostCheck, registerMediaTypeCheck } from './edge-guards.js';
import { registerErrorHandling, sendError } from './error-handler.js';
import { collectRoutes } from './method-not-allowed.js';
import { createAppMetrics, registerRequestMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { registerAliasRoutes } from './routes-aliases.js';
import { registerClusterRoutes } from './routes-cluster.js';
import { registerCollectionRoutes } from './routes-collections.js';
import { registerDocumentRoutes } from './routes-documents.js';
import { registerOpsRoutes } from './routes-ops.js';
import { registerReadinessGate } from './readiness-gate.js';
import { registerRateLimit, type RateLimitOptions } from './rate-limit.js';
import { registerSearchRoutes } from './routes-search.js';
import { registerSnapshotRoutes } from './routes-snapshots.js';
import type { ServerService } from './service-port.js';

/** Options of `buildApp`. */
export interface AppOptions {
  service: ServerService;
  logger: Logger;
  /** When set, `/v1/*` needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Scoped keys (SPLADEX_API_KEYS, plus SPLADEX_API_KEY as read-write); used instead of `apiKey` when given. */
  apiKeys?: readonly { key: string; scope: 'read' | 'write' }[];
  /** Origins answered with CORS headers (`*` = any); undefined = CORS off (cors.ts). */
  corsOrigins?: readonly string[];
  /** Overrides of `service.limits` for request validation (tests use small ones); the service applies its own. */
  limits?: Partial<Limits>;
  /** Largest accepted request body in bytes (API.md: 32 MiB). */
  maxBodyBytes?: number;
  /** Deadline for receiving a request and for read-only routes, ms (default 30 s). */
  requestTimeoutMs?: number;
  /** Folder of the web page (default src/server/web/). */
  webDir?: string;
  /** Shed `/v1/*` requests with 503 BUSY while the event loop lags more than this (ms); 0 = off (default). */
  maxEventLoopDelayMs?: number;
  /** Data directory; stripped from CORRUPT_INDEX messages so they name files relative to it. */
  dataDir?: string;
  /** Per-client-IP limit on /v1/* requests (rate-limit.ts); absent or max 0 = off. */
  rateLimit?: RateLimitOptions;
  /** Failed authentications per client IP per window before 429 (auth.ts); default 10 per 60 s, 0 = off. */
  authFailMax?: number;
  authFailWindowMs?: number;
  /** Host names answered (edge-guards.ts, 421 otherwise); undefined = any host. */
  allowedHosts?: readonly string[];
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const PKG_VERSION = '0.1.0';

/** Reuses a well-formed `x-request-id`, else generates a UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  const v = Array.isArray(h) ? h[0] : h;
  return v !== undefined && REQUEST_ID_RE.test(v) ? v : randomUUID();
}

/**
 * Builds the app (routes registered and ready); the caller listens or injects, and closes it. The service is
 * not closed by `app.close()`: its owner (main.ts) closes it after the app has drained.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const service = options.service;
  const limits: Limits = { ...DEFAULT_LIMITS, ...service.limits, ...options.limits };

  const authGate: AuthGate = createAuthGate(options.apiKeys ?? options.apiKey, {
    failMax: options.authFailMax ?? 10,
    failWindowMs: options.authFailWindowMs ?? 60_000,
  });
  const allowedHosts = options.allowedHosts === undefined ? undefined : new Set(options.allowedHosts.map((h) => hostName(h)));
  const app = Fastify({
    // pino 10 and Fastify's bundled pino types differ only nominally.
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    bodyLimit: maxBodyBytes,
    requestTimeout: requestTimeoutMs,
    // requestTimeout here too: Node checks headersTimeout <= requestTimeout when the server is created, before
    // Fastify sets requestTimeout, so a timeout above Node's default (300 s) failed at startup.
    http: {
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(requestTimeoutMs / 10))),
      headersTimeout: requestTimeoutMs,
    },
    frameworkErrors: (err, request, reply) => {
      if (allowedHosts !== undefined && !allowedHosts.has(hostName(request.headers.host ?? ''))) {
        return sendError(reply, 421, 'MISDIRECTED_REQUEST', 'host: not an allowed host (SPLADEX_ALLOWED_HOSTS)');
      }
      if (authGate.deny(request, reply) !== undefined) return;
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
        return sendError(reply, 414, 'URI_TOO_LONG', 'path: a path parameter is longer than 4096 characters');
      return sendError(reply, 400, 'INVALID_ARGUMENT', 'path: malformed percent-encoding in the URL');
    },
    // Document ids may be 512 UTF-8 bytes, up to 1,536 characters once percent-encoded.
    routerOptions: { maxParamLength: 4096 },
    requestIdHeader: false,
    genReqId: requestIdFor,
    return503OnClosing: true,
    clientErrorHandler: handleClientError,
    // Per-request lines go out at debug (STYLE.md: info is for lifecycle); see the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
  });

  const logRequests = options.logger.isLevelEnabled('debug');
  app.addHook('onResponse', async (request, reply) => {
    if (!logRequests) return;
    request.log.debug(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 1000) / 1000 },
      'request completed',
    );
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Shutdown: `close()` only closes connections idle at that moment, so a keep-alive connection whose request is
  // in flight would then stay open until its keep-alive timeout and stall the shutdown. Answers sent while
  // closing therefore say `Connection: close`, and Node closes each such socket after its response.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  registerBodyParsers(app, limits);
  // Before any route: the 405 answer needs the table of every route (method-not-allowed.ts).
  const routes = collectRoutes(app);
  registerErrorHandling(app, { maxBodyBytes, dataDir: options.dataDir, routes });
  registerHostCheck(app, options.allowedHosts);
  await registerCors(app, options.corsOrigins);
  registerAuth(app, authGate);
  registerMediaTypeCheck(app);
  registerBackPressure(app, options.maxEventLoopDelayMs ?? 0);
  registerReadinessGate(app, service);
  await registerRateLimit(app, options.rateLimit);
  const metrics = createAppMetrics(service);
  app.addHook('onClose', async () => metrics.stop());
  registerRequestMetrics(app, metrics);
  await registerOpenApi(app, PKG_VERSION);

  registerOpsRoutes(app, service, metrics, options.webDir);
  registerCollectionRoutes(app, service, options.dataDir);
  registerAliasRoutes(app, service);
  registerSnapshotRoutes(app, service, metrics);
  registerDocumentRoutes(app, service, limits);
  registerSearchRoutes(app, service, { metrics, limits, requestTimeoutMs });
  registerClusterRoutes(app, service);

  await app.ready();
  return app;
}
