/**
 * Mixed read/write run (issue 6, `scripts/mixed-test.ts`): W writers and R readers against one server process
 * for D seconds. Writers upsert batches of N documents; every batch carries a token unique to it in its text and
 * in its keyword metadata `batch`. Writers also replace earlier batches (the same N ids upserted again with a new
 * token, one request) and delete earlier batches (N single-document DELETEs; there is no batch delete in the API).
 * Readers search a random batch's token with k ≥ N (text query, and a metadata filter on `batch`) and check the
 * number of that batch's documents in the hits against every state the batch passed through while the search
 * was in flight:
 *   writing → 0 or N (a batch upsert is atomic)   live → N (acknowledged = visible)
 *   replacing → 0 or N (old token)                replaced → 0
 *   deleting → 0..N (one request per document)     deleted → 0
 * Any non-200 answer counts as an error. Small memtable, so seals run during the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { httpJson } from './http.js';
import { Rng } from '../../src/core/rng.js';
import { spawnServer } from './server-process.js';

type BatchState = 'writing' | 'live' | 'replacing' | 'replaced' | 'deleting' | 'deleted';

interface Batch {
  token: string;
  ids: string[];
  /** States in order; a reader checks against all states from the one current at its start onward. */
  history: BatchState[];
}

export interface MixedOptions {
  writers: number;
  readers: number;
  durationSec: number;
  batchDocs: number;
  k: number;
  memtableMaxDocs: number;
  seed: number;
}

export interface MixedResult {
  batchesWritten: number;
  batchesReplaced: number;
  batchesDeleted: number;
  docWrites: number;
  searches: number;
  writeErrors: number;
  readErrors: number;
  violations: string[];
  violationCount: number;
  /** Searches whose count was strictly between 0 and N while a batch was being written or replaced (must be 0). */
  partialBatchSeen: number;
  segmentsAtEnd: number;
  documentsAtEnd: number;
  expectedDocumentsAtEnd: number;
  tookSec: number;
}

function allowed(states: BatchState[], n: number, count: number): boolean {
  return states.some((s) => {
    switch (s) {
      case 'writing':
      case 'replacing':
        return count === 0 || count === n;
      case 'live':
        return count === n;
      case 'deleting':
        return count >= 0 && count <= n;
      default:
        return count === 0;
    }
  });
}

