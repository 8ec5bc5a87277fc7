/**
 * Issue 12 acceptance 2: while the heaviest requests the limits accept run against a real server process on
 * 127.0.0.1 with a 100k-doc lexical collection, `GET /health` is probed every 50 ms; reports the worst probe
 * latency and the server's peak RSS (VmRSS sampled every 50 ms, and VmHWM) per request. The collection is built
 * by the CLI's bulk index into a temp data dir (synthetic Zipf text over a 50k-word vocabulary, seeded).
 * Behind `bench/bench-bounds.ts`. Target: worst probe ≤ 250 ms, RSS < 1.5 GB.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_LIMITS } from '../src/config/request-schemas.js';
import { Rng } from '../src/core/rng.js';
import { REPO_ROOT, spawnServer } from '../test/support/server-process.js';

export interface BoundsBenchOptions {
  docs: number;
  seed: number;
  /** Body limit of the server (SPLADEX_MAX_BODY_BYTES default). */
  maxBodyBytes: number;
  log?: (line: string) => void;
}

export interface BoundsRow {
  name: string;
  status: number;
  requestBytes: number;
  tookMs: number;
  probes: number;
  worstProbeMs: number;
  peakRssMiB: number;
  hwmMiB: number;
}

const VOCAB = 50_000;

function word(i: number): string {
  return `w${i.toString(36)}`;
}

/** A Zipf-like word index (rank ~ 1/u), so common words repeat as in real text. */
function zipfWord(rng: Rng): string {
  return word(Math.min(VOCAB - 1, Math.floor(1 / Math.max(rng.next(), 1 / VOCAB)) - 1 + Math.floor(rng.next() * 3)));
}

function text(rng: Rng, words: number): string {
  const out: string[] = new Array(words);
  for (let i = 0; i < words; i++) out[i] = zipfWord(rng);
  return out.join(' ');
}

async function writeCorpus(file: string, n: number, rng: Rng): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const line = JSON.stringify({ _id: `d${i}`, title: text(rng, 6), text: text(rng, 80) }) + '\n';
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

function runCli(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`spladex ${args[0]} exited ${code}: ${err.slice(-2000)}`))));
  });
}

async function readStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
  return m ? Number(m[1]) : 0;
}

