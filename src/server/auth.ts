/**
 * API-key authentication (API.md "Auth"): when a key is configured, every `/v1/*` request (including unknown
 * `/v1/*` routes, so the route table is not probeable) must carry `Authorization: Bearer <key>`, else 401
 * UNAUTHENTICATED. `/health`, `/ready`, `/metrics`, `/docs`, `/` stay open. Keys are compared in constant time
 * over their SHA-256 digests, so neither content nor length leaks through timing.
 *
 * Failed-auth throttling: after `failMax` failed attempts from one client address within `failWindowMs`, that
 * address gets 429 RATE_LIMITED (with Retry-After) on `/v1/*` until the window that began with its first failure
 * ends, even with the right key, so guessing costs a window per `failMax` tries. The table of addresses is bounded
 * (MAX_TRACKED_ADDRESSES; expired entries go first, then the oldest), so a spray of addresses cannot grow memory.
 * Registered by app.ts; `AuthGate.deny` is also called for requests the router rejects (app.ts frameworkErrors),
 * so a malformed /v1 URL answers 401 before 400.
 *
 * Scoped keys (SPLADEX_API_KEYS): a `read` key may call the read routes only (every GET, and the POSTs of
 * READ_POST_ROUTES: search, batch search, count, encode); anything else answers 403 FORBIDDEN. The presented key's
 * digest is compared with every configured digest, without stopping at a match, so the position of the matching
 * key does not leak either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';

const MAX_TRACKED_ADDRESSES = 10_000;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** True when `header` is `Bearer <apiKey>` (scheme case-insensitive), compared in constant time. */
export function checkBearer(header: string | undefined, apiKeyDigest: Buffer): boolean {
  return matchBearer(header, [{ digest: apiKeyDigest, scope: 'write' }]) !== null;
}

/** A configured key, as its SHA-256 digest, with its scope. */
interface KeyDigest {
  digest: Buffer;
  scope: ApiKeyScope;
}

/** What a key may do: `read` (searches and reads) or `write` (everything). */
export type ApiKeyScope = 'read' | 'write';

/** The scope of the key `header` carries (`Bearer <key>`), or null; every digest is compared (constant time). */
function matchBearer(header: string | undefined, keys: readonly KeyDigest[]): ApiKeyScope | null {
  if (header === undefined) return null;
  const m = /^Bearer[ \t]+(.+)$/i.exec(header.trim());
  if (m === null) return null;
  const presented = digest(m[1]);
  let scope: ApiKeyScope | null = null;
  for (const k of keys) if (timingSafeEqual(presented, k.digest) && scope !== 'write') scope = k.scope;
  return scope;
}

/** POST routes a read-only key may call (route patterns); every GET and HEAD is a read too. */
const READ_POST_ROUTES = new Set([
  '/v1/collections/:name/search',
  '/v1/collections/:name/search/batch',
  '/v1/collections/:name/count',
  '/v1/encode',
]);

/** True when `method` on the route pattern `route` only reads (what a read-only key may do). */
export function isReadRoute(method: string, route: string | undefined): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  return method === 'POST' && route !== undefined && READ_POST_ROUTES.has(route);
}

function isProtected(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/') || path.startsWith('/v1?');
}

/** Failed-auth throttling options; `failMax` 0 = off. */
export interface AuthThrottleOptions {
  failMax: number;
  failWindowMs: number;
}

/** Decides whether a request may proceed; `deny` answers it (401 or 429) and returns the reply when not. */
export interface AuthGate {
  deny(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
}

interface Failures {
  count: number;
  windowEndsAt: number;
}

/**
 * Builds the gate from one read-write key or a list of scoped keys; `deny` never answers when no key is set.
 */
export function createAuthGate(
  apiKeys: string | readonly { key: string; scope: ApiKeyScope }[] | undefined,
  throttle: AuthThrottleOptions,
): AuthGate {
  const list = typeof apiKeys === 'string' ? [{ key: apiKeys, scope: 'write' as const }] : (apiKeys ?? []);
  const keys: KeyDigest[] = list.filter((k) => k.key !== '').map((k) => ({ digest: digest(k.key), scope: k.scope }));
  if (keys.length === 0) return { deny: () => undefined };
  const failures = new Map<string, Failures>();

  const recordFailure = (ip: string, now: number): void => {
    if (throttle.failMax <= 0) return;
    let f = failures.get(ip);
    if (f === undefined || f.windowEndsAt <= now) {
      if (failures.size >= MAX_TRACKED_ADDRESSES) evict(failures, now);
      f = { count: 0, windowEndsAt: now + throttle.failWindowMs };
      failures.delete(ip);
      failures.set(ip, f);
    }
    f.count++;
  };

  return {
    deny(request, reply) {
      // Both the raw URL and the matched route pattern are checked, so an encoded or odd spelling of a /v1 path
      // that still routes to a /v1 handler cannot bypass the check.
      if (!isProtected(request.url) && !isProtected(request.routeOptions.url ?? '')) return undefined;
      const now = Date.now();
      const f = failures.get(request.ip);
      if (f !== undefined && f.windowEndsAt > now && f.count >= throttle.failMax && throttle.failMax > 0) {
        return sendError(
          reply,
          429,
          'RATE_LIMITED',
          `authorization: at most ${throttle.failMax} failed authentications per ${throttle.failWindowMs} ms from one address; retry later`,
          (f.windowEndsAt - now) / 1000,
        );
      }
      const scope = matchBearer(request.headers.authorization, keys);
      if (scope === 'write') return undefined;
      if (scope === 'read') {
        if (request.is404 || isReadRoute(request.method, request.routeOptions.url)) return undefined;
        return sendError(
          reply,
          403,
          'FORBIDDEN',
          `authorization: this API key is read-only; ${request.method} ${request.routeOptions.url} writes`,
        );
      }
      recordFailure(request.ip, now);
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 401, 'UNAUTHENTICATED', 'authorization: a valid "Bearer <api key>" header is required');
    },
  };
}

function evict(failures: Map<string, Failures>, now: number): void {
  for (const [ip, f] of failures) if (f.windowEndsAt <= now) failures.delete(ip);
  // Still full: drop the oldest (a Map iterates in insertion order).
  while (failures.size >= MAX_TRACKED_ADDRESSES) {
    const first = failures.keys().next();
    if (first.done === true) break;
    failures.delete(first.value);
  }
}

/** Installs the onRequest hook of `gate`. */
export function registerAuth(app: FastifyInstance, gate: AuthGate): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => gate.deny(request, reply));
}
