/**
 * The OpenAPI document at /docs/json against the app itself: every route the app registered is documented, every
 * field of every request body, parameter and response carries a description, every body route has an example,
 * and each example passes the zod schema that route validates with (so neither descriptions nor examples can
 * fall behind the schemas). The error envelope's code enum is core/errors.ts's list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ERROR_CODES } from '../src/core/errors.js';
import { DEFAULT_LIMITS, documentSchema } from '../src/config/request-schemas.js';
import { registeredRoutes } from '../src/server/openapi.js';
import { isZodSchema } from '../src/server/validation.js';
import { startTestServer, type TestServer } from './server-harness.js';

type Json = Record<string, unknown>;

/** Paths (`a.b[].c`) of object properties under `schema` that have no description. */
function undescribed(schema: unknown, at: string, out: string[]): string[] {
  if (typeof schema !== 'object' || schema === null) return out;
  const s = schema as Json;
  if (typeof s.properties === 'object' && s.properties !== null) {
    for (const [key, prop] of Object.entries(s.properties as Json)) {
      const p = prop as Json;
      if (typeof p.description !== 'string' || p.description.length === 0) out.push(`${at}.${key}`);
      undescribed(p, `${at}.${key}`, out);
    }
  }
  if (s.items !== undefined) undescribed(s.items, `${at}[]`, out);
  if (typeof s.additionalProperties === 'object') undescribed(s.additionalProperties, `${at}{}`, out);
  for (const k of ['anyOf', 'oneOf', 'allOf'])
    if (Array.isArray(s[k])) for (const [i, sub] of (s[k] as unknown[]).entries()) undescribed(sub, `${at}|${i}`, out);
  return out;
}

describe('OpenAPI document (/docs/json)', () => {
  let s: TestServer;
  let doc: { paths: Record<string, Record<string, Json>>; components: Json };
  const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  const apiRoutes = () => registeredRoutes(s.app).filter((r) => r.schema?.hide !== true && !r.url.startsWith('/docs'));

  beforeAll(async () => {
    s = await startTestServer();
    doc = (await s.call('GET', '/docs/json')).json();
  });
  afterAll(async () => {
    await s.close();
  });

  it('documents every route the app registered, and only those', () => {
    const routes = apiRoutes();
    expect(routes.length).toBe(24);
    for (const r of routes) expect(doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined();
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${openApiPath(r.url)}`).sort());
  });

  it('describes every field of every request body, parameter and response', () => {
    const missing: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const where = `${m.toUpperCase()} ${p}`;
        for (const param of (op.parameters ?? []) as Json[]) {
          if (typeof param.description !== 'string') missing.push(`${where} ${String(param.in)} ${String(param.name)}`);
        }
        const body = op.requestBody as { content: Record<string, { schema: unknown }> } | undefined;
        for (const [type, media] of Object.entries(body?.content ?? {})) undescribed(media.schema, `${where} body(${type})`, missing);
        for (const [status, res] of Object.entries(
          (op.responses ?? {}) as Record<string, { content?: Record<string, { schema: unknown }> }>,
        )) {
          for (const media of Object.values(res.content ?? {})) undescribed(media.schema, `${where} ${status}`, missing);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents a success response for every route (a body, or 204 No Content)', () => {
    const without: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const responses = (op.responses ?? {}) as Record<string, { content?: Record<string, { schema?: Json }> }>;
        const ok = Object.entries(responses).filter(([status]) => status.startsWith('2'));
        if (
          ok.length === 0 ||
          !ok.every(
            ([status, r]) =>
              status === '204' ||
              Object.values(r.content ?? {}).some((c) => c.schema?.description !== undefined || c.schema?.properties !== undefined),
          )
        ) {
          without.push(`${m.toUpperCase()} ${p}`);
        }
      }
    }
    expect(without).toEqual([]);
  });

  it('gives every body route an example that passes the route’s own zod schema', () => {
    const withBody = apiRoutes().filter((r) => isZodSchema(r.schema?.body));
    expect(withBody.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'PATCH /v1/collections/:name/documents/:id',
      'POST /v1/collections/:name/count',
      'POST /v1/collections/:name/documents',
      'POST /v1/collections/:name/documents/delete',
      'POST /v1/collections/:name/optimize',
      'POST /v1/collections/:name/restore',
      'POST /v1/collections/:name/search',
      'POST /v1/collections/:name/search/batch',
      'POST /v1/encode',
      'PUT /v1/aliases/:alias',
      'PUT /v1/collections/:name',
    ]);
    for (const r of withBody) {
      const op = doc.paths[openApiPath(r.url)][r.method.toLowerCase()] as {
        requestBody: { content: Record<string, { example?: unknown }> };
      };
      const example = op.requestBody.content['application/json'].example;
      expect(example, `${r.method} ${r.url}`).toBeDefined();
      const parsed = (r.schema as { body: z.ZodType }).body.safeParse(example);
      expect(parsed.error?.issues ?? [], `${r.method} ${r.url}`).toEqual([]);
    }
    // The upsert envelope leaves documents to the service; the example's documents pass the document schema.
    const upsert = doc.paths['/v1/collections/{name}/documents'].post as {
      requestBody: { content: Record<string, { example: { documents: unknown[] } }> };
    };
    const documents = upsert.requestBody.content['application/json'].example.documents;
    expect(documents.length).toBeGreaterThan(0);
    for (const d of documents) expect(documentSchema(DEFAULT_LIMITS).safeParse(d).error?.issues ?? []).toEqual([]);
  });

  it('the examples are answered by the real routes (not 400)', async () => {
    // In the order a client would send them: create, fill, optimize, then read.
    const order = [
      'PUT /v1/collections/{name}',
      'POST /v1/collections/{name}/documents',
      'POST /v1/collections/{name}/optimize',
      'POST /v1/collections/{name}/search',
      'POST /v1/collections/{name}/search/batch',
      'POST /v1/encode',
      'PUT /v1/aliases/{alias}',
      'POST /v1/collections/{name}/count',
      'PATCH /v1/collections/{name}/documents/{id}',
      'POST /v1/collections/{name}/documents/delete',
    ];
    for (const route of order) {
      const [method, p] = route.split(' ');
      const op = doc.paths[p][method.toLowerCase()] as { requestBody: { content: Record<string, { example: unknown }> } };
      const url = p.replace('{name}', 'docs-example').replace('{alias}', 'docs-alias').replace('{id}', 'doc-1');
      const res = await s.call(method, url, op.requestBody.content['application/json'].example);
      expect(res.statusCode, `${route}: ${res.body}`).toBeLessThan(300);
      if (route.endsWith('/documents')) expect(res.json()).toEqual({ indexed: 2, errors: [] });
      if (route.endsWith('/search')) expect(res.json().hits.length).toBeGreaterThan(0);
      if (route.endsWith('/count')) expect(res.json()).toEqual({ count: 2 });
      if (route.endsWith('/delete')) expect(res.json()).toEqual({ deleted: 2 });
    }
  });

  it('the error envelope lists the codes of core/errors.ts', () => {
    const search = doc.paths['/v1/collections/{name}/search'].post as {
      responses: Record<string, { content: Record<string, { schema: Json }> }>;
    };
    const envelope = search.responses['4XX'].content['application/json'].schema as { properties: Record<string, Json> };
    expect(envelope.properties.code.enum).toEqual([...ERROR_CODES]);
    expect(envelope.properties.code.enum).toContain('RATE_LIMITED');
  });
});