export async function runMixedTest(opts: MixedOptions): Promise<MixedResult> {
  const rng = new Rng(opts.seed);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-mixed-'));
  const server = await spawnServer({ dataDir, env: { SPLADEX_MEMTABLE_MAX_DOCS: String(opts.memtableMaxDocs) } });
  const r: MixedResult = {
    batchesWritten: 0,
    batchesReplaced: 0,
    batchesDeleted: 0,
    docWrites: 0,
    searches: 0,
    writeErrors: 0,
    readErrors: 0,
    violations: [],
    violationCount: 0,
    partialBatchSeen: 0,
    segmentsAtEnd: 0,
    documentsAtEnd: 0,
    expectedDocumentsAtEnd: 0,
    tookSec: 0,
  };
  const t0 = performance.now();
  const deadline = t0 + opts.durationSec * 1000;
  const batches: Batch[] = [];
  let tokenSeq = 0;
  const newToken = () => `mq${(tokenSeq++).toString(36)}k`;
  const violation = (msg: string) => {
    r.violationCount++;
    if (r.violations.length < 20) r.violations.push(msg);
  };
  try {
    const put = await httpJson(server.base, 'PUT', '/v1/collections/mixed', { metadata: { batch: 'keyword', writer: 'keyword' } });
    if (put.status !== 201) throw new Error(`create: ${put.status} ${JSON.stringify(put.body)}`);

    const upsertBatch = async (b: Batch, w: number): Promise<boolean> => {
      const documents = b.ids.map((id, i) => ({
        id,
        text: `mixed workload document ${i} common words ${b.token}`,
        metadata: { batch: b.token, writer: `w${w}` },
      }));
      const res = await httpJson(server.base, 'POST', '/v1/collections/mixed/documents', { documents });
      const ok = res.status === 200 && (res.body as { indexed: number }).indexed === b.ids.length;
      if (!ok) {
        r.writeErrors++;
        violation(`upsert ${b.token} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      } else r.docWrites += b.ids.length;
      return ok;
    };

    const writer = async (w: number) => {
      const mine: Batch[] = [];
      let seq = 0;
      while (performance.now() < deadline) {
        const live = mine.filter((b) => b.history[b.history.length - 1] === 'live');
        const p = rng.next();
        if (p < 0.6 || live.length < 3) {
          const b: Batch = {
            token: newToken(),
            ids: Array.from({ length: opts.batchDocs }, (_, i) => `w${w}-b${seq}-${i}`),
            history: ['writing'],
          };
          seq++;
          batches.push(b);
          mine.push(b);
          if (await upsertBatch(b, w)) {
            b.history.push('live');
            r.batchesWritten++;
          }
        } else if (p < 0.85) {
          const old = live[rng.int(live.length)];
          const fresh: Batch = { token: newToken(), ids: old.ids, history: ['writing'] };
          old.history.push('replacing');
          batches.push(fresh);
          mine.push(fresh);
          if (await upsertBatch(fresh, w)) {
            old.history.push('replaced');
            fresh.history.push('live');
            r.batchesReplaced++;
          }
        } else {
          const old = live[rng.int(live.length)];
          old.history.push('deleting');
          let ok = true;
          for (const id of old.ids) {
            const res = await httpJson(server.base, 'DELETE', `/v1/collections/mixed/documents/${id}`);
            if (res.status !== 204) {
              ok = false;
              r.writeErrors++;
              violation(`delete ${id} → ${res.status}`);
            }
          }
          if (ok) {
            old.history.push('deleted');
            r.batchesDeleted++;
          }
        }
      }
    };

    const reader = async () => {
      while (performance.now() < deadline) {
        if (batches.length === 0) {
          await new Promise((res) => setTimeout(res, 5));
          continue;
        }
        const b = batches[rng.int(batches.length)];
        const from = b.history.length - 1;
        const byFilter = rng.next() < 0.3;
        const body = byFilter
          ? { query: 'common words', k: opts.k, filter: { must: [{ field: 'batch', eq: b.token }] } }
          : { query: b.token, k: opts.k };
        const res = await httpJson(server.base, 'POST', '/v1/collections/mixed/search', body);
        r.searches++;
        if (res.status !== 200) {
          r.readErrors++;
          violation(`search ${b.token} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
          continue;
        }
        const states = b.history.slice(from);
        const ids = new Set(b.ids);
        const hits = (res.body as { hits: { id: string }[] }).hits;
        // Text search: the token is unique to the batch, so every hit must be one of its ids. A replaced batch's
        // ids live on under the new token, so only hits of the searched token's version count.
        const count = byFilter ? hits.length : hits.filter((h) => ids.has(h.id)).length;
        if (!byFilter && hits.length !== count) violation(`search ${b.token}: ${hits.length - count} hits outside the batch`);
        if (count > 0 && count < opts.batchDocs && !states.includes('deleting')) r.partialBatchSeen++;
        if (!allowed(states, opts.batchDocs, count))
          violation(`${byFilter ? 'filter' : 'search'} ${b.token}: ${count} of ${opts.batchDocs} hits, states ${states.join('→')}`);
      }
    };

    await Promise.all([
      ...Array.from({ length: opts.writers }, (_, w) => writer(w)),
      ...Array.from({ length: opts.readers }, () => reader()),
    ]);
    const info = await httpJson(server.base, 'GET', '/v1/collections/mixed');
    const stats = (info.body as { stats: { documents: number; segments: number } }).stats;
    r.segmentsAtEnd = stats.segments;
    r.documentsAtEnd = stats.documents;
    const liveIds = new Set<string>();
    for (const b of batches) if (b.history[b.history.length - 1] === 'live') for (const id of b.ids) liveIds.add(id);
    r.expectedDocumentsAtEnd = liveIds.size;
    if (r.documentsAtEnd !== r.expectedDocumentsAtEnd)
      violation(`documents at end ${r.documentsAtEnd}, expected ${r.expectedDocumentsAtEnd}`);
    if (server.child.exitCode !== null) violation('server exited');
  } finally {
    r.tookSec = (performance.now() - t0) / 1000;
    server.kill('SIGTERM');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
  return r;
}
