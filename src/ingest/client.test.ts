// The HTTP client keeps every code of ERROR_CODES from an error answer (it used to keep its own list, without
// RATE_LIMITED, so a 429 reached the CLI as INTERNAL); an unknown code reads as INTERNAL. Real listening server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, SpladexError } from '../core/errors.js';
import { createHttpClient } from './client.js';

let server: Server;
let url: string;

beforeAll(async () => {
  // Answers /v1/collections/<code>/... with that code's error envelope (status 409 for all: only the code matters).
  server = createServer((req, res) => {
    const code = decodeURIComponent((req.url ?? '').split('/')[3] ?? '');
    res.writeHead(409, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ statusCode: 409, code, error: 'Conflict', message: `answered ${code}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function codeOf(name: string): Promise<string> {
  const client = createHttpClient({ url, busyRetries: 0 });
  const err = await client.search(name, { query: 'alpha', k: 10 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpladexError);
  return (err as SpladexError).code;
}

describe('HTTP client error codes', () => {
  it('keeps each of ERROR_CODES (RATE_LIMITED included)', async () => {
    expect(ERROR_CODES).toContain('RATE_LIMITED');
    for (const code of ERROR_CODES) expect(await codeOf(code)).toBe(code);
  });

  it('reads an unknown code as INTERNAL', async () => {
    expect(await codeOf('NOT_A_CODE')).toBe('INTERNAL');
  });
});
