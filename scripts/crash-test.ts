/**
 * Crash test (issue 6): `npx tsx scripts/crash-test.ts [--cycles 30] [--seed 1] [--writers 3] [--memtable 40]
 * [--no-inspect]`. Thin wrapper over test/support/crash.ts; prints one row per cycle and exits 1 on any
 * failure.
 */
import { parseArgs } from 'node:util';
import { runCrashTest, TABLE_HEADER } from '../test/support/crash.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    writers: { type: 'string', default: '3' },
    memtable: { type: 'string', default: '40' },
    'min-kill-ms': { type: 'string', default: '300' },
    'max-kill-ms': { type: 'string', default: '3000' },
    'no-inspect': { type: 'boolean', default: false },
  },
});
// Interrupted: exit through process.exit so the server children are reaped (server-process.ts).
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
console.log(TABLE_HEADER);
const t0 = performance.now();
const results = await runCrashTest({
  cycles: Number(values.cycles),
  seed: Number(values.seed),
  writers: Number(values.writers),
  memtableMaxDocs: Number(values.memtable),
  minKillMs: Number(values['min-kill-ms']),
  maxKillMs: Number(values['max-kill-ms']),
  inspect: !values['no-inspect'],
  log: (line) => console.log(line),
});
const failed = results.filter((r) => r.failures.length > 0);
const sum = (f: (r: (typeof results)[number]) => number) => results.reduce((a, r) => a + f(r), 0);
console.log(
  `\n${results.length - 1} kill cycles + final check in ${Math.round((performance.now() - t0) / 1000)} s: ` +
    `${sum((r) => r.ackedUpsertDocs)} acknowledged doc writes, ${sum((r) => r.ackedDeletes)} acknowledged deletes, ` +
    `${sum((r) => r.inFlightAtKill)} writes in flight at kills, ${sum((r) => r.busyWrites)} writes shed with 503, ${sum((r) => r.tornTails)} torn WAL tails repaired, ` +
    `${results.filter((r) => r.inspectOk === true).length} inspections ok; ${failed.length} cycles failed`,
);
for (const r of failed) for (const f of r.failures) console.log(`cycle ${r.cycle}: ${f}`);
process.exit(failed.length === 0 ? 0 : 1);
