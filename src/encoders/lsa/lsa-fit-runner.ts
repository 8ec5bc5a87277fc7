/**
 * Runs an LSA fit (+ projection of the fitted texts) in a `worker_threads` worker, so the event loop keeps serving
 * while a collection's model is (re)fitted: a SciFact fit is seconds of CPU, and the server sheds requests once
 * the loop lags by 1 s. One short-lived worker per fit (same pattern as src/index/seal-runner.ts). `inline` runs
 * it on the caller's thread (tests, environments without workers).
 * Callers: src/search/dense-part.ts.
 */
import { Worker } from 'node:worker_threads';
import { fitLsa, lsaModelFromArrays, projectLsa, type LsaFitOptions, type LsaModel } from './lsa-encoder.js';

export interface LsaFitResult {
  model: LsaModel;
  /** Projection of text i at `vectors.subarray(i·dim, (i+1)·dim)`. */
  vectors: Float32Array;
}

/** Fits a model on `texts` and projects them, in a worker (default) or inline. */
export async function fitAndProjectLsa(texts: string[], options: LsaFitOptions, mode: 'worker' | 'inline' = 'worker'): Promise<LsaFitResult> {
  if (mode === 'inline') {
    const model = fitLsa(texts, options);
    const vectors = new Float32Array(texts.length * model.dim);
    projectLsa(model, texts).forEach((v, i) => vectors.set(v, i * model.dim));
    return { model, vectors };
  }
  // --input-type (from `node --input-type=module -e …` parents) is rejected by workers started from a file.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const worker = new Worker(new URL('./lsa-fit-worker.mjs', import.meta.url), { execArgv });
  try {
    return await new Promise<LsaFitResult>((resolve, reject) => {
      worker.once('message', (msg: { ok: boolean; arrays?: Record<string, ArrayBufferView>; vectors?: Float32Array; error?: { message: string } }) => {
        if (!msg.ok) {
          reject(new Error(`lsa fit failed: ${msg.error?.message ?? 'unknown error'}`));
          return;
        }
        const arrays = msg.arrays as Record<string, ArrayBufferView>;
        resolve({ model: lsaModelFromArrays((n) => arrays[n]), vectors: msg.vectors as Float32Array });
      });
      worker.once('error', reject);
      worker.once('exit', (c) => reject(new Error(`lsa fit worker exited with code ${c}`)));
      worker.postMessage({ texts, options });
    });
  } finally {
    await worker.terminate();
  }
}
