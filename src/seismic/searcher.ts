/**
 * Approximate top-k search over a Seismic index (DESIGN.md §4, "Query"). One `SeismicSearcher` per thread: it owns
 * preallocated scratch (dense query array, epoch-stamped visited array, block score and order arrays, the heap)
 * and is not re-entrant. The index and forward index are shared read-only.
 *
 * Per query: fill the dense query; keep the `queryCut` largest query terms (ties: smaller id), in decreasing weight,
 * and read ahead the ends of their lists' summary arrays;
 * for each, score every block summary of its list against the full query in one pass over the transposed summaries
 * (in wasm over the list's components against the dense query when the summaries and the dense query share
 * seismic.bin's memory (`WasmSummaries`, the same f32 scores), whatever the list's length; in JavaScript the same
 * pass when the list has few components, else one binary search per query term);
 * visit blocks in decreasing summary score, stopping at the first block with
 * `summaryScore < heapFactor · kth` once the heap is full (every later block scores lower, so it is skipped too);
 * score the block's not-yet-visited, not-excluded docs against the dense query (gathered first, then scored four
 * at a time, `scoreHalfRows` or `scoreDocs`, so their cache misses overlap; the wasm kernels first read ahead the
 * first lines of every gathered row, their touch pass, index/wasm-kernels.ts). Optionally (`quantisedRows`), once the
 * heap is full a block's docs are first bounded from above with quantised rows (quantised-rows.ts) and only those
 * whose bound reaches the heap's root are scored exactly, which changes no result. With `nKnn > 0` and a
 * κ-NN graph, the neighbours of the top results are scored too.
 *
 * Scoring, in the first of these that applies:
 * 1. The index carries half-float rows with normal halves (half-rows.ts; every build since the wasm kernels) in a
 *    wasm memory (seismic.bin read with core/section-file.ts `wasm`): candidates are ranked by their half-float
 *    scores, as the Rust reference does (one 4-byte word per nonzero, the row found from the posting without
 *    reading the forward index's offsets), scored by the wasm kernel `halfNormal` (float32 sums in SIMD lanes;
 *    `scoreHalfRowsNormal` in JavaScript), and the final top-k is rescored with the f32 weights (term ids from the
 *    rows just read, values from the forward index). Which docs make the top-k is decided by the half-float scores
 *    (with nothing pruned, it is brute force over the half-float scores, half-rows.ts `halfBruteForce`, then
 *    rescored). A query's first ROWS_FROM_PER_K·k candidates (none by default; the option `rowsFromDocs`) are
 *    scored in f32 by the wasm rescorer. Cursor pages (`after`) score in f32 throughout.
 * 2. The forward index is in a wasm memory: the wasm kernel scores the candidates in f32 over it.
 * 3. Other rows (an older file's, not flagged normal), scored in wasm by the exact decode when they are in a wasm
 *    memory, else in JavaScript.
 * 4. The JavaScript loop over the f32 forward index (`scoreDocs`).
 * The wasm kernel uses this searcher's dense query, candidate list and scores in its memory (index/wasm-kernels.ts).
 * Measured, same runs: 1M synthetic docs (`npm run bench`, qc 2 / hf 0.9) 1 → 0.424 ms, 2 → 0.512 ms, JavaScript
 * rows 0.496 ms; 50k docs (bench-fixed-cost, qc 1) kernel p50 37 µs for 2 against 59 µs in JavaScript.
 * The quantised-bound filter (a benchmark option) scores in JavaScript.
 * Either way the returned scores are float64 sums of float32 products in the forward index's term order,
 * identical to exact.ts's brute force (exact and approximate scores compare bit for bit), and the wasm kernels
 * return the JavaScript loops' sums bit for bit.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import { TopK } from '../core/top-k.js';
import type { WasmMemory } from '../core/wasm-api.js';
import { scoreDocs, type ForwardIndex } from '../index/forward-index.js';
import { boundDocs, type QuantisedRows } from './quantised-rows.js';
import { halfTable, rescoreFromRows, scoreRankingRows, type HalfRows } from './half-rows.js';
import { WasmScorer, WasmSummaries } from '../index/wasm-kernels.js';
import { calibrationRows, NO_NEIGHBOUR, tunedParams, type CalibrationRow, type SeismicIndex, type TunedParams } from './seismic-index.js';

/** Per-query knobs. `excluded`: dense bitset over doc ords (bit `d & 31` of word `d >>> 5` set ⇒ never returned). */
export interface SeismicSearchOptions {
  k: number;
  queryCut: number;
  heapFactor: number;
  nKnn: number;
  excluded: Uint32Array | null;
  /** Cursor pages: only docs ranking strictly after (score, ord) are returned (TopK's gate). */
  after?: { score: number; ord: number } | null;
}

