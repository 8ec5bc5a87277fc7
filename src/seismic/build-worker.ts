/**
 * Worker-thread entry for the parallel Seismic build (build-parallel.ts). Receives the shared (SharedArrayBuffer)
 * forward index, pruned lists and doc heads once, then builds one list range per `range` message and posts the
 * `ListRangeResult` back with its buffers transferred. Holds no state between ranges except scratch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IndexBuildConfig } from '../config/index-config.js';
import type { ForwardIndex } from '../index/forward-index.js';
import type { PrunedLists } from './pruning.js';
import type { DocHeads } from './clustering.js';
import { buildListRange } from './build.js';

interface Init {
  forward: ForwardIndex;
  lists: PrunedLists;
  heads: DocHeads;
  config: IndexBuildConfig;
}

const init = workerData as Init;
const port = parentPort;
if (port) {
  port.on('message', (msg: { t0: number; t1: number }) => {
    const r = buildListRange(init.forward, init.lists, init.heads, init.config, msg.t0, msg.t1);
    port.postMessage(r, [
      r.postingDocs.buffer,
      r.listBlockCounts.buffer,
      r.blockEnds.buffer,
      r.listCompCounts.buffer,
      r.compTerms.buffer,
      r.compEntryEnds.buffer,
      r.entryBlocks.buffer,
      r.entryCodes.buffer,
      r.summaryMin.buffer,
      r.summaryStep.buffer,
    ] as ArrayBuffer[]);
  });
}
