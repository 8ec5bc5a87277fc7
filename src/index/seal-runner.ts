/**
 * Runs segment build jobs (seal-job.ts) in a `worker_threads` worker so the event loop keeps serving searches
 * and writes during a seal, or inline (for callers without threads). One short-lived worker per job: a seal is
 * seconds of work, so the ~100 ms worker start is noise and no idle thread is kept. Large typed arrays of a seal
 * job are transferred, not copied. Callers: collection-store.ts.
 */
import { rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { SpladexError, type ErrorCode } from '../core/errors.js';
import { runSegmentJob, type SegmentJob } from './seal-job.js';
import type { SegmentBuildResult } from './segment-writer.js';

const KNOWN_CODES = new Set<string>(['INVALID_ARGUMENT', 'NOT_FOUND', 'CONFLICT', 'BUSY', 'CORRUPT_INDEX', 'INTERNAL']);

export type SealMode = 'worker' | 'inline';

/**
 * Runs `job` per `mode`; errors keep their SpladexError code. A failed job leaves no `<dir>.tmp` behind, even when
 * the worker died without running its own cleanup (out of memory, terminated), so a later seal starts clean.
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
  if (mode === 'inline') return runSegmentJob(job);
  // --input-type (from `node --input-type=module -e …` parents) is rejected by workers started from a file.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const worker = new Worker(new URL('./seal-worker.mjs', import.meta.url), { execArgv });
  try {
    return await new Promise<SegmentBuildResult>((resolve, reject) => {
      worker.once('message', (msg: { ok: boolean; result?: SegmentBuildResult; error?: { message: string; code: string | null } }) => {
        if (msg.ok) resolve(msg.result as SegmentBuildResult);
        else {
          const raw = msg.error?.code ?? 'INTERNAL';
          const code: ErrorCode = KNOWN_CODES.has(raw) ? (raw as ErrorCode) : 'INTERNAL';
          reject(new SpladexError(code, msg.error?.message ?? 'segment build failed'));
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
