/**
 * Protection (issue 6): the per-IP rate limit on /v1/* (off by default; SPLADEX_RATE_LIMIT_MAX /
 * SPLADEX_RATE_LIMIT_WINDOW_MS) answers 429 RATE_LIMITED in the error envelope with Retry-After once an address
 * exceeds its budget, counts addresses separately, and never limits /health, /ready or /metrics.
 */
import { afterEach, expect, it } from 'vitest';
import { loadEnv } from '../src/config/env.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const get = (url: string, ip = '10.0.0.1') => (s as TestServer).app.inject({ method: 'GET', url, remoteAddress: ip });

it('limits /v1/* per address with 429 RATE_LIMITED and Retry-After; ops routes stay open', async () => {
  s = await startTestServer({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
  for (let i = 0; i < 3; i++) expect((await get('/v1/collections')).statusCode).toBe(200);
  const limited = await get('/v1/collections');
  expect(limited.statusCode).toBe(429);
  const env = errorOf(limited);
  expect(env.code).toBe('RATE_LIMITED');
  expect(env.message).toMatch(/at most 3 requests per 60000 ms/);
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect((await get('/v1/collections/x/documents/y')).statusCode).toBe(429);
  // Another address has its own budget; probes and scrapes are never limited.
  expect((await get('/v1/collections', '10.0.0.2')).statusCode).toBe(200);
  for (const url of ['/health', '/ready', '/metrics', '/health', '/ready']) expect((await get(url)).statusCode).toBe(200);
});

it('is off by default', async () => {
  s = await startTestServer();
  for (let i = 0; i < 30; i++) expect((await get('/v1/collections')).statusCode).toBe(200);
  expect(loadEnv({}).rateLimitMax).toBe(0);
  expect(loadEnv({ SPLADEX_RATE_LIMIT_MAX: '100', SPLADEX_RATE_LIMIT_WINDOW_MS: '1000' })).toMatchObject({
    rateLimitMax: 100,
    rateLimitWindowMs: 1000,
  });
  expect(() => loadEnv({ SPLADEX_RATE_LIMIT_MAX: '-1' })).toThrow(/SPLADEX_RATE_LIMIT_MAX/);
});
