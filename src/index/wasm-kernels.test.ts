/**
 * The wasm scoring kernels (wasm-kernels.ts, score-kernels.wat): the committed .wat is its generator's output and
 * the committed bytes are what it assembles to; each kernel equals the JavaScript loop it replaces bit for bit (random rows of every length, 16- and 32-bit
 * term ids, empty rows, negative query weights, every half-float pattern); a file read with `wasm` carries its memory and the
 * searcher over it returns exactly what the JavaScript scoring returns; a worker thread scores in the same memory;
 * a memory that cannot grow falls back to JavaScript.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { readSectionFile, writeSectionFile } from '../core/section-file.js';
import { Wasm } from '../core/wasm-api.js';
import { startWorker } from '../core/worker-thread.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { buildForwardIndex, scoreDocs, type ForwardIndex } from './forward-index.js';
import {
  compileKernels,
  copyIntoWasmMemory,
  forwardInWasmMemory,
  kernelsOver,
  summariesInWasmMemory,
  WasmScorer,
  WasmSummaries,
} from './wasm-kernels.js';
import { SCORE_KERNELS_WASM } from './score-kernels.wasm.js';
import { buildHalfRows, halfTable, scoreHalfRows, scoreHalfRowsNormal } from '../seismic/half-rows.js';
import { buildSeismicIndex } from '../seismic/build.js';
import { SeismicSearcher } from '../seismic/searcher.js';
import { seismicInWasmMemory } from '../seismic/seismic-index.js';
import { randomSparseVectors } from '../../test/support/random-vectors.js';
import { assembledModuleSource } from '../../scripts/build-wasm.mjs';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Random docs of 1 to maxTerms terms, and every fifth one empty (so rows of every length). */
function randomForward(seed: number, n: number, dim: number, maxTerms: number): ForwardIndex {
  const docs = randomSparseVectors(seed, n, dim, maxTerms, (rng) => 0.001 + rng.next() * 3);
  const empty = { indices: new Uint32Array(0), values: new Float32Array(0) };
  return buildForwardIndex(
    docs.map((d, i) => (i % 5 === 4 ? empty : d)),
    dim,
  );
}

function denseQuery(rng: Rng, q: Float32Array, terms: number): void {
  for (let i = 0; i < terms; i++) q[Math.floor(rng.next() * q.length)] = (rng.next() - 0.3) * 2;
}