/** Result: ords best first (ties: ord ascending), their exact scores, and work counters. */
export interface SeismicSearchResult {
  ords: Int32Array;
  scores: Float32Array;
  docsScored: number;
  /** Blocks whose docs were evaluated. */
  blocksScored: number;
  /** Blocks pruned by the summary test. */
  blocksSkipped: number;
}

// Sort keys pack (float32 bits of a non-negative summary score, block index) into one exactly representable f64:
// bits·2^21 + block < 2^52. Native Float64Array#sort (no comparator) was the cheapest ordering here.
const BLOCK_BITS = 2097152; // 2^21
/**
 * Without the wasm kernel, a list with at most MERGE_RATIO × (query terms) components is scored in one pass over
 * its components, a longer one by a search of each query term among them.
 */
const MERGE_RATIO = 32;
/** Docs the wasm rescorer takes per call (larger top-k lists go in chunks). */
const RESCORE_CHUNK = 256;
/**
 * With half-float rows, a query's first ROWS_FROM_PER_K·k candidates are scored exactly in f32 and only the rest
 * by the rows, whose saving per doc must first pay for rescoring the k it returns (~1 µs a doc from a cold
 * forward index); a query that stops before ends with exact scores and no rescore. With the scalar f64 rows kernel
 * 24 paid at qc 1 on 50k docs (kernel p50 37–39 µs against 47–49 from the first doc). Since the rows kernel runs in
 * SIMD (`halfNormal`), rows from the first doc are the fastest everywhere measured (rf.mts-style A/B in the commit
 * history, each query to one of five searchers in turn: rowsFrom 0 / 30 / 60 / 120 / 240 per query): 1M synthetic
 * docs, qc 1 / hf 0.9 258 / 312 / 314 / 319 / 332 µs, qc 2 / hf 1 306 / 350 / 354 / 356 / 370, qc 3 360 / 405 /
 * 409 / 416 / 428; 50k docs, qc 1 80 / 91 / 92 / 94 / 93, qc 2 103 / 118 / 122 / 125 / 126; through the service on
 * the fixed-cost collection (qc 1, p50 of 2,000 queries, alternated passes) 78–79 vs 82–84 µs with 240. Recall moves
 * by the ranking's rounding only (1M, qc 2: 0.9421 vs 0.9424). So 0: rows from the first candidate.
 */
const ROWS_FROM_PER_K = 0;
/** Block orders of at most this many keys are insertion-sorted in place. */
const SMALL_SORT = 24;
/** A bound must be below root / BOUND_SLACK to reject a doc (float rounding margin, far above 2^-23). */
const BOUND_SLACK = 1 + 1e-5;

function nonNegative(vals: Float32Array): boolean {
  for (let i = 0; i < vals.length; i++) if (!(vals[i] >= 0)) return false;
  return true;
}

