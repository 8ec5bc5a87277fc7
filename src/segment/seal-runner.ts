/**
 * Runs segment build jobs (seal-job.ts) in a `worker_threads` worker so the event loop keeps serving searches
 * and writes during a seal, or inline (for callers without threads). One short-lived worker per job: a seal is
 * seconds of work, so the ~100 ms worker start is noise and no idle thread is kept. Large typed arrays of a seal
 * job are transferred, not copied. Callers: store-seal-merge.ts.
 */
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { asStorageError, SpladexError, storageFull } from '../core/errors.js';
import { fromWireError, startWorker, workerUrl, type WireError } from '../core/worker-thread.js';
import { runSegmentJob, type SegmentJob } from './seal-job.js';
import type { SegmentBuildResult } from './segment-writer.js';

export type SealMode = 'worker' | 'inline';

/**
 * Runs `job` per `mode`; errors keep their SpladexError code, and ENOSPC/EDQUOT become STORAGE_FULL. A failed job
 * leaves no `<dir>.tmp` behind, even when the worker died without running its own cleanup (out of memory,
 * terminated), so a later seal starts clean.
 */
export async function runJob(job: SegmentJob, mode: SealMode): Promise<SegmentBuildResult> {
  try {
    return await runJobIn(job, mode);
  } catch (err) {
    await rm(`${job.dir}.tmp`, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function runJobIn(job: SegmentJob, mode: SealMode): Promise<SegmentBuildResult> {
  if (mode === 'inline') {
    try {
      return await runSegmentJob(job);
    } catch (err) {
      throw asStorageError(err, `segment ${basename(job.dir)}`);
    }
  }
  const worker = startWorker(workerUrl(import.meta.url, './seal-worker'));
  try {
    return await new Promise<SegmentBuildResult>((resolve, reject) => {
      worker.once('message', (msg: { ok: boolean; result?: SegmentBuildResult; error?: WireError }) => {
        if (msg.ok) resolve(msg.result as SegmentBuildResult);
        else {
          const err = fromWireError(msg.error, 'segment build failed');
          reject(err.code === 'STORAGE_FULL' ? storageFull(`segment ${basename(job.dir)}`, err) : err);
        }
      });
      worker.once('error', reject);
      worker.once('exit', (c) => reject(new SpladexError('INTERNAL', `segment build worker exited with code ${c}`)));
      const transfer =
        job.kind === 'seal'
          ? [job.docs.offsets.buffer, job.docs.termIds.buffer, job.docs.values.buffer].concat(
              job.docs.dense !== null ? [job.docs.dense.buffer] : [],
            )
          : [];
      worker.postMessage(job, transfer as ArrayBuffer[]);
    });
  } finally {
    await worker.terminate();
  }
}
