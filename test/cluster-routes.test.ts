/**
 * Issue 17, the routes beyond plain search through the cluster: hybrid (sparse + dense) and dense-only search
 * fused once at the coordinator, PRF over the merged first round for vectors-only and lexical (dfs) collections,
 * PRF feeding a hybrid second round. Each answer is compared with one single-process spladex (SpladexService in
 * this process) on the same documents: same ids in the same order, same scores (float32 for sparse scores; the
 * fused float64 score exactly; lexical within 1e-6 relative, see the lexical test). One real 3-node NATS
 * JetStream cluster and 3 spladex node processes for the whole file (2 shards × 2 replicas per collection).
 * Skips when nats-server is not installed (.ci/run installs it).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchRequestSchema } from '../src/config/request-schemas.js';
import { Rng } from '../src/core/rng.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { natsServerAvailable, startNatsCluster, type NatsCluster } from './support/nats-cluster.js';
import { callJson, startSpladexCluster, type SpladexCluster } from './support/spladex-cluster.js';

const DIM = 1000;
const DENSE = 16;
const DOCS = 800;
const REPLACE_AFTER_MS = 6000;
const SCIFACT = ['/work/shared/data/scifact', path.join(process.cwd(), '..', 'shared', 'data', 'scifact')].find((p) =>
  existsSync(path.join(p, 'corpus.jsonl')),
);

type Hit = { id: string; score: number; title?: string; explain?: unknown };

/** A sparse vector over a skewed choice of terms (documents share terms, as learned-sparse ones do). */
function sparse(rng: Rng, n: number) {
  const ids = new Set<number>();
  while (ids.size < n) ids.add(Math.floor(DIM * rng.next() * rng.next()));
  const indices = [...ids].sort((a, b) => a - b);
  return { indices, values: indices.map(() => Math.round((0.1 + rng.next() * 3) * 1000) / 1000) };
}

function denseVec(rng: Rng) {
  return Array.from({ length: DENSE }, () => Math.round((rng.next() * 2 - 1) * 1000) / 1000);
}

