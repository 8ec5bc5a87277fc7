/**
 * Aliases through app.inject on a real service (issue 16): PUT switches atomically and durably (the table survives
 * a restart of the service), every read and write route accepts an alias (writes land in the target), an alias
 * never shadows a collection name (409 both ways), and a collection that an alias points to is not deleted (409).
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openSpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const ids = (res: { json(): { hits: { id: string }[] } }) => res.json().hits.map((h) => h.id);

async function twoCollections(t: TestServer): Promise<void> {
  for (const [name, word] of [
    ['v1', 'otters'],
    ['v2', 'beavers'],
  ]) {
    expect((await t.call('PUT', `/v1/collections/${name}`, { metadata: { lang: 'keyword' } })).statusCode).toBe(201);
    const docs = { documents: [{ id: `${name}-a`, text: `${word} swim in rivers`, metadata: { lang: 'en' } }] };
    expect((await t.call('POST', `/v1/collections/${name}/documents`, docs)).json()).toEqual({ indexed: 1, errors: [] });
  }
}

describe('aliases', () => {
  it('serves reads and writes through an alias and switches atomically', async () => {
    s = await startTestServer();
    await twoCollections(s);
    const put = await s.call('PUT', '/v1/aliases/live', { collection: 'v1' });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ alias: 'live', collection: 'v1', previous: null });

    expect(ids(await s.call('POST', '/v1/collections/live/search', { query: 'swim' }))).toEqual(['v1-a']);
    const batch = await s.call('POST', '/v1/collections/live/search/batch', { searches: [{ query: 'swim' }] });
    expect(batch.json().results[0].hits.map((h: { id: string }) => h.id)).toEqual(['v1-a']);
    expect((await s.call('GET', '/v1/collections/live')).json().name).toBe('v1');
    expect((await s.call('GET', '/v1/collections/live/documents/v1-a')).statusCode).toBe(200);
    expect((await s.call('POST', '/v1/encode', { collection: 'live', texts: ['otters'] })).statusCode).toBe(200);

    // A write through the alias lands in its target.
    const w = await s.call('POST', '/v1/collections/live/documents', { documents: [{ id: 'via-alias', text: 'swim fast' }] });
    expect(w.json()).toEqual({ indexed: 1, errors: [] });
    expect((await s.call('GET', '/v1/collections/v1/documents/via-alias')).statusCode).toBe(200);
    expect((await s.call('GET', '/v1/collections/v2/documents/via-alias')).statusCode).toBe(404);
    expect((await s.call('POST', '/v1/collections/live/count', {})).json()).toEqual({ count: 2 });
    const scroll = await s.call('GET', '/v1/collections/live/documents?limit=10');
    expect(scroll.json().documents.map((d: { id: string }) => d.id)).toEqual(['v1-a', 'via-alias']);
    expect((await s.call('PATCH', '/v1/collections/live/documents/via-alias', { metadata: { lang: 'de' } })).statusCode).toBeLessThan(300);
    expect((await s.call('GET', '/v1/collections/v1/documents/via-alias')).json().metadata).toEqual({ lang: 'de' });
    expect((await s.call('DELETE', '/v1/collections/live/documents/via-alias')).statusCode).toBe(204);
    expect((await s.call('POST', '/v1/collections/live/optimize', {})).statusCode).toBe(200);

    // Switch: the next search answers from v2.
    expect((await s.call('PUT', '/v1/aliases/live', { collection: 'v2' })).json()).toEqual({
      alias: 'live',
      collection: 'v2',
      previous: 'v1',
    });
    expect(ids(await s.call('POST', '/v1/collections/live/search', { query: 'swim' }))).toEqual(['v2-a']);
    expect((await s.call('GET', '/v1/aliases')).json()).toEqual({ aliases: [{ alias: 'live', collection: 'v2' }] });

    expect((await s.call('DELETE', '/v1/aliases/live')).statusCode).toBe(204);
    expect(errorOf(await s.call('DELETE', '/v1/aliases/live')).code).toBe('NOT_FOUND');
    expect(errorOf(await s.call('POST', '/v1/collections/live/search', { query: 'swim' })).code).toBe('NOT_FOUND');
    expect((await s.call('GET', '/v1/aliases')).json()).toEqual({ aliases: [] });
  });

  it('keeps the alias and collection namespaces apart (409) and refuses bad targets', async () => {
    s = await startTestServer();
    await twoCollections(s);
    await s.call('PUT', '/v1/aliases/live', { collection: 'v1' });

    let e = errorOf(await s.call('PUT', '/v1/aliases/v2', { collection: 'v1' }));
    expect([e.statusCode, e.message]).toEqual([409, 'alias: "v2" is the name of a collection; an alias cannot shadow it']);
    e = errorOf(await s.call('PUT', '/v1/collections/live', {}));
    expect([e.statusCode, e.message]).toEqual([409, 'name: "live" is an alias of collection "v1" (DELETE /v1/aliases/live first)']);
    e = errorOf(await s.call('PUT', '/v1/aliases/other', { collection: 'live' }));
    expect([e.statusCode, e.message]).toEqual([409, 'collection: "live" is an alias; point an alias at a collection']);
    e = errorOf(await s.call('PUT', '/v1/aliases/other', { collection: 'nope' }));
    expect([e.statusCode, e.message]).toEqual([404, 'collection "nope" not found']);
    e = errorOf(await s.call('PUT', '/v1/aliases/Bad!', { collection: 'v1' }));
    expect(e.statusCode).toBe(400);
    e = errorOf(await s.call('PUT', '/v1/aliases/x', { collection: 'v1', extra: 1 }));
    expect(e.statusCode).toBe(400);

    // A collection an alias points to is not deleted; nor is a collection deleted through its alias.
    e = errorOf(await s.call('DELETE', '/v1/collections/v1'));
    expect([e.statusCode, e.message]).toEqual([409, 'collection "v1" is the target of alias(es) "live"; delete or switch them first']);
    e = errorOf(await s.call('DELETE', '/v1/collections/live'));
    expect(e.statusCode).toBe(409);
    expect((await s.call('GET', '/v1/collections/v1')).statusCode).toBe(200);
    await s.call('DELETE', '/v1/aliases/live');
    expect((await s.call('DELETE', '/v1/collections/v1')).statusCode).toBe(204);
  });

  it('is durable: ALIASES.json is written before the answer and read back at the next open', async () => {
    s = await startTestServer();
    await twoCollections(s);
    await s.call('PUT', '/v1/aliases/live', { collection: 'v1' });
    await s.call('PUT', '/v1/aliases/live', { collection: 'v2' });
    await s.call('PUT', '/v1/aliases/old', { collection: 'v1' });
    const dataDir = path.join(s.dataDir, 'index');
    expect(JSON.parse(await readFile(path.join(dataDir, 'ALIASES.json'), 'utf8'))).toEqual({
      format: 1,
      aliases: { live: 'v2', old: 'v1' },
    });
    await s.app.close();
    await s.service.close();

    const logger = pino({ level: 'silent' });
    const service = await openSpladexService({ dataDir, encodersDir: path.join(s.dataDir, 'encoders'), logger });
    const app = await buildApp({ service, logger });
    try {
      const list = await app.inject({ method: 'GET', url: '/v1/aliases' });
      expect(list.json()).toEqual({
        aliases: [
          { alias: 'live', collection: 'v2' },
          { alias: 'old', collection: 'v1' },
        ],
      });
      const res = await app.inject({ method: 'POST', url: '/v1/collections/live/search', payload: { query: 'swim' } });
      expect(res.json().hits.map((h: { id: string }) => h.id)).toEqual(['v2-a']);
    } finally {
      await app.close();
      await service.close();
      await rm(s.dataDir, { recursive: true, force: true });
      s = undefined;
    }
  });
});
