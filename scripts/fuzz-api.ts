/**
 * API fuzzing against a real server process (issue 6): `npx tsx scripts/fuzz-api.ts [--count 10000] [--seed 1]
 * [--concurrency 8]`. Thin wrapper over test/support/fuzz.ts: starts `node --import tsx src/main.ts` on a
 * temp data dir and a free port, seeds collections, sends the generated requests, then checks the process is
 * alive and /health, /ready and a search answer 200. Exits 1 on any 5xx (other than 503), connection failure,
 * non-envelope error body, or a dead server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkAlive, runFuzz, seedFuzzCollections } from '../test/support/fuzz.js';
import { readRssBytes, spawnServer } from '../test/support/server-process.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
  },
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
const dataDir = await mkdtemp(path.join(tmpdir(), 'spladex-fuzz-'));
const server = await spawnServer({ dataDir, env: { SPLADEX_LOG_LEVEL: 'info', SPLADEX_MEMTABLE_MAX_DOCS: '200' } });
let code = 1;
try {
  await seedFuzzCollections(server.base);
  const report = await runFuzz(server.base, {
    count: Number(values.count),
    seed: Number(values.seed),
    concurrency: Number(values.concurrency),
    onProgress: (n) => process.stdout.write(`  ${n} requests\n`),
  });
  const alive = server.child.exitCode === null && server.child.signalCode === null;
  const problems = alive ? await checkAlive(server.base) : ['server process exited'];
  const rss = await readRssBytes(server.pid);
  console.log(
    `fuzz: ${report.requests} requests in ${(report.tookMs / 1000).toFixed(1)} s (seed ${values.seed}, concurrency ${values.concurrency})`,
  );
  console.log(`status counts: ${JSON.stringify(report.byStatus)}`);
  console.log(
    `answered before the body was fully sent (server read Content-Length and answered early; counted above): ${JSON.stringify(report.earlyAnswers)}`,
  );
  console.log(
    `closed with no answer received while sending a body over the body limit (refused from Content-Length; not a failure): ${report.closedOverLimit}; the same with a content type the server refuses from the headers (415): ${report.closedRefusedType}`,
  );
  console.log(
    `5xx other than 503 / connection failures: ${report.failureCount}; 503 BUSY (shed): ${report.busy}; non-envelope error bodies: ${report.badEnvelopes}`,
  );
  console.log(
    `after the run: server ${alive ? 'alive' : 'DEAD'}, RSS ${rss === null ? '?' : `${(rss / 2 ** 20).toFixed(0)} MiB`}, checks: ${problems.length === 0 ? '/health 200, /ready 200, search 200' : problems.join('; ')}`,
  );
  for (const f of report.failures)
    console.log(
      `FAIL ${f.request.method} ${f.request.path} [${f.request.contentType}] ${JSON.stringify(f.request.body)} → ${f.answer.status} ${f.answer.error ?? ''} ${f.answer.body}`,
    );
  const errLines = server
    .output()
    .split('\n')
    .filter((l) => l.includes('"level":50') || l.includes('"level":60'));
  if (errLines.length > 0)
    console.log(
      `server error log lines: ${errLines.length}\n${errLines
        .slice(0, 5)
        .map((l) => l.slice(0, 600))
        .join('\n')}`,
    );
  code = report.failureCount === 0 && report.badEnvelopes === 0 && problems.length === 0 ? 0 : 1;
} finally {
  server.kill('SIGTERM');
  await server.exited;
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(code);