describe('wasm scoring kernels', () => {
  it('the committed .wat is what its generator writes, and the committed module what the .wat assembles to', async () => {
    const gen = fileURLToPath(new URL('../../scripts/gen-score-kernels.py', import.meta.url));
    expect(execFileSync('python3', [gen, '--check'], { encoding: 'utf8' })).toContain('up to date');
    const committed = readFileSync(new URL('./score-kernels.wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await assembledModuleSource());
  });

  for (const dim of [30522, 100_000]) {
    it(`scores forward-index docs bit for bit as scoreDocs (${dim > 65536 ? '32' : '16'}-bit term ids)`, () => {
      const forward = forwardInWasmMemory(randomForward(dim, 3000, dim, 300));
      expect(forward.termIds instanceof (dim > 65536 ? Uint32Array : Uint16Array)).toBe(true);
      const scorer = WasmScorer.forForward(forward, dim, 64);
      expect(scorer).not.toBeNull();
      const s = scorer as WasmScorer;
      const rng = new Rng(9);
      const jsOut = new Float64Array(64);
      for (let round = 0; round < 300; round++) {
        s.q.fill(0);
        denseQuery(rng, s.q, 1 + Math.floor(rng.next() * 200));
        const n = Math.floor(rng.next() * 65);
        for (let i = 0; i < n; i++) s.input[i] = Math.floor(rng.next() * forward.numDocs);
        s.score(n);
        scoreDocs(forward, s.input, n, s.q, jsOut);
        for (let i = 0; i < n; i++) expect(Object.is(s.out[i], jsOut[i]), `doc ${s.input[i]}: ${s.out[i]} vs ${jsOut[i]}`).toBe(true);
      }
    });
  }

  it('scores half-float rows bit for bit as scoreHalfRows (any half) and scoreHalfRowsNormal (normal halves, f32 lanes), and converts every half pattern as halfTable', () => {
    const forward = randomForward(4, 2000, 30522, 250);
    const postingDocs = Uint32Array.from({ length: forward.numDocs }, (_, d) => d);
    const rows = buildHalfRows(forward, postingDocs);
    expect(rows).not.toBeNull();
    const hr = rows as NonNullable<typeof rows>;
    // Non-negative weights: every half is normal (tiny ones raised to the smallest normal).
    expect(hr.normal).toBe(true);
    const { copies, memory } = copyIntoWasmMemory([hr.rows]);
    const tbl = halfTable();
    const k = kernelsOver(memory);
    for (let h = 0; h < 65536; h++) {
      const v = k.halfValue(h);
      expect(Object.is(v, tbl[h]) || (Number.isNaN(v) && Number.isNaN(tbl[h])), `half ${h.toString(16)}: ${v} vs ${tbl[h]}`).toBe(true);
    }
    for (const normal of [true, false]) {
      const scorer = WasmScorer.forHalfRows(copies[0], normal, memory, forward.dim, 64) as WasmScorer;
      expect(scorer).not.toBeNull();
      const rng = new Rng(11);
      const ends = new Uint32Array(64);
      const jsOut = new Float64Array(64);
      for (let round = 0; round < 300; round++) {
        scorer.q.fill(0);
        denseQuery(rng, scorer.q, 1 + Math.floor(rng.next() * 200));
        const n = Math.floor(rng.next() * 65);
        for (let i = 0; i < n; i++) scorer.input[i] = hr.postingRows[Math.floor(rng.next() * forward.numDocs)];
        scorer.score(n);
        if (normal) scoreHalfRowsNormal(hr.rows, scorer.input, n, scorer.q, tbl, jsOut);
        else scoreHalfRows(hr.rows, scorer.input, ends, n, scorer.q, tbl, jsOut);
        for (let i = 0; i < n; i++) expect(Object.is(scorer.out[i], jsOut[i])).toBe(true);
      }
    }
  });

  it('the kernels compile here, and bytes an engine refuses give no module (the searcher then scores in JavaScript)', () => {
    expect(compileKernels(Buffer.from(SCORE_KERNELS_WASM, 'base64'))).not.toBeNull();
    // The module with its SIMD opcode prefix (0xfd) replaced by an undefined one: a CompileError, as an engine
    // without wasm SIMD raises for the real bytes.
    const bytes = Buffer.from(SCORE_KERNELS_WASM, 'base64');
    const broken = Buffer.from(bytes);
    let at = -1;
    for (let i = bytes.length - 1; i >= 0 && at < 0; i--) if (bytes[i] === 0xfd && bytes[i + 1] === 0x0c) at = i;
    expect(at).toBeGreaterThan(0);
    broken[at] = 0xff;
    expect(compileKernels(broken)).toBeNull();
  });

  it('the touch pass reads ahead every input row and changes no score (f32 rows of both id widths, half-float rows)', () => {
    const rng = new Rng(21);
    // Each case: a scorer with the touch pass and one without over the same arrays, and how to pick an input.
    const cases: { on: WasmScorer; off: WasmScorer; pick: () => number; last: number }[] = [];
    for (const dim of [30522, 100_000]) {
      // The last doc is empty (every fifth is): its touches stop at its own first entry, one past the values.
      const forward = forwardInWasmMemory(randomForward(dim + 1, 1000, dim, 300));
      const on = WasmScorer.forForward(forward, dim, 64) as WasmScorer;
      const off = WasmScorer.forForward(forward, dim, 64, false) as WasmScorer;
      cases.push({ on, off, pick: () => Math.floor(rng.next() * forward.numDocs), last: forward.numDocs - 1 });
    }
    const forward = randomForward(5, 1000, 30522, 300);
    const hr = buildHalfRows(
      forward,
      Uint32Array.from({ length: forward.numDocs }, (_, d) => d),
    );
    const rows = hr as NonNullable<typeof hr>;
    const { copies, memory } = copyIntoWasmMemory([rows.rows]);
    for (const normal of [true, false]) {
      const on = WasmScorer.forHalfRows(copies[0], normal, memory, forward.dim, 64) as WasmScorer;
      const off = WasmScorer.forHalfRows(copies[0], normal, memory, forward.dim, 64, false) as WasmScorer;
      const pick = () => rows.postingRows[Math.floor(rng.next() * forward.numDocs)];
      cases.push({ on, off, pick, last: rows.postingRows[forward.numDocs - 1] });
    }
    for (const { on, off, pick, last } of cases) {
      let inputs = 0;
      for (let round = 0; round < 200; round++) {
        on.q.fill(0);
        denseQuery(rng, on.q, 1 + Math.floor(rng.next() * 200));
        off.q.set(on.q);
        const n = Math.floor(rng.next() * 65);
        for (let i = 0; i < n; i++) on.input[i] = i === n - 1 && round % 2 === 0 ? last : pick();
        off.input.set(on.input.subarray(0, n));
        on.score(n);
        off.score(n);
        inputs += n;
        for (let i = 0; i < n; i++) expect(Object.is(on.out[i], off.out[i]), `input ${on.input[i]}`).toBe(true);
      }
      expect(on.rowsTouched).toBe(inputs);
      expect(off.rowsTouched).toBe(0);
    }
  });

  it('falls back to JavaScript when the arrays are not in a wasm memory or the memory cannot grow', () => {
    const plain = randomForward(2, 50, 1000, 20);
    expect(WasmScorer.forForward(plain, 1000, 16)).toBeNull();
    const memory = new Wasm.Memory({ initial: 1, maximum: 1, shared: true });
    const offsets = new Uint32Array(memory.buffer, 0, 2);
    const termIds = new Uint16Array(memory.buffer, 8, 0);
    const values = new Float32Array(memory.buffer, 8, 0);
    expect(WasmScorer.forForward({ numDocs: 1, dim: 1000, offsets, termIds, values, memory }, 1000, 16)).toBeNull();
  });

  it('a segment file read with wasm carries its memory, and searches over it equal JavaScript scoring', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spladex-wasm-'));
    dirs.push(dir);
    const built = randomForward(7, 4000, 5000, 60);
    const path = join(dir, 'forward.bin');
    await writeSectionFile(path, 'forward', { offsets: built.offsets, termIds: built.termIds, values: built.values });
    const file = await readSectionFile(path, 'forward', { shared: true, wasm: true });
    expect(file.memory).toBeDefined();
    const plain = await readSectionFile(path, 'forward', { shared: true });
    expect(plain.memory).toBeUndefined();
    const forward: ForwardIndex = {
      numDocs: built.numDocs,
      dim: built.dim,
      offsets: file.sections.get('offsets') as Uint32Array,
      termIds: file.sections.get('termIds') as Uint16Array,
      values: file.sections.get('values') as Float32Array,
      memory: file.memory,
    };
    // f32 scoring (an index without rows): the wasm kernel over forward.bin's memory against the JavaScript loop.
    const config = IndexBuildConfigSchema.parse({ nPostings: 300 });
    const noRows = buildSeismicIndex(built, config, { halfRows: false });
    const pairs: [SeismicSearcher, SeismicSearcher][] = [
      [new SeismicSearcher(forward, noRows), new SeismicSearcher(forward, noRows, { wasm: false })],
    ];
    // Half-float ranking (the default build): the rows in a wasm memory (as seismic.bin is read) against JavaScript.
    const withRows = buildSeismicIndex(built, config);
    const hr = withRows.halfRows as NonNullable<typeof withRows.halfRows>;
    const { copies, memory } = copyIntoWasmMemory([hr.rows]);
    const rowsInWasm = { ...withRows, halfRows: { ...hr, rows: copies[0] } };
    // Rows and block summaries in one memory, as seismic.bin is read: the summaries are scored in wasm too.
    const both = seismicInWasmMemory(withRows) as NonNullable<ReturnType<typeof seismicInWasmMemory>>;
    // Rows from the first candidate, and from the 64th (the first 64 scored in f32, by the wasm rescorer).
    for (const rowsFromDocs of [0, 64]) {
      const viaJs = new SeismicSearcher(forward, withRows, { wasm: false, rowsFromDocs });
      pairs.push([new SeismicSearcher(forward, rowsInWasm, { halfRowsMemory: memory, rowsFromDocs }), viaJs]);
      const allWasm = new SeismicSearcher(forward, both.index, { halfRowsMemory: both.memory, rowsFromDocs });
      // The summary kernel is in use (a private field: nothing else shows which pass ran, the results are equal).
      expect((allWasm as unknown as { summaries: unknown }).summaries).toBeInstanceOf(WasmSummaries);
      expect((viaJs as unknown as { summaries: unknown }).summaries).toBeNull();
      pairs.push([allWasm, viaJs]);
    }
    const queries = randomSparseVectors(8, 50, 5000, 30, (rng) => rng.next());
    // Queries of 1–30 terms: the wasm summary pass reads every component of a list, the JavaScript one searches
    // each query term among them once a list has more than 32 per query term; both must score alike.
    const lco = withRows.listCompOffsets;
    const longest = Math.max(...Array.from({ length: withRows.dim }, (_, t) => lco[t + 1] - lco[t]));
    expect(queries.some((q) => longest > 32 * q.indices.length)).toBe(true);
    for (const [viaWasm, viaJs] of pairs) {
      for (const q of queries) {
        for (const [queryCut, heapFactor] of [
          [1, 0.9],
          [5, 0.8],
          [20, 1],
        ]) {
          const opts = { k: 10, queryCut, heapFactor, nKnn: 0, excluded: null };
          const a = viaWasm.search(q, opts);
          const b = viaJs.search(q, opts);
          expect(Array.from(a.ords)).toEqual(Array.from(b.ords));
          expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
          expect(a.docsScored).toBe(b.docsScored);
          expect(a.blocksScored).toBe(b.blocksScored);
          expect(viaWasm.lastSummaryEntries).toBe(viaJs.lastSummaryEntries);
        }
      }
    }
  });

  it("the block-summary kernel gives the JavaScript pass's summary scores bit for bit, 16- and 32-bit term ids, in chunks of any size", () => {
    const built = randomForward(11, 3000, 3000, 50);
    const index = buildSeismicIndex(built, IndexBuildConfigSchema.parse({ nPostings: 400 }));
    const rng = new Rng(5);
    // The default chunk of listed components, and chunks small enough that most lists cross several.
    for (const [compTerms, chunk] of [
      [index.compTerms, undefined],
      [Uint32Array.from(index.compTerms), undefined],
      [index.compTerms, 7],
      [Uint32Array.from(index.compTerms), 1],
    ] as const) {
      const { extra, summaries, memory } = summariesInWasmMemory({ ...index, compTerms }, [new Float32Array(index.dim)]);
      const q = extra[0];
      let maxBlocks = 1;
      for (let t = 0; t < index.dim; t++) maxBlocks = Math.max(maxBlocks, index.listBlockOffsets[t + 1] - index.listBlockOffsets[t]);
      const kernel = WasmSummaries.over(summaries, q, memory, maxBlocks, chunk) as WasmSummaries;
      expect(kernel).toBeInstanceOf(WasmSummaries);
      const wSum = new Float64Array(maxBlocks);
      const wCode = new Float64Array(maxBlocks);
      const js = new Float32Array(maxBlocks);
      let lists = 0;
      let crossing = 0;
      for (let round = 0; round < 40; round++) {
        q.fill(0);
        // Positive and negative query weights over a random tenth of the vocabulary.
        for (let t = 0; t < index.dim; t++) if (rng.next() < 0.1) q[t] = rng.next() * 4 - 1;
        for (let t = round; t < index.dim; t += 40) {
          const g0 = index.listBlockOffsets[t];
          const nb = index.listBlockOffsets[t + 1] - g0;
          if (nb === 0) continue;
          lists++;
          if (chunk !== undefined && index.listCompOffsets[t + 1] - index.listCompOffsets[t] > chunk) crossing++;
          wSum.fill(0);
          wCode.fill(0);
          let entries = 0;
          for (let c = index.listCompOffsets[t]; c < index.listCompOffsets[t + 1]; c++) {
            const w = q[compTerms[c]];
            if (w === 0) continue;
            for (let e = index.compEntryOffsets[c]; e < index.compEntryOffsets[c + 1]; e++) {
              wSum[index.entryBlocks[e]] += w;
              wCode[index.entryBlocks[e]] += w * index.entryCodes[e];
              entries++;
            }
          }
          for (let b = 0; b < nb; b++) js[b] = index.summaryMin[g0 + b] * wSum[b] + index.summaryStep[g0 + b] * wCode[b];
          // Stale scratch from the list before must not leak into this one.
          expect(kernel.score(index.listCompOffsets[t], index.listCompOffsets[t + 1], nb, g0)).toBe(entries);
          for (let b = 0; b < nb; b++) expect(Object.is(kernel.scores[b], js[b])).toBe(true);
        }
      }
      expect(lists).toBeGreaterThan(500);
      if (chunk !== undefined) expect(crossing).toBeGreaterThan(lists / 2);
    }
    // Not in a wasm memory: no kernel (the searcher's JavaScript pass).
    expect(WasmSummaries.over(index, new Float32Array(index.dim), undefined, 8)).toBeNull();
  });

  it('a worker thread scores in the memory it is handed (its scratch grown in the shared memory)', async () => {
    const forward = forwardInWasmMemory(randomForward(3, 500, 2000, 40));
    const docs = Uint32Array.from({ length: 37 }, (_, i) => (i * 13) % forward.numDocs);
    const local = WasmScorer.forForward(forward, 2000, 64) as WasmScorer;
    for (let t = 0; t < 2000; t += 3) local.q[t] = (t % 7) - 2;
    local.input.set(docs);
    local.score(docs.length);
    const worker = startWorker(new URL('../../test/support/wasm-score-worker.ts', import.meta.url));
    try {
      const scores = await new Promise<Float64Array>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ forward, docs });
      });
      expect(Array.from(scores)).toEqual(Array.from(local.out.subarray(0, docs.length)));
    } finally {
      await worker.terminate();
    }
  });
});
