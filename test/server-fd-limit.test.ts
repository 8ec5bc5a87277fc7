/**
 * Issue 12.6 on a real process under `ulimit -n 200`: creating collection #173 answered 500 EMFILE, after which
 * /health and upserts got connection resets until collections were deleted. Out of descriptors, only the request
 * that hit it may fail (503 BUSY with Retry-After); everything else keeps answering.
 */
import { describe, expect, it } from 'vitest';
import { httpJson } from './support/http.js';
import { serverForTests } from './support/server-for-tests.js';

describe('file descriptors under ulimit -n 200', () => {
  const running = serverForTests('spladex-fd-', {
    maxOpenFiles: 200,
    env: { SPLADEX_LOG_LEVEL: 'info', SPLADEX_MAX_COLLECTIONS: '1000' },
  });

  it('creating collections until descriptors run out: 503 BUSY for that create only, /health and upserts keep answering', async () => {
    const server = running();
    const statuses: number[] = [];
    let busy: { status: number; retryAfter: string | null } | null = null;
    for (let i = 0; i < 400 && busy === null; i++) {
      const res = await fetch(`${server.base}/v1/collections/c${i}`, { method: 'PUT' });
      statuses.push(res.status);
      if (res.status !== 201) busy = { status: res.status, retryAfter: res.headers.get('retry-after') };
      await res.arrayBuffer();
    }
    console.log(`created ${statuses.filter((s) => s === 201).length} collections before ${busy?.status}`);
    expect(busy?.status).toBe(503);
    expect(Number(busy?.retryAfter)).toBeGreaterThan(0);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    for (let i = 0; i < 5; i++) {
      const health = await httpJson(server.base, 'GET', '/health');
      expect(health.status).toBe(200);
      const up = await httpJson(server.base, 'POST', '/v1/collections/c0/documents', { documents: [{ id: `d${i}`, text: 'alpha beta' }] });
      expect(up.status).toBe(200);
    }
  }, 120_000);
});
