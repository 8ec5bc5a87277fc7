/**
 * Worker entry of src/index/wasm-kernels.test.ts: receives a forward index in a shared wasm memory (as a search
 * worker receives a segment's files) and doc ords, scores them with the wasm kernel over that memory, and posts
 * the scores back. The query is the test's fixed pattern.
 */
import { parentPort } from 'node:worker_threads';
import type { ForwardIndex } from '../../src/index/forward-index.js';
import { WasmScorer } from '../../src/index/wasm-kernels.js';

parentPort?.once('message', (m: { forward: ForwardIndex; docs: Uint32Array }) => {
  const scorer = WasmScorer.forForward(m.forward, m.forward.dim, 64);
  if (scorer === null) throw new Error('no wasm scorer in the worker');
  for (let t = 0; t < m.forward.dim; t += 3) scorer.q[t] = (t % 7) - 2;
  scorer.input.set(m.docs);
  scorer.score(m.docs.length);
  parentPort?.postMessage(Float64Array.from(scorer.out.subarray(0, m.docs.length)));
});
