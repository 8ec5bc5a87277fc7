/**
 * Cluster-mode options as a single process (no SPLADEX_NATS_URL) sees them: `cluster` in a collection config is
 * refused naming the field, `?refresh=wait_for` on writes is accepted and changes nothing (writes are visible when
 * answered), another refresh value is refused, and `GET /v1/cluster` does not exist. Through app.inject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/config/env.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

describe('cluster options on a single process', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    expect((await s.call('PUT', '/v1/collections/one', {})).statusCode).toBe(201);
  });
  afterAll(async () => {
    await s.close();
  });

  it('refuses "cluster" in a collection config', async () => {
    const res = await s.call('PUT', '/v1/collections/c', { cluster: { shards: 2, replicas: 2 } });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toMatch(/^cluster: only in cluster mode/);
  });

  it('accepts ?refresh=wait_for on writes as a no-op and refuses other values', async () => {
    const up = await s.call('POST', '/v1/collections/one/documents?refresh=wait_for', { documents: [{ id: 'a', text: 'quake' }] });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ indexed: 1, errors: [] });
    expect((await s.call('POST', '/v1/collections/one/search', { query: 'quake' })).json().hits[0].id).toBe('a');
    expect((await s.call('DELETE', '/v1/collections/one/documents/a?refresh=wait_for')).statusCode).toBe(204);
    expect((await s.call('POST', '/v1/collections/one/documents?refresh=now', { documents: [] })).statusCode).toBe(400);
  });

  it('has no GET /v1/cluster', async () => {
    expect((await s.call('GET', '/v1/cluster')).statusCode).toBe(404);
  });

  it('reads the cluster variables', () => {
    expect(loadEnv({}).cluster).toBeNull();
    expect(loadEnv({ SPLADEX_NATS_URL: 'nats://a:4222, nats://b:4222', SPLADEX_NODE_ID: 'n-1' }).cluster).toEqual({
      natsUrls: ['nats://a:4222', 'nats://b:4222'],
      nodeId: 'n-1',
      advertiseUrl: undefined,
      replaceAfterMs: 300_000,
    });
    expect(() => loadEnv({ SPLADEX_NATS_URL: 'nats://a:4222', SPLADEX_NODE_ID: 'a.b' })).toThrow(/SPLADEX_NODE_ID/);
    expect(loadEnv({ SPLADEX_NATS_URL: 'nats://a:4222', SPLADEX_REPLACE_AFTER_MS: '60000' }).cluster?.replaceAfterMs).toBe(60_000);
    expect(() => loadEnv({ SPLADEX_NATS_URL: 'nats://a:4222', SPLADEX_REPLACE_AFTER_MS: '10' })).toThrow(/SPLADEX_REPLACE_AFTER_MS/);
  });
});
