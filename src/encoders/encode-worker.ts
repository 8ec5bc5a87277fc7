/**
 * Body of an encode worker thread (started by WorkerPool through src/core/worker-thread.ts). Opens the encode
 * pipeline of one encoder directory from `workerData` ({dir, name, manifest}), reports `ready` or `init-error`
 * (validation errors keep their code, so a bad encoder directory surfaces as INVALID_ARGUMENT at open), then answers
 * `task` messages `{texts, as}` with CSR-packed sparse or row-major dense results whose buffers are transferred.
 * ONNX inference blocks this thread, never the server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toWireError } from '../core/worker-thread.js';
import type { EncodeKind } from './encoder.js';
import type { EncoderManifest } from './manifest.js';
import { openPipeline, type EncodePipeline, type PackedResult } from './pipeline.js';

/** What the pool passes as `workerData`. */
export interface EncodeWorkerData {
  dir: string;
  name: string;
  manifest: EncoderManifest;
}

/** A task payload. */
export interface EncodeTask {
  texts: string[];
  as: EncodeKind;
}

function transferList(r: PackedResult): ArrayBuffer[] {
  if (r.kind === 'dense') return [r.data.buffer as ArrayBuffer];
  return [r.offsets.buffer as ArrayBuffer, r.indices.buffer as ArrayBuffer, r.values.buffer as ArrayBuffer];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('encode-worker must run in a worker thread');
  const data = workerData as EncodeWorkerData;
  let pipeline: EncodePipeline;
  try {
    pipeline = await openPipeline({ dir: data.dir, name: data.name, manifest: data.manifest });
  } catch (e) {
    port.postMessage({ type: 'init-error', ...toWireError(e) });
    return;
  }
  port.on('message', (msg: { type: 'task'; id: number; payload: EncodeTask }) => {
    pipeline.encode(msg.payload.texts, msg.payload.as).then(
      (result) => port.postMessage({ type: 'result', id: msg.id, ok: true, result }, transferList(result)),
      (e: unknown) => port.postMessage({ type: 'result', id: msg.id, ok: false, ...toWireError(e) }),
    );
  });
  port.postMessage({ type: 'ready' });
}

void main();
