/**
 * Worker-thread entry for LSA fits (lsa-fit-runner.ts starts it through src/core/worker-thread.ts).
 * Protocol: receives {texts, options}; answers {ok: true, arrays, vectors} (model arrays of lsaModelToArrays and
 * the texts' projections as one row-major Float32Array, both transferred) or {ok: false, error: WireError}.
 */
import { parentPort } from 'node:worker_threads';
import { toWireError } from '../../core/worker-thread.js';
import { fitLsa, lsaModelToArrays, projectLsa, type LsaFitOptions } from './lsa-encoder.js';

parentPort?.once('message', ({ texts, options }: { texts: string[]; options: LsaFitOptions }) => {
  try {
    const model = fitLsa(texts, options);
    const rows = projectLsa(model, texts);
    const vectors = new Float32Array(rows.length * model.dim);
    rows.forEach((v, i) => vectors.set(v, i * model.dim));
    const arrays = lsaModelToArrays(model);
    const transfer = [vectors.buffer, ...Object.values(arrays).map((a) => a.buffer)] as ArrayBuffer[];
    parentPort?.postMessage({ ok: true, arrays, vectors }, transfer);
  } catch (err) {
    parentPort?.postMessage({ ok: false, error: toWireError(err) });
  }
});
