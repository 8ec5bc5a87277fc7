// Worker-thread entry for segment builds (seal-runner.ts starts it). Plain .mjs because a worker is a fresh
// isolate without vitest's loader: when the job module cannot be imported as compiled JS (running from TypeScript
// sources under vitest, or tsx without inherited loader flags), it registers tsx's ESM hooks and imports the .ts.
// Protocol: receives one SegmentJob message, answers {ok: true, result} or {ok: false, error: {message, code}}.
import { parentPort } from 'node:worker_threads';

let job;
try {
  job = await import('./seal-job.js');
} catch {
  const { register } = await import('tsx/esm/api');
  register();
  job = await import('./seal-job.ts');
}

parentPort.once('message', async (msg) => {
  try {
    const result = await job.runSegmentJob(msg);
    parentPort.postMessage({ ok: true, result });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: { message: String(err?.message ?? err), code: err?.code ?? null } });
  }
});
