/**
 * Crash-recovery run (issue 6, `scripts/crash-test.ts`): N cycles of start the real server → concurrent upserts,
 * updates and deletes (and, in some cycles, optimize) → SIGKILL at a random moment → `spladex inspect` on the
 * data dir (opens the store, verifying every checksum) → restart → every acknowledged write present (by id and by
 * search), every acknowledged delete absent, the document count exact.
 *
 * Bookkeeping: each writer owns its ids, so at most one operation per id is in flight. An operation answered
 * 200/204 moves the id's state to its outcome; one cut off by the kill (no answer) leaves the id "uncertain":
 * either the old or the new state is allowed after restart, and the observed one becomes the new known state.
 * Each document's text carries a token unique to its id (for search) and one unique to its version (for GET).
 *
 * Kill timing per cycle, rotating: `random` (uniform delay), `optimize` (an optimize loop runs; the kill lands
 * 0–400 ms after an optimize request was sent, so mostly during the seal/merge), `after-seal` (the kill lands
 * 0–30 ms after the server logs a finished seal or merge, i.e. while the next seal or cleanup may be running).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { httpJson, httpJsonRetry, mapLimit } from './http.js';
import { REPO_ROOT, spawnServer, type ServerProcess } from './server-process.js';
import { Rng } from '../../src/core/rng.js';

export type KillStrategy = 'random' | 'optimize' | 'after-seal';

export interface CrashOptions {
  cycles: number;
  seed: number;
  /** Writer loops per cycle. */
  writers: number;
  /** SPLADEX_MEMTABLE_MAX_DOCS of the server (small, so seals happen often). */
  memtableMaxDocs: number;
  /** Random kill delay range after the load starts, ms. */
  minKillMs: number;
  maxKillMs: number;
  /** Run `spladex inspect` after each kill (costs one process start per cycle). */
  inspect: boolean;
  dataDir?: string;
  log?: (line: string) => void;
}

export interface CycleResult {
  cycle: number;
  strategy: KillStrategy;
  killAtMs: number;
  ackedUpsertDocs: number;
  ackedDeletes: number;
  optimizes: number;
  inFlightAtKill: number;
  /** Writes answered 503 BUSY (load shedding): not acknowledged, outcome treated as unknown. */
  busyWrites: number;
  /** Whether `spladex inspect` exited 0 (null when skipped). */
  inspectOk: boolean | null;
  tornTails: number;
  restartMs: number;
  documentsAfter: number;
  segmentsAfter: number;
  checkedById: number;
  checkedBySearch: number;
  failures: string[];
}

interface Version {
  present: boolean;
  text?: string;
}

interface DocState {
  id: string;
  /** Token unique to the id, in every version's text. */
  token: string;
  known: Version;
  /** Outcome of an operation that got no answer; either state is allowed after the restart. */
  pending: Version | null;
  touchedInCycle: number;
}

const COLLECTION = 'crash';

function idToken(n: number): string {
  return `zq${n.toString(36)}k`;
}

