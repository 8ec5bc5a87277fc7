/**
 * Mixed read/write test (issue 6): `npx tsx scripts/mixed-test.ts [--writers 4] [--readers 16] [--duration 60]
 * [--batch 20] [--k 50] [--memtable 2000] [--seed 1]`. Thin wrapper over test/support/mixed.ts; exits 1 on
 * any error or a reader seeing a batch partially.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runMixedTest } from '../test/support/mixed.js';

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '4' },
    readers: { type: 'string', default: '16' },
    duration: { type: 'string', default: '60' },
    batch: { type: 'string', default: '20' },
    k: { type: 'string', default: '50' },
    memtable: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
  },
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
const load0 = os.loadavg();
const r = await runMixedTest({
  writers: Number(values.writers),
  readers: Number(values.readers),
  durationSec: Number(values.duration),
  batchDocs: Number(values.batch),
  k: Number(values.k),
  memtableMaxDocs: Number(values.memtable),
  seed: Number(values.seed),
});
console.log(
  `mixed: ${values.writers} writers, ${values.readers} readers, ${r.tookSec.toFixed(1)} s: ${r.batchesWritten} batches written (${r.docWrites} doc writes), ` +
    `${r.batchesReplaced} replaced, ${r.batchesDeleted} deleted; ${r.searches} searches (${(r.searches / r.tookSec).toFixed(0)}/s)`,
);
console.log(
  `write errors ${r.writeErrors}, read errors ${r.readErrors}, partial batches seen ${r.partialBatchSeen}, violations ${r.violationCount}`,
);
console.log(`at end: ${r.documentsAtEnd} documents (expected ${r.expectedDocumentsAtEnd}), ${r.segmentsAtEnd} segments`);
console.log(
  `load average before ${load0.map((x) => x.toFixed(1)).join('/')}, after ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join('/')}`,
);
for (const v of r.violations) console.log(`VIOLATION ${v}`);
const ok = r.violationCount === 0 && r.writeErrors === 0 && r.readErrors === 0;
console.log(ok ? 'PASS' : 'FAIL');
process.exit(ok ? 0 : 1);