/** Sends `body` while probing /health every 50 ms and sampling RSS; one row of the table. */
async function measure(
  base: string,
  pid: number,
  name: string,
  method: string,
  route: string,
  body: string,
  contentType = 'application/json',
): Promise<BoundsRow> {
  let done = false;
  let worst = 0;
  let probes = 0;
  let peakKiB = 0;
  const probeLoop = (async () => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${base}/health`).catch(() => null);
      await res?.text();
      // Every probe sent while the request ran counts, the one still waiting when it finishes included.
      worst = Math.max(worst, performance.now() - t0);
      probes++;
      peakKiB = Math.max(peakKiB, await readStatusKiB(pid, 'VmRSS'));
      const wait = 50 - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const t0 = performance.now();
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': contentType },
    body,
    signal: AbortSignal.timeout(600_000),
  });
  await res.arrayBuffer();
  const tookMs = performance.now() - t0;
  done = true;
  await probeLoop;
  peakKiB = Math.max(peakKiB, await readStatusKiB(pid, 'VmRSS'));
  return {
    name,
    status: res.status,
    requestBytes: Buffer.byteLength(body),
    tookMs,
    probes,
    worstProbeMs: worst,
    peakRssMiB: peakKiB / 1024,
    hwmMiB: (await readStatusKiB(pid, 'VmHWM')) / 1024,
  };
}

/** Query text of about `bytes` characters over exactly `distinct` words (repeats counted by BM25). */
function queryText(distinct: number, bytes: number): string {
  const words = Array.from({ length: distinct }, (_, i) => word(i));
  const unit = words.join(' ') + ' ';
  return unit.repeat(Math.max(1, Math.floor(bytes / unit.length))).trim();
}

export async function runBoundsBench(opts: BoundsBenchOptions): Promise<BoundsRow[]> {
  const log = opts.log ?? (() => undefined);
  const rng = new Rng(opts.seed);
  const dir = await mkdtemp(path.join(tmpdir(), 'spladex-bounds-'));
  const dataDir = path.join(dir, 'data');
  try {
    const corpus = path.join(dir, 'corpus.jsonl');
    const t0 = performance.now();
    await writeCorpus(corpus, opts.docs, rng);
    await runCli(['index', 'bench', '--input', corpus, '--data', dataDir, '--optimize', '--quiet'], {});
    log(`built ${opts.docs}-doc collection in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const server = await spawnServer({
      dataDir,
      env: { SPLADEX_LOG_LEVEL: 'info', SPLADEX_MAX_BODY_BYTES: String(opts.maxBodyBytes), SPLADEX_REQUEST_TIMEOUT_MS: '600000' },
    });
    const rows: BoundsRow[] = [];
    try {
      const info = (await (await fetch(`${server.base}/v1/collections/bench`)).json()) as {
        stats: { documents: number; segments: number };
      };
      log(`serving ${info.stats.documents} documents in ${info.stats.segments} segment(s)`);
      const limits = DEFAULT_LIMITS;
      // 1. Maximal upsert: maxDocsPerRequest docs filling the body limit.
      const perDoc = Math.floor((opts.maxBodyBytes - 1024) / limits.maxDocsPerRequest) - 40;
      const docs = [];
      for (let i = 0; i < limits.maxDocsPerRequest; i++) {
        let t = text(rng, Math.ceil(perDoc / 3));
        t = t.slice(0, perDoc);
        docs.push({ id: `u${i}`, text: t });
      }
      rows.push(
        await measure(
          server.base,
          server.pid,
          `upsert ${limits.maxDocsPerRequest} docs`,
          'POST',
          '/v1/collections/bench/documents',
          JSON.stringify({ documents: docs }),
        ),
      );
      log(JSON.stringify(rows.at(-1)));
      // 2. Maximal batch search: maxBatchSearches text queries filling the body limit, each at the term cap.
      const perQuery = Math.floor((opts.maxBodyBytes - 1024) / limits.maxBatchSearches) - 64;
      const q = queryText(limits.maxQueryTerms, perQuery);
      const searches = Array.from({ length: limits.maxBatchSearches }, () => ({ query: q, k: 100 }));
      rows.push(
        await measure(
          server.base,
          server.pid,
          `batch ${limits.maxBatchSearches} × ${(q.length / 1024).toFixed(0)} KB queries, k 100`,
          'POST',
          '/v1/collections/bench/search/batch',
          JSON.stringify({ searches }),
        ),
      );
      log(JSON.stringify(rows.at(-1)));
      // 3. Maximal text query: maxTextBytes of text over maxQueryTerms distinct words, k = maxK.
      const big = queryText(limits.maxQueryTerms, limits.maxTextBytes - 16);
      rows.push(
        await measure(
          server.base,
          server.pid,
          `text query ${(big.length / 2 ** 20).toFixed(2)} MiB, ${limits.maxQueryTerms} terms, k ${limits.maxK}`,
          'POST',
          '/v1/collections/bench/search',
          JSON.stringify({ query: big, k: limits.maxK }),
        ),
      );
      log(JSON.stringify(rows.at(-1)));
      // Refused ones (answered 400 before the work): 140k distinct terms, a 10⁶-key token map.
      const wide = queryText(140_000, 0);
      rows.push(
        await measure(
          server.base,
          server.pid,
          'refused: text query 140k terms',
          'POST',
          '/v1/collections/bench/search',
          JSON.stringify({ query: wide.slice(0, limits.maxTextBytes - 16) }),
        ),
      );
      log(JSON.stringify(rows.at(-1)));
      const tokens: Record<string, number> = {};
      for (let i = 0; i < 1_000_000; i++) tokens[word(i)] = 1;
      rows.push(
        await measure(
          server.base,
          server.pid,
          'refused: token map 10^6 keys',
          'POST',
          '/v1/collections/bench/search',
          JSON.stringify({ vector: tokens }),
        ),
      );
      log(JSON.stringify(rows.at(-1)));
    } finally {
      server.kill('SIGTERM');
      await server.exited;
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatBoundsTable(rows: readonly BoundsRow[]): string {
  const lines = [
    'request                                            status  body MB  took ms  probes  worst probe ms  peak RSS MiB  VmHWM MiB',
  ];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(50)} ${String(r.status).padStart(6)} ${(r.requestBytes / 1e6).toFixed(1).padStart(8)} ${r.tookMs.toFixed(0).padStart(8)} ${String(r.probes).padStart(7)} ${r.worstProbeMs.toFixed(0).padStart(15)} ${r.peakRssMiB.toFixed(0).padStart(13)} ${r.hwmMiB.toFixed(0).padStart(10)}`,
    );
  }
  return lines.join('\n');
}
