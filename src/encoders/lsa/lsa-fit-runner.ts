/**
 * Runs an LSA fit (+ projection of the fitted texts) in a `worker_threads` worker, so the event loop keeps serving
 * while a collection's model is (re)fitted: a SciFact fit is seconds of CPU, and the server sheds requests once
 * the loop lags by 1 s. One short-lived worker per fit (same pattern as src/segment/seal-runner.ts). `inline` runs
 * it on the caller's thread (tests, environments without workers).
 * Callers: src/search/dense-part.ts.
 */
import { SpladexError } from '../../core/errors.js';
import { fromWireError, startWorker, workerUrl, type WireError } from '../../core/worker-thread.js';
import { fitLsa, lsaModelFromArrays, projectLsa, type LsaFitOptions, type LsaModel } from './lsa-encoder.js';

export interface LsaFitResult {
  model: LsaModel;
  /** Projection of text i at `vectors.subarray(i·dim, (i+1)·dim)`. */
  vectors: Float32Array;
}

/** Bounds of a worker fit. */
export interface LsaFitControl {
  /** Wall-clock budget (ms): past it the worker is terminated and the fit rejects with BUSY naming the budget. */
  timeoutMs?: number;
  /** Aborting terminates the worker (shutdown); the fit rejects. */
  signal?: AbortSignal;
}

/**
 * Fits a model on `texts` and projects them, in a worker (default) or inline (no timeout: tests only). A worker
 * fit past `control.timeoutMs`, or aborted, has its worker terminated: the fit stops burning a core and the
 * thread cannot keep the process alive (issue 12.4). The worker is unref'd for the same reason.
 */
export async function fitAndProjectLsa(
  texts: string[],
  options: LsaFitOptions,
  mode: 'worker' | 'inline' = 'worker',
  control: LsaFitControl = {},
): Promise<LsaFitResult> {
  if (mode === 'inline') {
    const model = fitLsa(texts, options);
    const vectors = new Float32Array(texts.length * model.dim);
    projectLsa(model, texts).forEach((v, i) => vectors.set(v, i * model.dim));
    return { model, vectors };
  }
  if (control.signal?.aborted) throw new SpladexError('BUSY', 'lsa fit cancelled: shutting down');
  const worker = startWorker(workerUrl(import.meta.url, './lsa-fit-worker'));
  worker.unref();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<LsaFitResult>((resolve, reject) => {
      worker.once(
        'message',
        (msg: { ok: boolean; arrays?: Record<string, ArrayBufferView>; vectors?: Float32Array; error?: WireError }) => {
          if (!msg.ok) {
            reject(fromWireError(msg.error, 'lsa fit failed'));
            return;
          }
          const arrays = msg.arrays as Record<string, ArrayBufferView>;
          resolve({ model: lsaModelFromArrays((n) => arrays[n]), vectors: msg.vectors as Float32Array });
        },
      );
      worker.once('error', reject);
      worker.once('exit', (c) => reject(new SpladexError('INTERNAL', `lsa fit worker exited with code ${c}`)));
      if (control.timeoutMs !== undefined) {
        const ms = control.timeoutMs;
        timer = setTimeout(
          () => reject(new SpladexError('BUSY', `lsa fit cancelled: ran past its ${ms} ms budget (SPLADEX_LSA_FIT_TIMEOUT_MS)`)),
          ms,
        );
        timer.unref();
      }
      onAbort = () => reject(new SpladexError('BUSY', 'lsa fit cancelled: shutting down'));
      control.signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ texts, options });
    });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort !== undefined) control.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