/** Construction options of a `SeismicSearcher` (benchmarks and tests; the product uses the defaults). */
export interface SeismicSearcherOptions {
  /**
   * Quantised rows of the forward index (quantised-rows.ts `buildQuantisedRows`) to bound candidates before exact
   * scoring; null (the default) scores every candidate. Off by default: on 1M synthetic docs it saved 0–6% of the
   * query time (qc 1–5) for 4 more bytes per nonzero (+67% of the forward index). Implies f32 scoring.
   */
  quantisedRows?: QuantisedRows | null;
  /** Rank with the index's half-float rows when it has them (default true); false: f32 scoring throughout. */
  halfRows?: boolean;
  /** Candidates a query scores in f32 before the half-float rows take over (default ROWS_FROM_PER_K·k; tests: 0). */
  rowsFromDocs?: number;
  /** The shared wasm memory the index's half-float rows are views of (seismic.bin read with `wasm`), if any. */
  halfRowsMemory?: WasmMemory;
  /**
   * Score candidates with the wasm kernels when the scored arrays are in a wasm memory (default true;
   * index/wasm-kernels.ts); false: the JavaScript loops (benchmarks' A/B; the results are the same bit for bit).
   */
  wasm?: boolean;
  /**
   * Whether the wasm doc kernels read ahead every candidate's first lines before scoring any (default true; the
   * touch pass, index/wasm-kernels.ts); false: they score without (benchmarks' A/B; the same scores).
   */
  touchRows?: boolean;
}

