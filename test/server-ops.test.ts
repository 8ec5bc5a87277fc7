/**
 * Operational routes and cross-cutting behaviour through `app.inject` on the real service: /health, /ready
 * (200, then 503 once the service is closed), /metrics (per-app registry, request and search metrics, collection
 * gauges), /docs (OpenAPI generated from the zod schemas), the web page, request ids, and API-key auth.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_DIR } from '../src/server/routes-ops.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

describe('health, ready, metrics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it('GET /health → 200 ok', async () => {
    const res = await s.call('GET', '/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /metrics reports requests, search latency per collection and collection gauges', async () => {
    await s.call('PUT', '/v1/collections/m1', {});
    await s.call('POST', '/v1/collections/m1/documents', {
      documents: [
        { id: 'a', text: 'one two' },
        { id: 'b', text: 'three' },
      ],
    });
    await s.call('POST', '/v1/collections/m1/search', { query: 'one' });
    await s.call('POST', '/v1/collections/m1/search', { query: 'two' });
    await s.call('GET', '/no/such/route');
    const res = await s.call('GET', '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toContain('spladex_http_requests_total{method="POST",route="/v1/collections/:name/search",status_code="200"} 2');
    expect(text).toContain('spladex_http_requests_total{method="GET",route="unmatched",status_code="404"} 1');
    expect(text).toMatch(
      /spladex_http_request_duration_seconds_count\{method="POST",route="\/v1\/collections\/:name\/documents",status_code="200"\} 1/,
    );
    expect(text).toContain('spladex_search_duration_seconds_count{collection="m1",kind="single"} 2');
    expect(text).toContain('spladex_collection_documents{collection="m1"} 2');
    expect(text).toContain('spladex_memtable_documents{collection="m1"} 2');
    expect(text).toContain('spladex_segments{collection="m1"} 0');
    expect(text).toContain('spladex_encoder_queue_depth 0');
  });

  it('GET /metrics reports process metrics: resident memory, CPU, heap, event-loop lag, GC', async () => {
    const text = (await s.call('GET', '/metrics')).body;
    const rss = /^process_resident_memory_bytes (\d+)$/m.exec(text);
    expect(rss).not.toBeNull();
    // Within 5% of what the process reads itself (the scrape and this read are a few ms apart).
    expect(Number(rss?.[1])).toBeGreaterThan(process.memoryUsage.rss() * 0.95 - 1);
    expect(Number(rss?.[1])).toBeLessThan(process.memoryUsage.rss() * 1.05);
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('each app has its own registry', async () => {
    const other = await startTestServer();
    try {
      const text = (await other.call('GET', '/metrics')).body;
      expect(text).not.toContain('collection="m1"');
      expect(text).not.toContain('route="/v1/collections/:name/search"');
      // Process metrics come from one process-wide registry, appended to every app's exposition (once each).
      expect(text.match(/^process_resident_memory_bytes \d+$/gm)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('GET /ready → 200 while ready, 503 BUSY with Retry-After once the service has closed', async () => {
    const ok = await s.call('GET', '/ready');
    expect(ok.statusCode).toBe(200);
    const other = await startTestServer();
    await other.service.close();
    const res = await other.call('GET', '/ready');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(errorOf(res).code).toBe('BUSY');
    await other.close();
  });
});

describe('OpenAPI and the web page', () => {
  let s: TestServer;
  let webDir: string;
  beforeAll(async () => {
    webDir = await mkdtemp(path.join(tmpdir(), 'spladex-web-'));
    s = await startTestServer({ webDir, limits: { maxK: 500 } });
  });
  afterAll(async () => {
    await s.close();
    await rm(webDir, { recursive: true, force: true });
  });

  it('GET /docs serves the UI and /docs/json the document built from the zod schemas', async () => {
    const ui = await s.call('GET', '/docs');
    expect([200, 302]).toContain(ui.statusCode);
    const html = ui.statusCode === 302 ? await s.call('GET', ui.headers.location as string) : ui;
    expect(html.body).toContain('swagger');
    const doc = (await s.call('GET', '/docs/json')).json();
    expect(doc.openapi).toBe('3.0.3');
    const searchBody = doc.paths['/v1/collections/{name}/search'].post.requestBody.content['application/json'].schema;
    expect(searchBody.properties.k).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });
    expect(searchBody.additionalProperties).toBe(false);
    const searchResponses = doc.paths['/v1/collections/{name}/search'].post.responses;
    expect(Object.keys(searchResponses['200'].content['application/json'].schema.properties).sort()).toEqual([
      'hits',
      'nextCursor',
      'stats',
      'took',
      'total',
      'warnings',
    ]);
    expect(searchResponses['4XX'].content['application/json'].schema.required).toEqual(['statusCode', 'code', 'error', 'message']);
    const put = doc.paths['/v1/collections/{name}'].put;
    expect(put.parameters[0]).toMatchObject({ name: 'name', in: 'path', required: true });
    expect(put.parameters[0].schema.pattern).toBe('^[a-z0-9][a-z0-9_-]{0,63}$');
    const upsert = doc.paths['/v1/collections/{name}/documents'].post.requestBody.content;
    expect(Object.keys(upsert).sort()).toEqual(['application/json', 'application/x-ndjson']);
    expect(upsert['application/json'].schema.properties.documents.items.properties.id.type).toBe('string');
    for (const p of [
      '/health',
      '/ready',
      '/metrics',
      '/v1/collections',
      '/v1/collections/{name}/optimize',
      '/v1/collections/{name}/documents/{id}',
      '/v1/collections/{name}/search/batch',
      '/v1/encode',
    ]) {
      expect(doc.paths, p).toHaveProperty([p]);
    }
  });

  it('GET / serves a placeholder until the page exists, then the page; /web/ files too', async () => {
    const placeholder = await s.call('GET', '/');
    expect(placeholder.statusCode).toBe(200);
    expect(placeholder.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(placeholder.body).toContain('/docs');
    await writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>spladex search</title>');
    await writeFile(path.join(webDir, 'app.js'), 'export {};');
    expect((await s.call('GET', '/')).body).toBe('<!doctype html><title>spladex search</title>');
    const js = await s.call('GET', '/web/app.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await s.call('GET', '/web/missing.js')).statusCode).toBe(404);
    expect((await s.call('GET', '/web/..%2Fsecret.js')).statusCode).toBe(400);
  });
});

describe('the shipped web page', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it('serves src/server/web/index.html at / and every asset in the folder under /web/', async () => {
    const files = await readdir(WEB_DIR).catch(() => [] as string[]);
    const page = await s.call('GET', '/');
    expect(page.statusCode).toBe(200);
    if (files.includes('index.html')) expect(page.body).toBe(await readFile(path.join(WEB_DIR, 'index.html'), 'utf8'));
    for (const f of files.filter((n) => /\.(js|css|html|svg)$/.test(n))) {
      const res = await s.call('GET', `/web/${f}`);
      expect(res.statusCode, f).toBe(200);
      expect(res.body, f).toBe(await readFile(path.join(WEB_DIR, f), 'utf8'));
    }
  });
});

describe('request ids', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it('logs each request with its id at debug level, and not at info', async () => {
    const lines: { reqId?: string; msg?: string; statusCode?: number; level?: number }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const logged = await startTestServer({ logger });
    const infoLines: { reqId?: string }[] = [];
    const quiet = await startTestServer({ logger: pino({ level: 'info' }, { write: (line: string) => infoLines.push(JSON.parse(line)) }) });
    try {
      await logged.call('GET', '/v1/collections/ghost', undefined, { 'x-request-id': 'log-77' });
      const mine = lines.filter((l) => l.reqId === 'log-77');
      const done = mine.filter((l) => l.msg === 'request completed');
      expect(done).toHaveLength(1);
      expect(done[0].statusCode).toBe(404);
      expect(done[0].level).toBe(20);
      await quiet.call('GET', '/health', undefined, { 'x-request-id': 'log-78' });
      expect(infoLines.filter((l) => l.reqId === 'log-78')).toEqual([]);
    } finally {
      await logged.close();
      await quiet.close();
    }
  });

  it('honours a well-formed x-request-id and generates one otherwise', async () => {
    const given = await s.call('GET', '/health', undefined, { 'x-request-id': 'client-42.a' });
    expect(given.headers['x-request-id']).toBe('client-42.a');
    const generated = await s.call('GET', '/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await s.call('GET', '/health', undefined, { 'x-request-id': 'bad id\twith spaces' });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const onError = await s.call('GET', '/v1/collections/ghost', undefined, { 'x-request-id': 'err-1' });
    expect(onError.statusCode).toBe(404);
    expect(onError.headers['x-request-id']).toBe('err-1');
  });
});

describe('API key', () => {
  let s: TestServer;
  beforeAll(async () => {
    // Many 401s come from one address here; failed-auth throttling is tested in server-bounds.test.ts.
    s = await startTestServer({ apiKey: 's3cret-key', authFailMax: 0 });
  });
  afterAll(() => s.close());

  it('every /v1 route needs the bearer key (401 otherwise), unknown /v1 routes included', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/collections'],
      ['PUT', '/v1/collections/a', {}],
      ['GET', '/v1/collections/a'],
      ['DELETE', '/v1/collections/a'],
      ['POST', '/v1/collections/a/optimize'],
      ['POST', '/v1/collections/a/documents', { documents: [] }],
      ['GET', '/v1/collections/a/documents/x'],
      ['DELETE', '/v1/collections/a/documents/x'],
      ['POST', '/v1/collections/a/search', { query: 'x' }],
      ['POST', '/v1/collections/a/search/batch', { searches: [{ query: 'x' }] }],
      ['POST', '/v1/encode', { texts: ['x'] }],
      ['GET', '/v1/nothing-here'],
    ];
    for (const auth of [undefined, 'Bearer wrong', 'Bearer s3cret-key2', 'Basic s3cret-key', 's3cret-key', 'Bearer ']) {
      for (const [method, url, body] of routes) {
        const res = await s.call(method, url, body, auth === undefined ? {} : { authorization: auth });
        expect(res.statusCode, `${method} ${url} with ${auth}`).toBe(401);
        expect(errorOf(res)).toMatchObject({ code: 'UNAUTHENTICATED', error: 'Unauthorized' });
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    }
    const none = await s.call('GET', '/v1/collections/ghost');
    expect(none.statusCode).toBe(401);
  });

  it('the right key passes (scheme case-insensitive)', async () => {
    const ok = { authorization: 'Bearer s3cret-key' };
    expect((await s.call('PUT', '/v1/collections/a', {}, ok)).statusCode).toBe(201);
    expect((await s.call('GET', '/v1/collections', undefined, { authorization: 'bearer s3cret-key' })).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/ghost', undefined, ok)).statusCode).toBe(404);
  });

  it('/health, /ready, /metrics, /docs and / stay open', async () => {
    for (const url of ['/health', '/ready', '/metrics', '/docs/json', '/']) {
      expect((await s.call('GET', url)).statusCode, url).toBe(200);
    }
    expect([200, 302]).toContain((await s.call('GET', '/docs')).statusCode);
  });
});
