/**
 * Worker-thread entry for segment builds (seal-runner.ts starts it through src/core/worker-thread.ts).
 * Protocol: receives one SegmentJob message, answers {ok: true, result} or {ok: false, error: WireError} (the
 * SpladexError code survives the thread boundary).
 */
import { parentPort } from 'node:worker_threads';
import { toWireError } from '../core/worker-thread.js';
import { runSegmentJob, type SegmentJob } from './seal-job.js';

parentPort?.once('message', (msg: SegmentJob) => {
  runSegmentJob(msg).then(
    (result) => parentPort?.postMessage({ ok: true, result }),
    (err: unknown) => parentPort?.postMessage({ ok: false, error: toWireError(err) }),
  );
});
