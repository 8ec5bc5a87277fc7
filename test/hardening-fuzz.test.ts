/**
 * HTTP-level fuzzing over real sockets (issue 6; the long run is scripts/fuzz-api.ts): generated requests
 * (routes, methods, content types, malformed and edge bodies, odd paths and headers, see
 * test/support/fuzz.ts) never get a 5xx or a dropped connection, error answers are the envelope, and the
 * server still answers /health, /ready and searches. Plus the case fuzzing found: a request line Node's parser
 * rejects gets the envelope and `Connection: close`, so a keep-alive client's next request is not reset.
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkAlive, runFuzz, seedFuzzCollections, sendOverSocket, sendRaw } from './support/fuzz.js';
import { startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
let base: string;
beforeAll(async () => {
  s = await startTestServer({ memtableMaxDocs: 50 });
  base = await s.app.listen({ host: '127.0.0.1', port: 0 });
  await seedFuzzCollections(base);
});
afterAll(() => s.close());

it('generated requests never cause a 5xx or a dropped connection; the server keeps serving', async () => {
  const report = await runFuzz(base, {
    count: Number(process.env.FUZZ_HTTP_RUNS ?? 400),
    seed: Number(process.env.FUZZ_SEED ?? 42),
    concurrency: 4,
  });
  expect(report.failures).toEqual([]);
  expect(report.badEnvelopes).toBe(0);
  expect(report.busy).toBe(0);
  expect(report.byStatus['200']).toBeGreaterThan(20);
  expect(report.byStatus['400']).toBeGreaterThan(50);
  expect(await checkAlive(base)).toEqual([]);
});

it('a request line the HTTP parser rejects gets the envelope and Connection: close', async () => {
  const port = new URL(base).port;
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write('GET /v1/collections/\u00fc HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
    );
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  const [head, body] = raw.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request/);
  expect(head.toLowerCase()).toContain('connection: close');
  expect(JSON.parse(body)).toMatchObject({ statusCode: 400, code: 'INVALID_ARGUMENT', error: 'Bad Request' });
  // The same through a keep-alive agent: the follow-up request on the pool must not be reset.
  for (let i = 0; i < 20; i++) {
    const bad = await sendRaw(base, { method: 'GET', path: '/v1/collections/\u00fc', contentType: null, body: null, headers: {} });
    expect(bad.status).toBe(400);
    const badHead = await sendRaw(base, { method: 'HEAD', path: '/v1/collections/\u00fc', contentType: null, body: null, headers: {} });
    expect(badHead).toEqual({ status: 400, body: '' });
    const good = await sendRaw(base, { method: 'GET', path: '/health', contentType: null, body: null, headers: {} });
    expect(good.status).toBe(200);
  }
});

it('a 413 answered from Content-Length before the body was sent read as a write EPIPE (status 0) → the early answer is read and the body stops', async () => {
  // A server that answers after the request head, as Fastify does for an over-limit Content-Length, and counts
  // the body bytes that still reach it.
  let bodyBytes = 0;
  const server = createServer((socket) => {
    let head = '';
    socket.on('data', (d: Buffer) => {
      if (!head.includes('\r\n\r\n')) {
        head += d.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          bodyBytes += head.length - head.indexOf('\r\n\r\n') - 4;
          const body = '{"statusCode":413,"code":"PAYLOAD_TOO_LARGE","error":"Payload Too Large","message":"body: larger than the limit"}';
          socket.end(
            `HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
          );
        }
      } else {
        bodyBytes += d.length;
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as AddressInfo).port;
    const big = 'x'.repeat(64 * 1024 * 1024);
    const answer = await sendOverSocket(`http://127.0.0.1:${port}`, {
      method: 'POST',
      path: '/v1/collections/fz/documents',
      contentType: 'application/json',
      body: big,
      headers: {},
    });
    expect(answer.status).toBe(413);
    expect(answer.early).toBe(true);
    expect(JSON.parse(answer.body).code).toBe('PAYLOAD_TOO_LARGE');
    expect(bodyBytes).toBeLessThan(big.length / 2);
  } finally {
    server.close();
  }
});