/** Runs the whole crash test; returns one result per cycle plus the final check (cycle = cycles). */
export async function runCrashTest(opts: CrashOptions): Promise<CycleResult[]> {
  const log = opts.log ?? (() => undefined);
  const rng = new Rng(opts.seed);
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'spladex-crash-')));
  const docs = new Map<string, DocState>();
  let nextDoc = 0;
  let versionCounter = 0;
  const results: CycleResult[] = [];
  const env = { SPLADEX_MEMTABLE_MAX_DOCS: String(opts.memtableMaxDocs), SPLADEX_LOG_LEVEL: 'info' };
  try {
    for (let cycle = 0; cycle <= opts.cycles; cycle++) {
      const final = cycle === opts.cycles;
      const strategy: KillStrategy = (['random', 'optimize', 'after-seal'] as const)[cycle % 3];
      const t0 = performance.now();
      const server = await spawnServer({ dataDir, env });
      const restartMs = performance.now() - t0;
      const r: CycleResult = {
        cycle,
        strategy,
        killAtMs: 0,
        ackedUpsertDocs: 0,
        ackedDeletes: 0,
        optimizes: 0,
        inFlightAtKill: 0,
        busyWrites: 0,
        inspectOk: null,
        tornTails: (server.output().match(/discarding torn tail/g) ?? []).length,
        restartMs,
        documentsAfter: 0,
        segmentsAfter: 0,
        checkedById: 0,
        checkedBySearch: 0,
        failures: [],
      };
      try {
        if (cycle === 0) {
          const put = await httpJson(server.base, 'PUT', `/v1/collections/${COLLECTION}`, {});
          if (put.status !== 201) throw new Error(`create collection: ${put.status} ${JSON.stringify(put.body)}`);
        } else {
          await verify(server, docs, cycle, rng, r);
        }
        if (final) {
          server.kill('SIGTERM');
          const { code } = await server.exited;
          if (code !== 0) r.failures.push(`SIGTERM exit code ${code}`);
        } else {
          await loadAndKill(server, docs, cycle, strategy, opts, rng, r, {
            newId: () => nextDoc++,
            newVersion: () => versionCounter++,
          });
          if (opts.inspect) r.inspectOk = await inspect(dataDir, r);
        }
      } finally {
        server.kill('SIGKILL');
        await server.exited;
      }
      results.push(r);
      log(formatRow(r));
    }
  } finally {
    if (opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
  }
  return results;
}

interface Counters {
  newId: () => number;
  newVersion: () => number;
}

