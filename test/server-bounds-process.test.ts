/**
 * Issue 12 cases that need a real socket: a trickled body must be cut at the configured request timeout (it was
 * cut at ~80 s with 30 s configured, because Node checks the deadline only every 30 s), answered 408 in the
 * envelope, and the server keeps answering /health.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server-harness.js';

describe('body read timeout on a real socket', () => {
  let s: TestServer;
  let port: number;
  beforeAll(async () => {
    s = await startTestServer({ requestTimeoutMs: 1000 });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.app.server.address() as net.AddressInfo).port;
  });
  afterAll(() => s.close());

  it('a trickled body was cut at ~80 s instead of the configured timeout → 408 within 1.5× of 1 s', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      'POST /v1/collections/c/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"query":"',
    );
    const t0 = performance.now();
    // One byte every 50 ms: the connection is never idle, only slow.
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write('a');
    }, 50);
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString('utf8');
    });
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    clearInterval(trickle);
    const ms = performance.now() - t0;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
    expect(ms).toBeGreaterThan(900);
    expect(ms).toBeLessThan(1500);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
  });
});

describe('long request timeouts', () => {
  it('SPLADEX_REQUEST_TIMEOUT_MS above 300 s failed at startup (headersTimeout > Node default requestTimeout) → serves', async () => {
    const s = await startTestServer({ requestTimeoutMs: 600_000 });
    try {
      await s.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (s.app.server.address() as net.AddressInfo).port;
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect(s.app.server.requestTimeout).toBe(600_000);
    } finally {
      await s.close();
    }
  });
});
