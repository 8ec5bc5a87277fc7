/**
 * Issue 17, acceptance 2 (short form; scripts/cluster-faults.ts is the longer run): under a write and search
 * load, kill -9 a spladex replica, then a NATS node, restart both; no acknowledged write is lost (every acked id
 * is in every replica of its shard, by id and by search), searches keep being answered (the longest gap is
 * bounded), and the restarted replica catches up. Skips when nats-server is not installed.
 */
import { describe, expect, it } from 'vitest';
import { runFaults } from './support/cluster-faults.js';
import { natsServerAvailable } from './support/nats-cluster.js';

describe.skipIf(!natsServerAvailable())('cluster mode under faults', () => {
  it('kill -9 a spladex replica and a NATS node, restart both: 0 acknowledged writes lost, searches keep answering', async () => {
    const report = await runFaults({ batchesPerPhase: 5, batchDocs: 20 });
    process.stdout.write(`cluster faults: ${JSON.stringify(report)}\n`);
    expect(report.acknowledgedDocs).toBeGreaterThan(0);
    expect(report.replicasChecked).toBe(4);
    expect(report.lostById).toBe(0);
    expect(report.lostBySearch).toBe(0);
    expect(report.longestUnansweredMs).toBeLessThan(10_000);
    expect(report.catchUpMs).toBeLessThan(60_000);
  });
});