async function loadAndKill(
  server: ServerProcess,
  docs: Map<string, DocState>,
  cycle: number,
  strategy: KillStrategy,
  opts: CrashOptions,
  rng: Rng,
  r: CycleResult,
  counters: Counters,
): Promise<void> {
  let killed = false;
  const start = performance.now();
  const inFlight = new Set<string>();
  const kill = () => {
    if (killed) return;
    killed = true;
    r.killAtMs = Math.round(performance.now() - start);
    r.inFlightAtKill = inFlight.size;
    server.kill('SIGKILL');
  };
  const own: string[][] = Array.from({ length: opts.writers }, () => []);
  for (const d of docs.values()) if (d.known.present || d.pending !== null) own[Number(d.id.split('-')[1]) % opts.writers].push(d.id);

  const writer = async (w: number) => {
    const mine = own[w];
    while (!killed) {
      const live = mine.filter((id) => docs.get(id)?.known.present === true && docs.get(id)?.pending === null);
      const p = rng.next();
      if (p < 0.6 || live.length === 0) {
        const n = 1 + rng.int(20);
        const batch: DocState[] = [];
        for (let i = 0; i < n; i++) {
          const num = counters.newId();
          const d: DocState = { id: `d-${w}-${num}`, token: idToken(num), known: { present: false }, pending: null, touchedInCycle: cycle };
          docs.set(d.id, d);
          mine.push(d.id);
          batch.push(d);
        }
        await upsert(server, batch, counters, inFlight, r, cycle);
      } else if (p < 0.8) {
        const batch = rng.sample(live, 1 + rng.int(Math.min(10, live.length))).map((id) => docs.get(id) as DocState);
        await upsert(server, batch, counters, inFlight, r, cycle);
      } else {
        const d = docs.get(live[rng.int(live.length)]) as DocState;
        d.pending = { present: false };
        d.touchedInCycle = cycle;
        inFlight.add(d.id);
        const res = await httpJson(server.base, 'DELETE', `/v1/collections/${COLLECTION}/documents/${d.id}`);
        inFlight.delete(d.id);
        if (res.status === 204) {
          d.known = { present: false };
          d.pending = null;
          r.ackedDeletes++;
        } else if (res.status === 503) {
          r.busyWrites++;
        } else if (res.status !== 0) {
          r.failures.push(`DELETE ${d.id} → ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
    }
  };

  const optimizer = async () => {
    while (!killed) {
      const sentAt = performance.now() - start;
      const pending = httpJson(server.base, 'POST', `/v1/collections/${COLLECTION}/optimize`);
      if (sentAt > 300 && !killed) {
        const delay = rng.int(400);
        setTimeout(kill, delay);
        await pending;
        return;
      }
      const res = await pending;
      if (res.status === 200) r.optimizes++;
    }
  };

  let sealWatch: (() => void) | null = null;
  if (strategy === 'after-seal') {
    let partial = '';
    const onData = (c: Buffer) => {
      const lines = (partial + c.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      const sealed = lines.some((l) => l.includes('"memtable sealed"') || l.includes('"segments merged"'));
      if (sealed && performance.now() - start > 300) setTimeout(kill, rng.int(30));
    };
    server.child.stdout?.on('data', onData);
    sealWatch = () => server.child.stdout?.off('data', onData);
  }
  const bound = opts.minKillMs + rng.int(opts.maxKillMs - opts.minKillMs);
  // random: the kill itself; other strategies: a backstop so the cycle always ends.
  const timer = setTimeout(kill, strategy === 'random' ? bound : opts.maxKillMs * 3);
  const loops = Array.from({ length: opts.writers }, (_, w) => writer(w));
  if (strategy === 'optimize') loops.push(optimizer());
  await server.exited;
  clearTimeout(timer);
  sealWatch?.();
  kill();
  await Promise.all(loops);
}

async function upsert(
  server: ServerProcess,
  batch: DocState[],
  counters: Counters,
  inFlight: Set<string>,
  r: CycleResult,
  cycle: number,
): Promise<void> {
  const body = batch.map((d) => {
    const v = counters.newVersion();
    const text = `crash document ${d.token} version zv${v.toString(36)}k filler words ${v % 7 === 0 ? 'seven' : 'other'}`;
    d.pending = { present: true, text };
    d.touchedInCycle = cycle;
    inFlight.add(d.id);
    return { id: d.id, text };
  });
  const res = await httpJson(server.base, 'POST', `/v1/collections/${COLLECTION}/documents`, { documents: body });
  for (const d of batch) inFlight.delete(d.id);
  const ok = res.status === 200 && (res.body as { indexed: number; errors: unknown[] }).errors.length === 0;
  if (ok) {
    for (const d of batch) {
      d.known = d.pending as Version;
      d.pending = null;
    }
    r.ackedUpsertDocs += batch.length;
  } else if (res.status === 503) {
    r.busyWrites++;
  } else if (res.status !== 0) {
    r.failures.push(`upsert → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
}

/** `spladex inspect` on the data dir as its own process: exit 0 means the store opened and every checksum held. */
async function inspect(dataDir: string, r: CycleResult): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'inspect', COLLECTION, '--data', dataDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) r.failures.push(`inspect exit ${code}: ${out.slice(0, 500)}`);
  return code === 0;
}

/** After a restart: every id's state is one of its allowed states, by GET and by search; the count is exact. */
async function verify(server: ServerProcess, docs: Map<string, DocState>, cycle: number, rng: Rng, r: CycleResult): Promise<void> {
  const all = [...docs.values()];
  // By search: all ids, in batches of 200 searches for the id token (k 5: an id token is in one doc only).
  // A batch runs synchronously on the event loop; 1,000 per batch stalled it past the 1 s shedding threshold.
  const seen = new Map<string, boolean>();
  for (let i = 0; i < all.length; i += 200) {
    const chunk = all.slice(i, i + 200);
    const res = await httpJsonRetry(server.base, 'POST', `/v1/collections/${COLLECTION}/search/batch`, {
      searches: chunk.map((d) => ({ query: d.token, k: 5, params: { exact: true } })),
    });
    if (res.status !== 200) {
      r.failures.push(`batch search → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      return;
    }
    const results = (res.body as { results: { hits: { id: string }[] }[] }).results;
    chunk.forEach((d, j) =>
      seen.set(
        d.id,
        results[j].hits.some((h) => h.id === d.id),
      ),
    );
    r.checkedBySearch += chunk.length;
  }
  // By id: everything touched in the previous cycle, everything uncertain, and a sample of the rest.
  const recent = all.filter((d) => d.touchedInCycle === cycle - 1 || d.pending !== null);
  const older = all.filter((d) => !(d.touchedInCycle === cycle - 1 || d.pending !== null));
  const byId = [...recent, ...rng.sample(older, Math.min(older.length, 300))];
  await mapLimit(byId, 8, async (d) => {
    const res = await httpJsonRetry(server.base, 'GET', `/v1/collections/${COLLECTION}/documents/${d.id}`);
    let observed: Version;
    if (res.status === 200) observed = { present: true, text: (res.body as { text: string }).text };
    else if (res.status === 404) observed = { present: false };
    else {
      r.failures.push(`GET ${d.id} → ${res.status}`);
      return;
    }
    r.checkedById++;
    const allowed = d.pending === null ? [d.known] : [d.known, d.pending];
    if (!allowed.some((v) => v.present === observed.present && (!v.present || v.text === observed.text))) {
      r.failures.push(`${d.id}: found ${JSON.stringify(observed)}, allowed ${JSON.stringify(allowed)}`);
    } else if (seen.get(d.id) !== observed.present) {
      r.failures.push(`${d.id}: GET says present=${observed.present}, search says ${seen.get(d.id)}`);
    }
    if (d.pending !== null) {
      d.known = observed;
      d.pending = null;
    }
  });
  // Every id not read by GET must agree with search on presence.
  for (const d of all) {
    if (d.pending !== null) continue;
    if (seen.get(d.id) !== d.known.present) r.failures.push(`${d.id}: search present=${seen.get(d.id)}, expected ${d.known.present}`);
  }
  const info = await httpJsonRetry(server.base, 'GET', `/v1/collections/${COLLECTION}`);
  const stats = (info.body as { stats?: { documents: number; segments: number } }).stats;
  if (info.status !== 200 || stats === undefined) {
    r.failures.push(`GET collection → ${info.status} ${JSON.stringify(info.body).slice(0, 300)}`);
    return;
  }
  r.documentsAfter = stats.documents;
  r.segmentsAfter = stats.segments;
  const expected = all.filter((d) => d.known.present).length;
  if (stats.documents !== expected) r.failures.push(`documents ${stats.documents}, expected ${expected}`);
}

export const TABLE_HEADER =
  'cycle strategy    killAtMs inFlight ackedDocs ackedDel busy optimizes inspect tornTail restartMs  docs segs byId bySearch result';

export function formatRow(r: CycleResult): string {
  const cols = [
    String(r.cycle).padStart(5),
    r.strategy.padEnd(11),
    String(r.killAtMs).padStart(8),
    String(r.inFlightAtKill).padStart(8),
    String(r.ackedUpsertDocs).padStart(9),
    String(r.ackedDeletes).padStart(8),
    String(r.busyWrites).padStart(4),
    String(r.optimizes).padStart(9),
    (r.inspectOk === null ? '-' : r.inspectOk ? 'ok' : 'FAIL').padStart(7),
    String(r.tornTails).padStart(8),
    String(Math.round(r.restartMs)).padStart(9),
    String(r.documentsAfter).padStart(5),
    String(r.segmentsAfter).padStart(4),
    String(r.checkedById).padStart(4),
    String(r.checkedBySearch).padStart(8),
    r.failures.length === 0 ? 'ok' : `FAIL (${r.failures.length}): ${r.failures.slice(0, 3).join('; ')}`,
  ];
  return cols.join(' ');
}
