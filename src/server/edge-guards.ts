/**
 * Edge guards that run before auth's verdict matters to anyone else: the `Host` check (DNS rebinding) and the
 * media-type rules for request bodies (simple cross-site requests, charsets).
 *
 * - Host: when `allowedHosts` is set, a request whose `Host` (port stripped, case-insensitive) is not in it is
 *   answered 421 in the error envelope. A page on an attacker's domain that rebinds its name to 127.0.0.1 sends its
 *   own name as Host, so a loopback-bound server that only answers loopback names cannot be read that way.
 *   src/main.ts picks the list (SPLADEX_ALLOWED_HOSTS; default loopback names when bound to loopback).
 * - Media type: a POST (with or without a body) and a PUT with a body must say `application/json` or
 *   `application/x-ndjson`, and a DELETE that carries a body must say `application/json`; else 415. A browser sends a cross-site POST
 *   without a preflight only for text/plain, form or multipart bodies, so requiring JSON makes every write
 *   preflighted. A `charset` other than utf-8 is 415 too (the parsers decode UTF-8 only).
 * Registered by app.ts: the Host check first, the media-type check after auth (an unauthenticated client learns
 * nothing but 401).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';

/** Lower-cased host name of a Host header without its port (`[::1]:8080` → `[::1]`). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Installs the Host check; a no-op when `allowedHosts` is undefined (any host). */
export function registerHostCheck(app: FastifyInstance, allowedHosts: readonly string[] | undefined): void {
  if (allowedHosts === undefined) return;
  const allowed = new Set(allowedHosts.map((h) => hostName(h)));
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const host = request.headers.host;
    if (host !== undefined && allowed.has(hostName(host))) return;
    const shown = host === undefined ? 'missing' : JSON.stringify(host.slice(0, 200));
    return sendError(reply, 421, 'MISDIRECTED_REQUEST', `host: ${shown} is not an allowed host (SPLADEX_ALLOWED_HOSTS)`);
  });
}

const BODY_TYPES = new Set(['application/json', 'application/x-ndjson']);

/** Media type and charset of a Content-Type header, lower-cased (`charset` null when absent). */
export function parseContentType(header: string): { type: string; charset: string | null } {
  const parts = header.split(';');
  const type = parts[0].trim().toLowerCase();
  let charset: string | null = null;
  for (let i = 1; i < parts.length; i++) {
    const eq = parts[i].indexOf('=');
    if (eq < 0) continue;
    if (parts[i].slice(0, eq).trim().toLowerCase() === 'charset')
      charset = parts[i]
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '')
        .toLowerCase();
  }
  return { type, charset };
}

function hasBody(request: FastifyRequest): boolean {
  const len = request.headers['content-length'];
  return (len !== undefined && len !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/** The 415 message for this request's media type, or null when it is acceptable. */
export function mediaTypeProblem(request: FastifyRequest): string | null {
  const method = request.method;
  const header = request.headers['content-type'];
  // POST always (a bodyless cross-site POST is a simple request too); PUT and DELETE only with a body (a browser
  // preflights them anyway; `PUT /v1/collections/x` with no body stays valid).
  const needsType = method === 'POST' || method === 'PATCH' || ((method === 'PUT' || method === 'DELETE') && hasBody(request));
  if (header === undefined) {
    return needsType
      ? `content-type: required on ${method}; send application/json${method === 'DELETE' ? '' : ' (or application/x-ndjson for documents)'}`
      : null;
  }
  const { type, charset } = parseContentType(header);
  if (charset !== null && charset !== 'utf-8' && charset !== 'utf8')
    return `content-type: charset "${charset}" is not supported; send utf-8`;
  if (!needsType) return null;
  if (method === 'DELETE' ? type !== 'application/json' : !BODY_TYPES.has(type)) {
    return 'content-type: unsupported; send application/json (or application/x-ndjson for documents)';
  }
  return null;
}

/** Installs the media-type check on every route. */
export function registerMediaTypeCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const problem = mediaTypeProblem(request);
    if (problem !== null) return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', problem);
  });
}
