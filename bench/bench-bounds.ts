/**
 * Bounded-resources benchmark (issue 12 acceptance 2): `npx tsx bench/bench-bounds.ts [--docs 100000]
 * [--seed 1] [--max-body-bytes 33554432]`. Thin wrapper over bench/bounds-bench.ts; prints the worst /health
 * probe latency and peak RSS per heaviest accepted request (and two refused ones, for information); exits 1 when,
 * during an accepted request, a probe waited > 250 ms or RSS reached 1.5 GB.
 */
import { parseArgs } from 'node:util';
import { formatBoundsTable, runBoundsBench } from './bounds-bench.js';

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    'max-body-bytes': { type: 'string', default: String(32 * 1024 * 1024) },
  },
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
const rows = await runBoundsBench({
  docs: Number(values.docs),
  seed: Number(values.seed),
  maxBodyBytes: Number(values['max-body-bytes']),
  log: (line) => console.error(line),
});
console.log(formatBoundsTable(rows));
const accepted = rows.filter((r) => r.status === 200);
const ok = accepted.length === 3 && accepted.every((r) => r.worstProbeMs <= 250 && r.peakRssMiB < 1536 && r.hwmMiB < 1536);
console.log(
  ok
    ? 'PASS (accepted requests: worst probe <= 250 ms, RSS < 1.5 GB)'
    : 'FAIL (an accepted request: probe > 250 ms or RSS >= 1.5 GB, or not 200)',
);
process.exit(ok ? 0 : 1);
