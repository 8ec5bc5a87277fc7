/**
 * Test harness for the server tests (test/server-*.test.ts, test/api-*.test.ts): a real `SpladexService` over a
 * fresh temp data dir plus a `buildApp` around it, driven through `app.inject`. No mocks. `call()` fails the
 * test on any 5xx other than 503, so every bad-input test also checks "never a 500". `close()` closes the app,
 * the service and deletes the temp dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import type { Limits } from '../src/config/request-schemas.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { buildApp, type AppOptions } from '../src/server/app.js';

export interface TestServer {
  app: FastifyInstance;
  service: SpladexService;
  dataDir: string;
  /** JSON request helper; `body` objects are sent as JSON, strings are sent raw with `contentType`. */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Omit<AppOptions, 'service' | 'limits'>> {
  limits?: Partial<Limits>;
  memtableMaxDocs?: number;
  /** Search worker threads (ServiceOptions.searchThreads; default 1). */
  searchThreads?: number;
  /** Queries one search worker may hold (ServiceOptions.searchQueue; default 64). */
  searchQueue?: number;
}

/** Opens a real service in a temp dir and builds an app around it. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-server-test-'));
  const { limits, memtableMaxDocs, searchThreads, searchQueue, logger = pino({ level: 'silent' }), ...appOptions } = options;
  const service = await openSpladexService({
    dataDir: path.join(dataDir, 'index'),
    encodersDir: path.join(dataDir, 'encoders'),
    logger,
    limits,
    memtableMaxDocs,
    searchThreads,
    searchQueue,
  });
  const app = await buildApp({ service, logger, ...appOptions });
  let closed = false;
  return {
    app,
    service,
    dataDir,
    async call(method, url, body, headers = {}) {
      const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
      const res = await app.inject({
        method: method as 'GET',
        url,
        // POSTs always say JSON (a POST without a content type is refused, edge-guards.ts).
        headers: body === undefined && method !== 'POST' ? headers : { 'content-type': 'application/json', ...headers },
        payload: body === undefined ? undefined : isRaw ? (body as string) : JSON.stringify(body),
      });
      // No request in these tests may produce a 500: bad input is always the client's error.
      if (res.statusCode >= 500 && res.statusCode !== 503) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body}`);
      return res;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await service.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts the error envelope shape and returns it. */
export function errorOf(res: LightMyRequestResponse): { statusCode: number; code: string; error: string; message: string } {
  const body = res.json() as { statusCode: number; code: string; error: string; message: string };
  if (Object.keys(body).sort().join(',') !== 'code,error,message,statusCode') {
    throw new Error(`not an error envelope: ${res.body}`);
  }
  if (body.statusCode !== res.statusCode) throw new Error(`envelope statusCode ${body.statusCode} != HTTP ${res.statusCode}`);
  return body;
}
