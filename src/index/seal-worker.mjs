// Worker-thread entry for segment builds (seal-runner.ts starts it). Plain .mjs because a worker is a fresh
// isolate without vitest's or tsx's loader: it registers tsx's ESM hooks, then imports the TypeScript job module.
// Protocol: receives one SegmentJob message, answers {ok: true, result} or {ok: false, error: {message, code}}.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runSegmentJob } = await import('./seal-job.ts');

parentPort.once('message', async (job) => {
  try {
    const result = await runSegmentJob(job);
    parentPort.postMessage({ ok: true, result });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: { message: String(err?.message ?? err), code: err?.code ?? null } });
  }
});