/** A reusable searcher over one (forward index, Seismic index) pair. */
export class SeismicSearcher {
  private readonly forward: ForwardIndex;
  private readonly index: SeismicIndex;
  private readonly qDense: Float32Array;
  /**
   * Epoch of the last query that reached each doc. One byte per doc (refilled every 255 queries): a block's
   * postings hit it at random, and at 1M docs 1 MiB stays in a core's L2 where a u32 array's 4 MiB did not.
   */
  private readonly visited: Uint8Array;
  private epoch = 0;
  private readonly blockScores: Float32Array;
  /** Per block of the current list: Σ query weight and Σ weight·code over its summary's matching terms. */
  private readonly blockWSum: Float64Array;
  private readonly blockWCode: Float64Array;
  private readonly sortKeys: Float64Array;
  private readonly cutTerms = new Uint32Array(1024);
  private readonly cutWeights = new Float32Array(1024);
  private readonly heap = new TopK(10);
  /** A block's (or a κ-NN neighbourhood's) docs still to score, and their scores. */
  private readonly cand: Uint32Array;
  private readonly candScores: Float64Array;
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);
  /** Summary entries read by the last query (cost model for calibration). */
  lastSummaryEntries = 0;
  /** Docs of the last query that passed the quantised bound and were scored exactly. */
  lastExactScored = 0;
  /** Fold of the read-ahead of the cut lists' arrays (`search`), kept so that the compiler keeps the reads. */
  touchSink = 0;
  private readonly rows: QuantisedRows | null;
  private readonly half: HalfRows | null;
  /** Half bits → float32 (half-rows.ts `halfTable`), shared by every searcher of the process. */
  private readonly halfTbl: Float32Array;
  /** Row starts of `cand` (half-float path). */
  private readonly candRows: Uint32Array;
  private readonly candEnds: Uint32Array;
  /** The final top-k's ords, rescored exactly, and the heap that orders them. */
  private finalOrds = new Uint32Array(16);
  private finalScores = new Float64Array(16);
  private readonly finalHeap = new TopK(10);
  /**
   * The wasm kernel scoring this searcher's candidates (null: JavaScript): over the half-float rows when it ranks
   * with them, else over the forward index. Its scratch is `qDense`, the input list (`candRows` or `cand`) and
   * `candScores`, so the loops below fill the kernel's memory directly.
   */
  private readonly wasm: WasmScorer | null;
  /**
   * With half-float ranking: the wasm f32 kernel over the forward index that rescores the final top k (its own
   * dense query, filled beside `qDense`), or null (JavaScript, `rescoreFromRows`). One lone doc at a time from a
   * cold forward index, the JavaScript rescore cost 14 µs of a 57 µs query at 50k docs (qc 1).
   */
  private readonly rescorer: WasmScorer | null;
  private readonly rowsFrom: number | null;
  /** The wasm f32 scorer whose input `cand` is: the forward scorer without rows, the rescorer with them, or null. */
  private readonly f32Kernel: WasmScorer | null;
  /**
   * The wasm block-summary kernel (index/wasm-kernels.ts `WasmSummaries`) over this index's summaries and
   * `qDense`, when both are in the half-float rows' memory (seismic.bin read with `wasm`); null: JavaScript.
   */
  private readonly summaries: WasmSummaries | null;

  constructor(forward: ForwardIndex, index: SeismicIndex, options: SeismicSearcherOptions = {}) {
    this.forward = forward;
    this.index = index;
    this.rows = options.quantisedRows ?? null;
    this.rowsFrom = options.rowsFromDocs ?? null;
    const qLen = Math.max(forward.dim, index.dim);
    this.visited = new Uint8Array(forward.numDocs);
    let maxBlocks = 1;
    const lbo = index.listBlockOffsets;
    for (let t = 0; t < index.dim; t++) maxBlocks = Math.max(maxBlocks, lbo[t + 1] - lbo[t]);
    if (maxBlocks > BLOCK_BITS) throw new RangeError(`a list has ${maxBlocks} blocks; at most ${BLOCK_BITS} supported`);
    this.blockScores = new Float32Array(maxBlocks);
    this.blockWSum = new Float64Array(maxBlocks);
    this.blockWCode = new Float64Array(maxBlocks);
    let maxBlockLen = Math.max(1, index.knnK);
    const bo = index.blockOffsets;
    for (let g = 0; g + 1 < bo.length; g++) maxBlockLen = Math.max(maxBlockLen, bo[g + 1] - bo[g]);
    // Scoring, fastest first (see the file comment): half-float rows with normal halves in wasm; the f32 forward
    // index in wasm; other rows (in wasm when they are in a wasm memory); the f32 forward index in JavaScript.
    const useWasm = options.wasm !== false && this.rows === null;
    const rows = this.rows === null && options.halfRows !== false ? (index.halfRows ?? null) : null;
    const mem = options.halfRowsMemory;
    const touch = options.touchRows !== false;
    let scorer = useWasm && rows?.normal === true ? WasmScorer.forHalfRows(rows.rows, true, mem, qLen, maxBlockLen, touch) : null;
    let half = scorer !== null ? rows : null;
    if (scorer === null && useWasm) scorer = WasmScorer.forForward(forward, qLen, maxBlockLen, touch);
    if (scorer === null && rows !== null) {
      half = rows;
      if (useWasm) scorer = WasmScorer.forHalfRows(rows.rows, rows.normal, mem, qLen, maxBlockLen, touch);
    }
    this.half = half;
    this.halfTbl = half !== null ? sharedHalfTable() : new Float32Array(0);
    this.wasm = scorer;
    // Sized for a whole block, so that a query's first candidates (ROWS_FROM_PER_K) are scored in place.
    this.rescorer = half !== null && useWasm ? WasmScorer.forForward(forward, qLen, Math.max(RESCORE_CHUNK, maxBlockLen), touch) : null;
    const w = this.wasm;
    this.qDense = w !== null ? w.q : new Float32Array(qLen);
    // Candidates are gathered where the f32 kernel in use reads them: the forward scorer's or the rescorer's input.
    this.f32Kernel = this.half === null ? w : this.rescorer;
    this.cand = this.f32Kernel !== null ? this.f32Kernel.input : new Uint32Array(maxBlockLen);
    this.candRows = w !== null && this.half !== null ? w.input : new Uint32Array(this.half !== null ? maxBlockLen : 0);
    this.candEnds = new Uint32Array(this.half !== null ? maxBlockLen : 0);
    this.candScores = w !== null ? w.out : new Float64Array(maxBlockLen);
    this.sortKeys = new Float64Array(maxBlocks);
    // The rows' scorer lives in the memory of seismic.bin, whose sections the summaries are: its `q` is `qDense`.
    this.summaries = w !== null && this.half !== null ? WasmSummaries.over(index, this.qDense, mem, maxBlocks) : null;
  }

  /** Calibrated parameters for `targetRecall` (null when the index was built without calibration). */
  tuned(targetRecall: number): TunedParams | null {
    return tunedParams(this.index, targetRecall);
  }

  /** The whole calibration table (null when the index was built without calibration). */
  calibration(): CalibrationRow[] | null {
    return calibrationRows(this.index);
  }

  /** Approximate top-k of `query` (ids < dim; terms beyond the index's dim are ignored). */
  search(query: SparseVector, opts: SeismicSearchOptions): SeismicSearchResult {
    const { k, heapFactor, excluded } = opts;
    const heap = this.heap;
    heap.reset(k);
    if (opts.after != null) heap.setAfter(opts.after.score, opts.after.ord);
    else heap.clearAfter();
    if (++this.epoch === 256) {
      this.visited.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    const qIds = query.indices;
    const qVals = query.values;
    const nq = qIds.length;
    const qDense = this.qDense;
    const dim = this.index.dim;
    for (let i = 0; i < nq; i++) if (qIds[i] < dim) qDense[qIds[i]] = qVals[i];
    const rq = this.rescorer !== null ? this.rescorer.q : null;
    if (rq !== null) for (let i = 0; i < nq; i++) if (qIds[i] < dim) rq[qIds[i]] = qVals[i];

    const nCut = this.selectCut(query, Math.min(opts.queryCut, this.cutTerms.length));
    const {
      listBlockOffsets,
      blockOffsets,
      postingDocs,
      listCompOffsets,
      compTerms,
      compEntryOffsets,
      entryBlocks,
      entryCodes,
      summaryMin,
      summaryStep,
    } = this.index;
    const forward = this.forward;
    const cand = this.cand;
    const candScores = this.candScores;
    const visited = this.visited;
    const blockScores = this.blockScores;
    const summ = this.summaries;
    const wSum = this.blockWSum;
    const wCode = this.blockWCode;
    const keys = this.sortKeys;
    const f32 = this.f32;
    const u32 = this.u32;
    let docsScored = 0;
    let blocksScored = 0;
    let blocksSkipped = 0;
    let summaryEntries = 0;
    let exactRescored = 0;
    const qr = this.rows !== null && nonNegative(qVals) ? this.rows : null;
    const offsets = forward.offsets;
    // Half-float ranking (see the file comment); cursor pages gate on exact scores, so they score in f32.
    const half = opts.after == null ? this.half : null;
    const hRows = half !== null ? half.rows : null;
    const hPostingRows = half !== null ? half.postingRows : null;
    const invScale = half !== null ? half.invScale : 1;
    const candRows = this.candRows;
    // The wasm kernel of the path in use: over the rows (half-float ranking) or the forward index (f32 path).
    const wasm = half !== null ? this.wasm : null;
    const fwdWasm = this.f32Kernel;
    // Whether rows scored any candidate (from `rowsFrom` docs on, ROWS_FROM_PER_K): then the top k is rescored in f32.
    let rowsOn = false;
    const rowsFrom = this.rowsFrom ?? ROWS_FROM_PER_K * k;

    // Read one entry at each end of every cut list's pieces of the summary and block arrays (its term ids, entry
    // ranges, entries, block quantisation and block offsets: six arrays, each piece on pages of its own) before the
    // first list is scored, so that the cache misses and address translations of all the lists are on their way
    // together instead of list after list. The scoring is unchanged. Same-process A/B at 50k docs (bench-kernel-ab,
    // 2,000 queries × 8): qc 8 / hf 0.7 84.8 vs 91.2 µs, qc 5 / hf 0.8 58.8 vs 62.3 and 59.7 vs 64.1, qc 3 40.8 vs
    // 42.8, qc 2 / hf 1 31.7 vs 33.4, qc 1 21.6 vs 21.8. Also reading every line of the lists' term ids, or the
    // first postings of each list's best 8 blocks once they are sorted, gained nothing more.
    let touched = 0;
    for (let ci = 0; ci < nCut; ci++) {
      const t = this.cutTerms[ci];
      const g0 = listBlockOffsets[t];
      const g1 = listBlockOffsets[t + 1];
      const c0 = listCompOffsets[t];
      const c1 = listCompOffsets[t + 1];
      if (g1 === g0 || c1 === c0) continue;
      const e0 = compEntryOffsets[c0];
      const e1 = compEntryOffsets[c1] - 1;
      touched += compTerms[c0] + summaryMin[g0] + summaryStep[g0] + blockOffsets[g0] + entryBlocks[e0] + entryCodes[e0];
      touched += compTerms[c1 - 1] + summaryMin[g1 - 1] + summaryStep[g1 - 1] + blockOffsets[g1] + entryBlocks[e1] + entryCodes[e1];
    }
    this.touchSink = touched;

    for (let ci = 0; ci < nCut; ci++) {
      const t = this.cutTerms[ci];
      const bBase = listBlockOffsets[t];
      const nb = listBlockOffsets[t + 1] - bBase;
      if (nb === 0) continue;
      // --- Score all block summaries of list t against the full query (transposed layout). ---
      // A block's summary score is Σ w·(min + step·code) = min·Σw + step·Σw·code: the two sums are kept per block
      // (`wSum`, `wCode`) so an entry costs one multiply-add and no read of the block's quantisation.
      const cs = listCompOffsets[t];
      const ce = listCompOffsets[t + 1];
      let scores = blockScores;
      if (summ !== null) {
        // The one pass in wasm (wasm-kernels.ts `WasmSummaries`): the same f32 scores. At every list length: with
        // queries of 20 or 30 terms, lists past MERGE_RATIO × terms took the JavaScript search below, and the
        // kernel alone was 14–15% faster per query at qc 5 and 8 (bench-kernel-ab --query-terms, 50k docs).
        summaryEntries += summ.score(cs, ce, nb, bBase);
        scores = summ.scores;
      } else {
        wSum.fill(0, 0, nb);
        wCode.fill(0, 0, nb);
        if (ce - cs <= MERGE_RATIO * nq) {
          // One pass over the list's components against the dense query (the common case: a list has ~500
          // components and a query ~40 terms; a binary search per query term cost ~3× more, bench-fixed-cost).
          for (let c = cs; c < ce; c++) {
            const w = qDense[compTerms[c]];
            if (w === 0) continue;
            const es = compEntryOffsets[c];
            const ee = compEntryOffsets[c + 1];
            summaryEntries += ee - es;
            for (let e = es; e < ee; e++) {
              const b = entryBlocks[e];
              wSum[b] += w;
              wCode[b] += w * entryCodes[e];
            }
          }
        } else {
          let lo = cs;
          for (let i = 0; i < nq && lo < ce; i++) {
            const tq = qIds[i];
            // Lower bound of tq in compTerms[lo..ce): both sides ascending, so lo only moves forward.
            let hi = ce;
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if (compTerms[mid] < tq) lo = mid + 1;
              else hi = mid;
            }
            if (lo === ce || compTerms[lo] !== tq) continue;
            const w = qVals[i];
            const es = compEntryOffsets[lo];
            const ee = compEntryOffsets[lo + 1];
            summaryEntries += ee - es;
            for (let e = es; e < ee; e++) {
              const b = entryBlocks[e];
              wSum[b] += w;
              wCode[b] += w * entryCodes[e];
            }
            lo++;
          }
        }
        for (let b = 0; b < nb; b++) scores[b] = summaryMin[bBase + b] * wSum[b] + summaryStep[bBase + b] * wCode[b];
      }
      // --- Order the blocks that can still pass the summary test, best first. ---
      const cutoff = heap.isFull() ? heapFactor * heap.threshold() : -Infinity;
      let m = 0;
      for (let b = 0; b < nb; b++) {
        const sc = scores[b];
        if (sc < cutoff) continue;
        f32[0] = sc < 0 ? 0 : sc;
        keys[m++] = u32[0] * BLOCK_BITS + b;
      }
      blocksSkipped += nb - m;
      // Lists of a mid-size segment have a handful of blocks: an inline insertion sort beats a native sort call
      // on a fresh subarray view below SMALL_SORT keys.
      let sorted = keys;
      if (m <= SMALL_SORT) {
        for (let a = 1; a < m; a++) {
          const x = keys[a];
          let j = a - 1;
          while (j >= 0 && keys[j] > x) {
            keys[j + 1] = keys[j];
            j--;
          }
          keys[j + 1] = x;
        }
      } else sorted = keys.subarray(0, m).sort();
      // --- Visit blocks in decreasing summary score. ---
      for (let j = m - 1; j >= 0; j--) {
        const key = sorted[j];
        const b = key % BLOCK_BITS;
        if (heap.isFull() && scores[b] < heapFactor * heap.threshold()) {
          blocksSkipped += j + 1;
          break;
        }
        blocksScored++;
        const g = bBase + b;
        let nc = 0;
        if (hRows !== null && hPostingRows !== null && (rowsOn || docsScored >= rowsFrom)) {
          rowsOn = true;
          for (let p = blockOffsets[g], pe = blockOffsets[g + 1]; p < pe; p++) {
            const d = postingDocs[p];
            if (visited[d] === epoch) continue;
            visited[d] = epoch;
            if (excluded !== null && ((excluded[d >>> 5] >>> (d & 31)) & 1) === 1) continue;
            candRows[nc] = hPostingRows[p];
            cand[nc++] = d;
          }
          docsScored += nc;
          if (wasm !== null) wasm.score(nc);
          else this.scoreRowsJs(nc);
          for (let c = 0; c < nc; c++) heap.push(cand[c], candScores[c] * invScale);
          continue;
        }
        for (let p = blockOffsets[g], pe = blockOffsets[g + 1]; p < pe; p++) {
          const d = postingDocs[p];
          if (visited[d] === epoch) continue;
          visited[d] = epoch;
          if (excluded !== null && ((excluded[d >>> 5] >>> (d & 31)) & 1) === 1) continue;
          cand[nc++] = d;
        }
        docsScored += nc;
        if (qr !== null && heap.isFull() && heap.threshold() > 0) {
          // Upper bounds from the quantised rows first; only docs whose bound reaches the heap's root can enter
          // it, and only those are scored exactly (the root only rises inside the block, so this is safe). The
          // slack keeps float rounding of the bound from rejecting a doc whose float32 score equals the root.
          boundDocs(offsets, qr, cand, nc, qDense, candScores);
          const root = heap.threshold();
          let np = 0;
          for (let c = 0; c < nc; c++) if (candScores[c] * BOUND_SLACK >= root) cand[np++] = cand[c];
          nc = np;
          exactRescored += np;
        }
        // Exact scores, summed as brute force does (exact.ts), so scores match bit for bit.
        const exact = this.scoreF32(fwdWasm, nc);
        for (let c = 0; c < nc; c++) heap.push(cand[c], exact[c]);
      }
    }

    if (opts.nKnn > 0 && this.index.knnK > 0) {
      if (half !== null && docsScored >= rowsFrom) rowsOn = true;
      docsScored += this.expandKnn(Math.min(opts.nKnn, this.index.knnK), excluded, epoch, rowsOn ? half : null);
    }

    const { keys: ords, scores: out } = rowsOn ? this.rescoreTop(k) : heap.drain();
    for (let i = 0; i < nq; i++) if (qIds[i] < dim) qDense[qIds[i]] = 0;
    if (rq !== null) for (let i = 0; i < nq; i++) if (qIds[i] < dim) rq[qIds[i]] = 0;
    this.lastSummaryEntries = summaryEntries;
    this.lastExactScored = exactRescored;
    return { ords, scores: out, docsScored, blocksScored, blocksSkipped };
  }

  /**
   * The heap's docs (ranked by half-float scores) with their exact f32 scores, best first (ties: ord ascending):
   * term ids from their rows (still in cache), values from the f32 forward index.
   */
  private rescoreTop(k: number): { keys: Int32Array; scores: Float32Array } {
    const top = this.heap.drain();
    const n = top.keys.length;
    if (this.finalOrds.length < n) {
      this.finalOrds = new Uint32Array(n);
      this.finalScores = new Float64Array(n);
    }
    const ords = this.finalOrds;
    for (let i = 0; i < n; i++) ords[i] = top.keys[i];
    const r = this.rescorer;
    if (r !== null) {
      // The same sums (f32 products in the forward index's order, added in f64), four docs in lockstep.
      for (let at = 0; at < n; at += RESCORE_CHUNK) {
        const m = Math.min(RESCORE_CHUNK, n - at);
        for (let i = 0; i < m; i++) r.input[i] = ords[at + i];
        r.score(m);
        for (let i = 0; i < m; i++) this.finalScores[at + i] = r.out[i];
      }
    } else {
      const half = this.half as HalfRows;
      rescoreFromRows(half.rows, this.forward.offsets, this.forward.values, ords, n, this.qDense, this.finalScores);
    }
    const fin = this.finalHeap;
    fin.reset(k);
    for (let i = 0; i < n; i++) fin.push(ords[i], this.finalScores[i]);
    return fin.drain();
  }

  /**
   * f32 scores of `cand[0..nc)`: by `kernel` (a wasm f32 scorer whose input `cand` is: the forward scorer or the
   * rescorer) into its output, or in JavaScript into `candScores`; returns the array holding them.
   */
  private scoreF32(kernel: WasmScorer | null, nc: number): Float64Array {
    if (kernel === null) {
      scoreDocs(this.forward, this.cand, nc, this.qDense, this.candScores);
      return this.candScores;
    }
    kernel.score(nc);
    return kernel.out;
  }

  /**
   * Half-float scores of the rows at `candRows[0..nc)` into `candScores` in JavaScript, in the arithmetic of the
   * wasm kernel the rows would get (half-rows.ts `scoreRankingRows`).
   */
  private scoreRowsJs(nc: number): void {
    scoreRankingRows(this.half as HalfRows, this.candRows, this.candEnds, nc, this.qDense, this.halfTbl, this.candScores);
  }

  /** Scores the unvisited κ-NN neighbours of the current top results; returns how many docs it scored. */
  private expandKnn(n: number, excluded: Uint32Array | null, epoch: number, half: HalfRows | null): number {
    const heap = this.heap;
    const k = heap.capacity;
    const top = heap.drain();
    heap.reset(k);
    for (let i = 0; i < top.keys.length; i++) heap.push(top.keys[i], top.scores[i]);
    const { knn, knnK } = this.index;
    const visited = this.visited;
    const cand = this.cand;
    let scored = 0;
    for (let i = 0; i < top.keys.length; i++) {
      const base = top.keys[i] * knnK;
      let nc = 0;
      for (let j = 0; j < n; j++) {
        const d = knn[base + j];
        if (d === NO_NEIGHBOUR || visited[d] === epoch) continue;
        visited[d] = epoch;
        if (excluded !== null && ((excluded[d >>> 5] >>> (d & 31)) & 1) === 1) continue;
        cand[nc++] = d;
      }
      if (half !== null) {
        const offsets = this.forward.offsets;
        for (let c = 0; c < nc; c++) this.candRows[c] = offsets[cand[c]] + cand[c];
        if (this.wasm !== null) this.wasm.score(nc);
        else this.scoreRowsJs(nc);
        for (let c = 0; c < nc; c++) heap.push(cand[c], this.candScores[c] * half.invScale);
      } else {
        const exact = this.scoreF32(this.f32Kernel, nc);
        for (let c = 0; c < nc; c++) heap.push(cand[c], exact[c]);
      }
      scored += nc;
    }
    return scored;
  }

  /** Writes the `cut` largest query terms (ties: smaller id) into cutTerms, largest first; returns the count. */
  private selectCut(query: SparseVector, cut: number): number {
    const ids = query.indices;
    const vals = query.values;
    const out = this.cutTerms;
    const dim = this.index.dim;
    let m = 0;
    // Insertion into a small descending buffer: queries have ~40 terms and cut ~10.
    const wBuf = this.cutWeights;
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i];
      if (t >= dim) continue;
      const w = vals[i];
      if (m === cut && !(w > wBuf[m - 1])) continue;
      let j = m < cut ? m++ : m - 1;
      while (j > 0 && wBuf[j - 1] < w) {
        wBuf[j] = wBuf[j - 1];
        out[j] = out[j - 1];
        j--;
      }
      wBuf[j] = w;
      out[j] = t;
    }
    return m;
  }
}

let halfTableOnce: Float32Array | null = null;

/** One half-float table per thread (256 KiB), built on first use: every searcher of a thread reads the same one. */
function sharedHalfTable(): Float32Array {
  if (halfTableOnce === null) halfTableOnce = halfTable();
  return halfTableOnce;
}
