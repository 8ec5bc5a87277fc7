/**
 * Engine metrics on /metrics (issue 16), scraped through app.inject after doing each thing on a real service:
 * documents indexed (counter by collection), WAL group commits (fsync latency histogram), seals and merges
 * (duration histograms), snapshots made and restored (duration histogram by kind).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ memtableMaxDocs: 10 });
});
afterAll(() => s.close());

/** The value of the sample `name{labels}` in the exposition, or 0 when absent. */
async function sample(name: string, labels = ''): Promise<number> {
  const text = (await s.call('GET', '/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(labels === '' ? `${name} ` : `${name}{${labels}} `));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('engine metrics', () => {
  it('counts documents indexed and WAL fsyncs per collection', async () => {
    await s.call('PUT', '/v1/collections/m', {});
    expect(await sample('spladex_documents_indexed_total', 'collection="m"')).toBe(0);
    const docs = Array.from({ length: 7 }, (_, i) => ({ id: `d${i}`, text: `word ${i}` }));
    expect((await s.call('POST', '/v1/collections/m/documents', { documents: docs })).json().indexed).toBe(7);
    // A batch with one bad document counts only the indexed ones.
    await s.call('POST', '/v1/collections/m/documents', { documents: [{ id: 'x', text: 'ok' }, { id: 'y' }] });
    expect(await sample('spladex_documents_indexed_total', 'collection="m"')).toBe(8);
    expect(await sample('spladex_wal_fsync_duration_seconds_count', 'collection="m"')).toBeGreaterThanOrEqual(2);
    expect(await sample('spladex_wal_fsync_duration_seconds_sum', 'collection="m"')).toBeGreaterThan(0);
  });

  it('times seals and merges', async () => {
    const seals = await sample('spladex_seal_duration_seconds_count', 'collection="m"');
    // Two batches over the memtable limit: two seals, so optimize has two segments to merge.
    for (const b of [0, 1]) {
      const docs = Array.from({ length: 12 }, (_, i) => ({ id: `s${b}-${i}`, text: `seal ${i}` }));
      await s.call('POST', '/v1/collections/m/documents', { documents: docs });
      const deadline = Date.now() + 30_000;
      while ((await sample('spladex_seal_duration_seconds_count', 'collection="m"')) < seals + b + 1) {
        if (Date.now() > deadline) throw new Error('no seal');
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    expect((await s.call('GET', '/v1/collections/m')).json().stats.segments).toBe(2);
    await s.call('POST', '/v1/collections/m/optimize', {});
    expect(await sample('spladex_seal_duration_seconds_count', 'collection="m"')).toBeGreaterThan(seals);
    expect(await sample('spladex_merge_duration_seconds_count', 'collection="m"')).toBeGreaterThanOrEqual(1);
    expect(await sample('spladex_merge_duration_seconds_sum', 'collection="m"')).toBeGreaterThan(0);
  });

  it('times snapshots and restores', async () => {
    expect(await sample('spladex_snapshot_duration_seconds_count', 'kind="create"')).toBe(0);
    const snap = (await s.call('POST', '/v1/collections/m/snapshots')).json();
    expect(await sample('spladex_snapshot_duration_seconds_count', 'kind="create"')).toBe(1);
    expect(await sample('spladex_snapshot_duration_seconds_sum', 'kind="create"')).toBeGreaterThan(0);
    expect((await s.call('POST', '/v1/collections/m/restore', { snapshot: snap.id, as: 'm2' })).statusCode).toBe(201);
    expect(await sample('spladex_snapshot_duration_seconds_count', 'kind="restore"')).toBe(1);
  });
});
