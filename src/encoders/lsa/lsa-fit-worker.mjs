// Worker-thread entry for LSA fits (lsa-fit-runner.ts starts it). Plain .mjs because a worker is a fresh isolate
// without vitest's or tsx's loader: it registers tsx's ESM hooks, then imports the TypeScript encoder module.
// Protocol: receives {texts, options}; answers {ok: true, arrays, vectors} (model arrays of lsaModelToArrays and
// the texts' projections as one row-major Float32Array, both transferred) or {ok: false, error: {message}}.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { fitLsa, projectLsa, lsaModelToArrays } = await import('./lsa-encoder.ts');

parentPort.once('message', ({ texts, options }) => {
  try {
    const model = fitLsa(texts, options);
    const rows = projectLsa(model, texts);
    const vectors = new Float32Array(rows.length * model.dim);
    rows.forEach((v, i) => vectors.set(v, i * model.dim));
    const arrays = lsaModelToArrays(model);
    const transfer = [vectors.buffer, ...Object.values(arrays).map((a) => a.buffer)];
    parentPort.postMessage({ ok: true, arrays, vectors }, transfer);
  } catch (err) {
    parentPort.postMessage({ ok: false, error: { message: String(err?.message ?? err) } });
  }
});
