/**
 * Issue 17's fault run (acceptance 2) at a larger size than the test: `npx tsx scripts/cluster-faults.ts
 * [batchesPerPhase=40] [batchDocs=50]`. Prints each phase and the report (JSON): acknowledged documents, write and
 * search errors, longest interval without a search answer, catch-up time of the restarted replica, and acknowledged
 * ids missing from a replica (must be 0). The logic is test/support/cluster-faults.ts.
 */
import { runFaults } from '../test/support/cluster-faults.js';

const batchesPerPhase = Number(process.argv[2] ?? 40);
const batchDocs = Number(process.argv[3] ?? 50);
const report = await runFaults({ batchesPerPhase, batchDocs, log: (l) => process.stdout.write(`${l}\n`) });
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.lostById === 0 && report.lostBySearch === 0 ? 0 : 1);
