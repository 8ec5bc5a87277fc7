// Bulk indexer over a fake client: batching, at most one batch in flight, bad-line numbers, collection creation.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpladexError } from '../core/errors.js';
import { bulkIndex, type BadLine } from './bulk-index.js';
import type { SpladexClient, UpsertResult } from './client.js';

const dir = mkdtempSync(join(tmpdir(), 'spladex-bulk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeClient(opts: { exists?: boolean; rejectId?: string } = {}) {
  const calls = { created: [] as Record<string, unknown>[], batches: [] as number[], maxInFlight: 0 };
  let inFlight = 0;
  const client: SpladexClient = {
    async findCollection() {
      return opts.exists ? ({} as never) : undefined;
    },
    async createCollection(_name, config) {
      calls.created.push(config);
      return { created: true };
    },
    async upsert(_name, docs): Promise<UpsertResult> {
      inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, inFlight);
      calls.batches.push(docs.length);
      // Resolve on a later macrotask so the reader really could run ahead if it were allowed to.
      await new Promise<void>((r) => setImmediate(r));
      inFlight--;
      const errors = docs.flatMap((d, index) =>
        ((d as { _id?: string; id?: string })._id ?? (d as { id?: string }).id) === opts.rejectId
          ? [{ index, id: opts.rejectId, code: 'INVALID_ARGUMENT', message: 'nope' }]
          : [],
      );
      return { indexed: docs.length - errors.length, errors };
    },
    async search() {
      throw new SpladexError('INTERNAL', 'unused');
    },
    async snapshot() {
      throw new SpladexError('INTERNAL', 'unused');
    },
    async listSnapshots() {
      throw new SpladexError('INTERNAL', 'unused');
    },
    async restore() {
      throw new SpladexError('INTERNAL', 'unused');
    },
    async optimize() {
      return { segments: 1, tookMs: 0 };
    },
    async encode() {
      return { vectors: [] };
    },
    async listDocuments() {
      return { documents: [], nextCursor: null };
    },
    async close() {},
  };
  return { client, calls };
}

describe('bulkIndex', () => {
  it('streams in batches within the in-flight window, reporting bad lines by number', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 23; i++) lines.push(JSON.stringify({ _id: `d${i}`, title: 'T', text: `text ${i}` }));
    lines.splice(4, 0, '{not json'); // line 5
    lines.splice(9, 0, '[1, 2]'); // line 10: not an object
    lines.splice(12, 0, ''); // line 13 blank: ignored
    const p = join(dir, 'c.jsonl');
    writeFileSync(p, `${lines.join('\n')}\n`);
    const bad: BadLine[] = [];
    const { client, calls } = fakeClient({ rejectId: 'd20' });
    const r = await bulkIndex({ input: p, collection: 'c', client, batchSize: 5, maxInFlight: 1, onBadLine: (b) => bad.push(b) });
    expect(calls.batches).toEqual([5, 5, 5, 5, 3]);
    expect(calls.maxInFlight).toBe(1);
    expect(calls.created).toEqual([{ encoder: 'lexical' }]);
    expect(r).toMatchObject({ lines: 25, indexed: 22, failed: 3, created: true });
    // d20 is the 21st document: after 2 bad lines and 1 blank line it sits on line 24.
    expect(bad.map((b) => [b.line, b.code])).toEqual([
      [5, 'INVALID_ARGUMENT'],
      [10, 'INVALID_ARGUMENT'],
      [24, 'INVALID_ARGUMENT'],
    ]);
    expect(bad[2].id).toBe('d20');

    // Default window: two batches in flight, never more; same results.
    const two = fakeClient({ rejectId: 'd20' });
    const bad2: BadLine[] = [];
    const r2 = await bulkIndex({ input: p, collection: 'c', client: two.client, batchSize: 5, onBadLine: (b) => bad2.push(b) });
    expect(two.calls.maxInFlight).toBe(2);
    expect(r2).toMatchObject({ indexed: 22, failed: 3 });
    expect(bad2.map((b) => b.line).sort((a, b) => a - b)).toEqual([5, 10, 24]);
  });

  it('creates a vectors-only collection when documents carry vectors, and not when one exists', async () => {
    const p = join(dir, 'v.jsonl');
    writeFileSync(p, '{"id":"a","vector":{"indices":[1],"values":[0.5]}}\n');
    const a = fakeClient();
    await bulkIndex({ input: p, collection: 'v', client: a.client, batchSize: 10, dim: 100 });
    expect(a.calls.created).toEqual([{ encoder: 'none', dim: 100 }]);
    const b = fakeClient({ exists: true });
    const r = await bulkIndex({ input: p, collection: 'v', client: b.client, batchSize: 10 });
    expect(b.calls.created).toEqual([]);
    expect(r.created).toBe(false);
  });
});