describe.skipIf(!natsServerAvailable())('cluster mode: hybrid and PRF through the fan-out equal one process', () => {
  let nats: NatsCluster;
  let nodes: SpladexCluster;
  let single: SpladexService;
  const singleDir = mkdtempSync(path.join(tmpdir(), 'spladex-single-routes-'));
  const rng = new Rng(1717);
  const docs = Array.from({ length: DOCS }, (_v, i) => ({
    id: `h${i}`,
    title: `hybrid doc ${i}`,
    vector: sparse(rng, 20),
    dense: denseVec(rng),
    metadata: { tag: `t${i % 3}` },
  }));
  const queries = Array.from({ length: 12 }, () => ({ vector: sparse(rng, 8), dense: denseVec(rng) }));
  const base = (i: number) => nodes.nodes[i % 3].base;

  /** Creates `name` on the cluster (2 × 2) and in the single process, and indexes `items` in both. */
  async function both(name: string, config: Record<string, unknown>, items: unknown[], batch = 400) {
    const created = await callJson(base(0), 'PUT', `/v1/collections/${name}`, { ...config, cluster: { shards: 2, replicas: 2 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await single.createCollection(name, config);
    for (let i = 0; i < items.length; i += batch) {
      const part = items.slice(i, i + batch);
      const r = await callJson(base(i / batch), 'POST', `/v1/collections/${name}/documents?refresh=wait_for`, { documents: part });
      expect(r.body.errors, JSON.stringify(r.body)).toEqual([]);
      expect((await single.upsertDocuments(name, part)).errors).toEqual([]);
    }
  }

  /** The cluster's answer (through node `i`) next to one process's. */
  async function pair(name: string, req: Record<string, unknown>, i: number): Promise<{ got: { hits: Hit[] }; want: { hits: Hit[] } }> {
    // Through the request schema, as the server parses it (defaults of hybrid and prf filled in).
    const want = (await single.search(name, searchRequestSchema(single.limits).parse(req))) as { hits: Hit[] };
    const got = await callJson(base(i), 'POST', `/v1/collections/${name}/search`, req);
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    return { got: got.body, want };
  }

  beforeAll(async () => {
    nats = await startNatsCluster(3);
    // Re-placement after 6 s dead (the last test); the SIGSTOP of the lag test is shorter.
    nodes = await startSpladexCluster(nats.url, 3, { SPLADEX_REPLACE_AFTER_MS: String(REPLACE_AFTER_MS) });
    single = await openSpladexService({ dataDir: singleDir, encodersDir: 'encoders', logger: pino({ level: 'silent' }) });
    await both('hyb', { encoder: 'none', dim: DIM, dense: { dim: DENSE, metric: 'cosine' }, metadata: { tag: 'keyword' } }, docs);
  });
  afterAll(async () => {
    await nodes?.stop();
    await nats?.stop();
    await single?.close();
    rmSync(singleDir, { recursive: true, force: true });
  });

  it('hybrid search (convex minmax and zscore, rrf, alpha ends, filter, offset, explain) equals one process', async () => {
    const variants: Record<string, unknown>[] = [
      {},
      { hybrid: { method: 'convex', normalization: 'zscore', alpha: 0.3, candidates: 40 } },
      { hybrid: { method: 'rrf', rrfK: 20, candidates: 30 } },
      { hybrid: { alpha: 1 } },
      { hybrid: { alpha: 0, candidates: 15 } },
      { filter: { must: [{ field: 'tag', eq: 't1' }] }, hybrid: { candidates: 25 } },
      { offset: 5, hybrid: { normalization: 'none' } },
      { explain: true, include: ['title', 'metadata'] },
    ];
    let compared = 0;
    for (const [vi, extra] of variants.entries()) {
      for (const [qi, q] of queries.entries()) {
        const req = { vector: q.vector, dense: q.dense, k: 10, params: { exact: true }, ...extra };
        const { got, want } = await pair('hyb', req, qi + vi);
        expect(want.hits.length).toBeGreaterThan(0);
        expect(got.hits, `variant ${vi} query ${qi}`).toEqual(want.hits);
        compared++;
      }
    }
    expect(compared).toBe(variants.length * queries.length);
  });

  it('dense-only search equals one process; a hybrid request without a dense query is refused as in one process', async () => {
    for (const [qi, q] of queries.entries()) {
      const { got, want } = await pair('hyb', { dense: q.dense, k: 10 }, qi);
      expect(got.hits).toEqual(want.hits);
    }
    const bad = await callJson(base(0), 'POST', '/v1/collections/hyb/search', { vector: queries[0].vector, hybrid: { alpha: 0.5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^hybrid: needs a dense query/);
  });

  it('PRF with a hybrid second round (vectors-only) equals one process and changes rankings', async () => {
    let changed = 0;
    for (const [qi, q] of queries.entries()) {
      const req = { vector: q.vector, dense: q.dense, k: 10, params: { exact: true }, prf: { docs: 4, terms: 15, weight: 0.7 } };
      const { got, want } = await pair('hyb', req, qi);
      expect(got.hits, `query ${qi}`).toEqual(want.hits);
      const plain = await pair('hyb', { ...req, prf: undefined }, qi);
      if (JSON.stringify(plain.want.hits.map((h) => h.id)) !== JSON.stringify(want.hits.map((h) => h.id))) changed++;
    }
    expect(changed).toBeGreaterThan(0);
  });

  it.skipIf(SCIFACT === undefined)(
    'lexical PRF (dfs) over the merged first round equals one process on 2,000 SciFact documents',
    async () => {
      const corpus = readFileSync(path.join(SCIFACT as string, 'corpus.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .slice(0, 2000)
        .map((l) => JSON.parse(l) as { _id: string; title: string; text: string })
        .map((d) => ({ id: d._id, title: d.title, text: d.text }));
      const qs = readFileSync(path.join(SCIFACT as string, 'queries.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .slice(0, 40)
        .map((l) => (JSON.parse(l) as { text: string }).text);
      await both('lex', {}, corpus, 1000);
      let changed = 0;
      let maxDiff = 0;
      for (const [qi, query] of qs.entries()) {
        const req = { query, k: 10, prf: { docs: 5, terms: 20, weight: 0.5 } };
        const { got, want } = await pair('lex', req, qi);
        // Ids in order; scores within 1e-6 relative: the expansion sums each feedback vector's mass over its terms
        // in dictionary-id order, and the shards' ids are not one process's (float64 rounding of that sum).
        expect(
          got.hits.map((h) => h.id),
          `query ${qi}`,
        ).toEqual(want.hits.map((h) => h.id));
        got.hits.forEach((h, j) => {
          maxDiff = Math.max(maxDiff, Math.abs(h.score - want.hits[j].score) / Math.max(1e-9, want.hits[j].score));
        });
        expect(got.hits.map((h) => h.title)).toEqual(want.hits.map((h) => h.title));
        const plain = (await single.search('lex', { query, k: 10 } as never)) as { hits: Hit[] };
        if (JSON.stringify(plain.hits.map((h) => h.id)) !== JSON.stringify(want.hits.map((h) => h.id))) changed++;
      }
      process.stdout.write(`lexical prf: ${changed}/${qs.length} rankings changed by feedback, max relative score diff ${maxDiff}\n`);
      expect(changed).toBeGreaterThan(0);
      expect(maxDiff).toBeLessThan(1e-6);
    },
  );
  it("replica lag: 0 when caught up (GET /v1/cluster and per-shard gauges in /metrics); a stopped node's replicas report how far behind they are, then catch up", async () => {
    type Replica = { node: string; live: boolean; applied: number | null; lag: number | null; lagMs: number | null };
    type Shard = { shard: number; lastSeq: number; replicas: Replica[] };
    const shardMap = async (i: number): Promise<Shard[]> =>
      (await callJson(base(i), 'GET', '/v1/cluster')).body.collections.find((c: { name: string }) => c.name === 'hyb').shardMap;
    for (const s of await shardMap(1)) {
      for (const r of s.replicas) expect(r).toMatchObject({ live: true, applied: s.lastSeq, lag: 0, lagMs: 0 });
    }
    // Every node exposes one series per hosted replica; the heartbeat refreshes the heads every 500 ms.
    const gauges = async (i: number) => {
      const text = await (await fetch(`${base(i)}/metrics`)).text();
      const out = new Map<string, number>();
      for (const m of text.matchAll(/^(spladex_replica_\w+)\{collection="hyb",shard="(\d)"\} (\S+)$/gm))
        out.set(`${m[1]}/${m[2]}`, Number(m[3]));
      return out;
    };
    const head = new Map((await shardMap(0)).map((s) => [s.shard, s.lastSeq]));
    let hosted = 0;
    for (let i = 0; i < 3; i++) {
      const g = await gauges(i);
      for (const shard of [0, 1]) {
        if (!g.has(`spladex_replica_applied_seq/${shard}`)) continue;
        hosted++;
        expect(g.get(`spladex_replica_applied_seq/${shard}`)).toBe(head.get(shard));
        expect(g.get(`spladex_replica_lag_seq/${shard}`)).toBe(0);
        expect(g.get(`spladex_replica_lag_seconds/${shard}`)).toBe(0);
      }
    }
    expect(hosted).toBe(4);

    // Stop node s2 (SIGSTOP: alive but not applying), write twice 400 ms apart, read its replicas' lag.
    const stopped = nodes.nodes[2].proc as NonNullable<(typeof nodes.nodes)[number]['proc']>;
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      const extra = Array.from({ length: 40 }, (_v, i) => ({ id: `lag${i}`, vector: sparse(rng, 10), dense: denseVec(rng) }));
      for (const part of [extra.slice(0, 20), extra.slice(20)]) {
        const r = await callJson(base(0), 'POST', '/v1/collections/hyb/documents', { documents: part });
        expect(r.body.errors).toEqual([]);
        await new Promise((res) => setTimeout(res, 400));
      }
      await single.upsertDocuments('hyb', extra);
      const behind = (await shardMap(0)).flatMap((s) => s.replicas.filter((r) => r.node === 's2').map((r) => ({ ...r, last: s.lastSeq })));
      expect(behind.length).toBeGreaterThan(0);
      for (const r of behind) {
        expect(r.lag).toBe((r.last as number) - (r.applied as number));
        expect(r.lag).toBeGreaterThan(0);
        // Its newest applied write is older than the shard's newest by at least the 400 ms between the batches.
        expect(r.lagMs).toBeGreaterThanOrEqual(350);
      }
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
    }
    const deadline = Date.now() + 30_000;
    let caughtUp = false;
    while (!caughtUp && Date.now() < deadline) {
      caughtUp = (await shardMap(0)).every((s) => s.replicas.every((r) => r.live && r.lag === 0));
      if (!caughtUp) await new Promise((res) => setTimeout(res, 200));
    }
    expect(caughtUp).toBe(true);
  });
  it('PATCH goes through the stream: merges as one process (metadata keys, title, vector), right after an acknowledged write; refusals as one process', async () => {
    const config = { encoder: 'none', dim: DIM, metadata: { year: 'number', tag: 'keyword' } };
    const items = docs
      .slice(0, 60)
      .map((d, i) => ({ id: d.id, title: d.title, vector: d.vector, metadata: { tag: `t${i % 2}`, year: 2000 + i } }));
    await both('pat', config, items);
    const patches: [string, Record<string, unknown>][] = [
      ['h1', { metadata: { year: 2030, tag: null } }],
      ['h2', { title: 'a new title', vector: queries[3].vector }],
      ['h3', { vector: queries[0].vector, metadata: { tag: 'moved' } }],
      ['h2', { title: null, vector: queries[4].vector, metadata: { year: 1999 } }],
    ];
    for (const [i, [id, patch]] of patches.entries()) {
      const got = await callJson(base(i), 'PATCH', `/v1/collections/pat/documents/${id}`, patch);
      expect(got.status, JSON.stringify(got.body)).toBe(200);
      expect(got.body).toEqual(await single.patchDocument('pat', id, patch));
    }
    // A write acknowledged without wait_for, then a patch of that document at once: the patch sees it.
    const fresh = { id: 'fresh', title: 'fresh', vector: queries[1].vector, metadata: { tag: 'new', year: 1 } };
    expect((await callJson(base(0), 'POST', '/v1/collections/pat/documents', { documents: [fresh] })).body.errors).toEqual([]);
    await single.upsertDocuments('pat', [fresh]);
    const p = await callJson(base(1), 'PATCH', '/v1/collections/pat/documents/fresh?refresh=wait_for', { metadata: { year: 2 } });
    expect(p.body).toEqual(await single.patchDocument('pat', 'fresh', { metadata: { year: 2 } }));
    for (const i of [0, 1, 2]) {
      expect((await callJson(base(i), 'GET', '/v1/collections/pat/documents/fresh')).body).toEqual(
        single.getDocument('pat', 'fresh', false),
      );
    }
    // Refusals: an absent document (404), invalid merges (400), with one process's messages.
    for (const [id, patch] of [
      ['absent', { title: 'x' }],
      ['h4', { metadata: { year: 'not a number' } }],
      // A new title re-encodes, and encoder "none" cannot: every document must carry a vector.
      ['h5', { title: 'x' }],
    ] as const) {
      const got = await callJson(base(2), 'PATCH', `/v1/collections/pat/documents/${id}`, patch);
      const want = await single.patchDocument('pat', id, patch).then(
        () => null,
        (e: { code: string; message: string }) => e,
      );
      expect(want).not.toBeNull();
      expect(got.status).toBe(want?.code === 'NOT_FOUND' ? 404 : 400);
      expect(got.body.message).toBe(want?.message);
    }
    // Searches after the patches equal one process (the patched vector and metadata are searched).
    for (const q of queries.slice(0, 4)) {
      const req = { vector: q.vector, k: 10, params: { exact: true }, include: ['title', 'metadata'] };
      const { got, want } = await pair('pat', req, 0);
      expect(got.hits).toEqual(want.hits);
    }
  });

  it('aliases live in the cluster catalog: same answers and refusals as one process, resolved on every node', async () => {
    const put = async (alias: string, collection: string) => {
      const got = await callJson(base(0), 'PUT', `/v1/aliases/${alias}`, { collection });
      const want = await single.putAlias(alias, collection).then(
        (v) => ({ status: 200, body: v as unknown }),
        (e: { code: string; message: string }) => ({
          status: e.code === 'NOT_FOUND' ? 404 : e.code === 'CONFLICT' ? 409 : 400,
          body: e.message,
        }),
      );
      expect(got.status, JSON.stringify(got.body)).toBe(want.status);
      expect(got.status === 200 ? got.body : got.body.message).toEqual(want.body);
    };
    await put('cur', 'hyb');
    await put('hyb', 'pat');
    await put('nope', 'absent');
    await put('other', 'cur');
    await put('cur', 'pat');
    expect((await callJson(base(0), 'GET', '/v1/aliases')).body).toEqual(single.listAliases());
    // Every node resolves it once its watch has delivered (bounded wait).
    for (const i of [1, 2]) {
      const deadline = Date.now() + 10_000;
      while ((await callJson(base(i), 'GET', '/v1/aliases')).body.aliases.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect((await callJson(base(i), 'GET', '/v1/aliases')).body).toEqual(single.listAliases());
      const info = await callJson(base(i), 'GET', '/v1/collections/cur');
      expect(info.body.name).toBe('pat');
      const req = { vector: queries[2].vector, k: 5, params: { exact: true } };
      const { got, want } = await pair('cur', req, i);
      expect(got.hits).toEqual(want.hits);
      expect(got.hits).toEqual((await callJson(base(i), 'POST', '/v1/collections/pat/search', req)).body.hits);
    }
    // A collection may not take an alias's name, nor be deleted while an alias points at it.
    const create = await callJson(base(1), 'PUT', '/v1/collections/cur', { encoder: 'none', dim: 10, cluster: { shards: 1, replicas: 1 } });
    expect(create.status).toBe(409);
    const del = await callJson(base(1), 'DELETE', '/v1/collections/pat');
    expect(del.status).toBe(409);
    expect(del.body.message).toBe(await single.deleteCollection('pat').catch((e: Error) => e.message));
    expect((await callJson(base(0), 'DELETE', '/v1/aliases/cur')).status).toBe(204);
    await single.deleteAlias('cur');
    expect((await callJson(base(0), 'DELETE', '/v1/aliases/cur')).status).toBe(404);
    expect((await callJson(base(0), 'GET', '/v1/aliases')).body).toEqual({ aliases: [] });
  });
  it("scroll (GET …/documents) and searchAfter pages through the fan-out equal one process's pages", async () => {
    type Page = { documents: { id: string }[]; nextCursor: string | null };
    const scrollAll = async (query: string, oneProcess: (cursor?: string) => Page) => {
      const got: unknown[][] = [];
      const want: unknown[][] = [];
      let cursor: string | undefined;
      let wantCursor: string | undefined;
      for (let i = 0; i < 100; i++) {
        const r = await callJson(
          base(i),
          'GET',
          `/v1/collections/pat/documents?${query}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        const w = oneProcess(wantCursor);
        got.push(r.body.documents);
        want.push(w.documents);
        expect(r.body.nextCursor === null).toBe(w.nextCursor === null);
        if (r.body.nextCursor === null) break;
        cursor = r.body.nextCursor;
        wantCursor = w.nextCursor as string;
      }
      expect(got).toEqual(want);
      return got.flat().length;
    };
    const live = single.countDocuments('pat', {}).count;
    expect(await scrollAll('limit=7', (cursor) => single.listDocuments('pat', { limit: 7, cursor }) as Page)).toBe(live);
    expect(
      await scrollAll('limit=5&format=upsert', (cursor) => single.listDocuments('pat', { limit: 5, format: 'upsert', cursor }) as Page),
    ).toBe(live);
    const filter = { must: [{ field: 'tag', eq: 't1' }] };
    const tagged = await scrollAll(
      `limit=4&include=title,metadata&filter=${encodeURIComponent(JSON.stringify(filter))}`,
      (cursor) => single.listDocuments('pat', { limit: 4, include: ['title', 'metadata'], filter, cursor } as never) as Page,
    );
    expect(tagged).toBe(single.countDocuments('pat', { filter }).count);
    expect((await callJson(base(0), 'GET', '/v1/collections/pat/documents?cursor=nonsense')).status).toBe(400);

    // searchAfter: pages of 10 after the first page's nextCursor, on the hybrid collection's sparse part and with PRF.
    for (const extra of [{}, { prf: { docs: 3, terms: 10, weight: 0.5 } }, { filter }]) {
      const name = 'filter' in extra ? 'pat' : 'hyb';
      for (const [qi, q] of queries.slice(0, 4).entries()) {
        const req = { vector: q.vector, k: 10, params: { exact: true }, ...extra };
        let got = (await callJson(base(qi), 'POST', `/v1/collections/${name}/search`, req)).body;
        let want = (await single.search(name, searchRequestSchema(single.limits).parse(req))) as { hits: Hit[]; nextCursor: string | null };
        for (let page = 0; page < 3; page++) {
          expect(got.hits, `${JSON.stringify(extra)} query ${qi} page ${page}`).toEqual(want.hits);
          expect(got.nextCursor === null).toBe(want.nextCursor === null);
          if (want.nextCursor === null) break;
          const next = { ...req, searchAfter: got.nextCursor };
          got = (await callJson(base(qi + page + 1), 'POST', `/v1/collections/${name}/search`, next)).body;
          want = (await single.search(
            name,
            searchRequestSchema(single.limits).parse({ ...req, searchAfter: want.nextCursor }),
          )) as typeof want;
        }
      }
    }
    const cursor = (await callJson(base(0), 'POST', '/v1/collections/hyb/search', { vector: queries[0].vector, k: 5 })).body.nextCursor;
    const other = await callJson(base(1), 'POST', '/v1/collections/hyb/search', { vector: queries[1].vector, k: 5, searchAfter: cursor });
    expect(other.status).toBe(400);
    expect(other.body.message).toMatch(/^searchAfter: belongs to another search/);
  });
  it('a node gone for good (killed, dead past SPLADEX_REPLACE_AFTER_MS): its replicas move to live members, replay the stream, and searches still return everything (last: it kills nodes)', async () => {
    type Shard = { shard: number; lastSeq: number; replicas: { node: string; live: boolean; lag: number | null }[] };
    const maps = async (i: number): Promise<Map<string, Shard[]>> =>
      new Map(
        (await callJson(base(i), 'GET', '/v1/cluster')).body.collections.map((c: { name: string; shardMap: Shard[] }) => [
          c.name,
          c.shardMap,
        ]),
      );
    const before = await maps(0);
    expect([...before.values()].some((m) => m.some((s) => s.replicas.some((r) => r.node === 's2')))).toBe(true);
    const t0 = Date.now();
    await nodes.kill9(2);
    let after = before;
    const deadline = Date.now() + REPLACE_AFTER_MS + 60_000;
    const settled = (m: Map<string, Shard[]>) =>
      [...m.values()].every((shards) =>
        shards.every((s) => s.replicas.length === 2 && s.replicas.every((r) => r.node !== 's2' && r.live && r.lag === 0)),
      );
    while (Date.now() < deadline) {
      after = await maps(0);
      if (settled(after)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(settled(after), JSON.stringify([...after])).toBe(true);
    process.stdout.write(
      `re-placement: replicas moved and caught up ${Date.now() - t0} ms after the kill (timeout ${REPLACE_AFTER_MS} ms)\n`,
    );
    // The node that received a moved replica serves every shard alone once the other live node is killed too.
    let receiver = '';
    for (const [name, shards] of after) {
      for (const s of shards) {
        const was = (before.get(name) ?? [])[s.shard].replicas.map((r) => r.node);
        const moved = s.replicas.find((r) => !was.includes(r.node));
        if (moved !== undefined) receiver = moved.node;
      }
    }
    expect(['s0', 's1']).toContain(receiver);
    const x = receiver === 's0' ? 0 : 1;
    await nodes.kill9(1 - x);
    for (const name of ['hyb', 'pat']) {
      expect((await callJson(base(x), 'POST', `/v1/collections/${name}/count`, {})).body).toEqual(single.countDocuments(name, {}));
    }
    for (const q of queries) {
      for (const name of ['hyb', 'pat']) {
        const req = { vector: q.vector, k: 10, params: { exact: true } };
        const { got, want } = await pair(name, req, x);
        expect(got.hits).toEqual(want.hits);
      }
    }
    const listed = await callJson(base(x), 'GET', '/v1/collections/pat/documents?limit=1000');
    expect(listed.body.documents).toEqual(single.listDocuments('pat', { limit: 1000 }).documents);
    // s2 comes back: the replicas moved away while it was down are removed from its data dir.
    const movedAway = [...before].flatMap(([name, shards]) =>
      shards.filter((s) => s.replicas.some((r) => r.node === 's2')).map((s) => path.join(nodes.nodes[2].dataDir, `${name}_s${s.shard}`)),
    );
    expect(movedAway.length).toBeGreaterThan(0);
    expect(movedAway.every((d) => existsSync(d))).toBe(true);
    await nodes.restart(2);
    const gone = Date.now() + 20_000;
    while (movedAway.some((d) => existsSync(d)) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(movedAway.filter((d) => existsSync(d))).toEqual([]);
  });
});
