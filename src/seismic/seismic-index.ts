/**
 * The Seismic approximate index of one segment, as flat typed arrays (struct of arrays), and its conversion to and
 * from named sections for the segment file (the storage engineer's segment writer stores each section as one
 * little-endian, 8-byte-aligned array and hands the same arrays back on open; nothing is rebuilt).
 *
 * Layout (L = dim lists, B = total blocks, P = total postings, C = total summary components, E = summary entries):
 * - `listBlockOffsets` u32[L+1]: list t owns blocks `listBlockOffsets[t] .. listBlockOffsets[t+1]` (global ids).
 * - `blockOffsets` u32[B+1]: block b owns postings `blockOffsets[b] .. blockOffsets[b+1]` of `postingDocs`.
 * - `postingDocs` u32[P]: doc ords, grouped by block, ascending inside a block.
 * - Summaries, transposed per list. List t owns components `listCompOffsets[t] .. listCompOffsets[t+1]`;
 *   `compTerms` u16/u32[C] holds each component's term id (ascending inside a list); component c owns entries
 *   `compEntryOffsets[c] .. compEntryOffsets[c+1]`; entry e says block `entryBlocks[e]` (local index inside the
 *   list, u16 when every list has ≤ 65,536 blocks, else u32) has a summary weight for that term of
 *   `summaryMin[g] + summaryStep[g] · entryCodes[e]` with g the block's global id. Entries of a component are in
 *   ascending block order.
 * - κ-NN graph: `knn` u32[numDocs·knnK]: doc d's neighbours (best first) at `d·knnK ..`; `knnK` 0 = none.
 *   Slots past a doc's real neighbour count hold 0xFFFFFFFF.
 * - `calibration` f64[4·rows], optional section: [targetRecall, queryCut, heapFactor, estimatedRecall] per row.
 * - Half-float scoring rows (version 2, half-rows.ts), optional: `rows` u32[numDocs + nnz] (per doc a count word,
 *   then `term | half(value·scale) << 16` words) and `postingRows` u32[P] (row start of each posting's doc).
 * - `meta` u32[8]: [FORMAT_VERSION, numDocs, dim, knnK, flags (bit 0: u32 entryBlocks, bit 1: u32 compTerms,
 *   bit 2: half-float rows present, bit 3: every half in the rows is normal and non-negative, checked at open),
 *   rowScaleLog2 + 1024 (the rows' `invScale` = 2^(meta[5] − 1024); 0 without
 *   rows), 0, 0].
 * Version 1 (no rows, meta[5] = 0) is still read; its segments are searched with the f32 forward index.
 *
 * Invariants: every array is read-only after build; builds are deterministic for (forward index, config).
 * Callers: build.ts (creates), searcher.ts (reads), the segment writer/reader (sections).
 */
import { SpladexError } from '../core/errors.js';
import type { WasmMemory } from '../core/wasm-api.js';
import { summariesInWasmMemory, type SummaryArrays } from '../index/wasm-kernels.js';
import type { HalfRows } from './half-rows.js';

/** Bumped whenever the meaning of a section changes (2: half-float scoring rows). Version 1 is still read. */
export const SEISMIC_FORMAT_VERSION = 2;

/** Sentinel for an empty κ-NN slot. */
export const NO_NEIGHBOUR = 0xffffffff;

/** A built Seismic index (see the file header for the layout; the summary arrays are `SummaryArrays`'). */
export interface SeismicIndex extends SummaryArrays {
  readonly numDocs: number;
  readonly dim: number;
  readonly listBlockOffsets: Uint32Array;
  readonly blockOffsets: Uint32Array;
  readonly postingDocs: Uint32Array;
  readonly listCompOffsets: Uint32Array;
  readonly knnK: number;
  readonly knn: Uint32Array;
  /**
   * Optional calibration table (calibrate.ts `withCalibration`): rows of [targetRecall, queryCut, heapFactor,
   * estimatedRecall], targets ascending. Absent when the index was not calibrated.
   */
  readonly calibration?: Float64Array | null;
  /** Half-float scoring rows (half-rows.ts); absent or null: the searcher scores with the f32 forward index. */
  readonly halfRows?: HalfRows | null;
}

/** Tuned parameters for a requested recall, from an index's calibration table. */
export interface TunedParams {
  queryCut: number;
  heapFactor: number;
  /** Estimated recall@10 of the chosen row (may exceed the request). */
  estimatedRecall: number;
}

/**
 * The calibrated (queryCut, heapFactor) for `targetRecall`: the row with the smallest calibrated target ≥ the
 * request, else the highest row. null when the index carries no calibration table.
 */
export function tunedParams(index: SeismicIndex, targetRecall: number): TunedParams | null {
  const t = index.calibration;
  if (!t || t.length < 4) return null;
  const rows = t.length / 4;
  let r = rows - 1;
  for (let i = 0; i < rows; i++) {
    if (t[i * 4] >= targetRecall) {
      r = i;
      break;
    }
  }
  return { queryCut: t[r * 4 + 1], heapFactor: t[r * 4 + 2], estimatedRecall: t[r * 4 + 3] };
}

/** One row of a calibration table: the setting chosen for `targetRecall` and the recall it measured. */
export interface CalibrationRow {
  targetRecall: number;
  queryCut: number;
  heapFactor: number;
  /** Mean recall@10 of the setting over the calibration's sample queries. */
  estimatedRecall: number;
}

/** Every row of the index's calibration table, targets ascending; null when the index carries none. */
export function calibrationRows(index: SeismicIndex): CalibrationRow[] | null {
  const t = index.calibration;
  if (!t || t.length < 4) return null;
  const out: CalibrationRow[] = [];
  for (let r = 0; r + 3 < t.length; r += 4)
    out.push({ targetRecall: t[r], queryCut: t[r + 1], heapFactor: t[r + 2], estimatedRecall: t[r + 3] });
  return out;
}

/** Total bytes of every array of the index. */
export function seismicIndexBytes(index: SeismicIndex): number {
  let n = 0;
  for (const a of Object.values(seismicToSections(index))) n += a.byteLength;
  return n;
}

/** Named sections for the segment file. Names are stable across versions; `meta` carries the format version. */
export function seismicToSections(index: SeismicIndex): Record<string, ArrayBufferView> {
  const hr = index.halfRows ?? null;
  const flags =
    (index.entryBlocks instanceof Uint32Array ? 1 : 0) |
    (index.compTerms instanceof Uint32Array ? 2 : 0) |
    (hr !== null ? 4 : 0) |
    (hr?.normal === true ? 8 : 0);
  const scaleWord = hr !== null ? Math.log2(hr.invScale) + 1024 : 0;
  const meta = new Uint32Array([SEISMIC_FORMAT_VERSION, index.numDocs, index.dim, index.knnK, flags, scaleWord, 0, 0]);
  const out: Record<string, ArrayBufferView> = {
    'seismic.meta': meta,
    'seismic.listBlockOffsets': index.listBlockOffsets,
    'seismic.blockOffsets': index.blockOffsets,
    'seismic.postingDocs': index.postingDocs,
    'seismic.listCompOffsets': index.listCompOffsets,
    'seismic.compTerms': index.compTerms,
    'seismic.compEntryOffsets': index.compEntryOffsets,
    'seismic.entryBlocks': index.entryBlocks,
    'seismic.entryCodes': index.entryCodes,
    'seismic.summaryMin': index.summaryMin,
    'seismic.summaryStep': index.summaryStep,
    'seismic.knn': index.knn,
  };
  if (index.calibration) out['seismic.calibration'] = index.calibration;
  if (hr !== null) {
    out['seismic.rows'] = hr.rows;
    out['seismic.postingRows'] = hr.postingRows;
  }
  return out;
}

/**
 * Rebuilds a `SeismicIndex` view from sections (no copy when the views already have the right type and alignment).
 * Checks the format version and every cross-array length; throws CORRUPT_INDEX on any mismatch, so a damaged
 * segment never yields wrong answers. `checked`: these very bytes (shared memory, never written after the read)
 * already passed this function on another thread, so the per-posting and per-row walks are skipped (a search
 * worker opening a segment the main thread opened: ~110 of its ~130 ms at 200k docs); the O(1) length checks
 * still run.
 */
export function seismicFromSections(sections: Record<string, ArrayBufferView>, checked = false): SeismicIndex {
  const meta = u32(sections, 'seismic.meta');
  if (meta.length < 5) bad('seismic.meta is too short');
  if (meta[0] !== 1 && meta[0] !== SEISMIC_FORMAT_VERSION) bad(`unsupported seismic format version ${meta[0]}`);
  const numDocs = meta[1];
  const dim = meta[2];
  const knnK = meta[3];
  const flags = meta[4];
  const listBlockOffsets = u32(sections, 'seismic.listBlockOffsets');
  const blockOffsets = u32(sections, 'seismic.blockOffsets');
  const postingDocs = u32(sections, 'seismic.postingDocs');
  const listCompOffsets = u32(sections, 'seismic.listCompOffsets');
  const compTerms = flags & 2 ? u32(sections, 'seismic.compTerms') : u16(sections, 'seismic.compTerms');
  const compEntryOffsets = u32(sections, 'seismic.compEntryOffsets');
  const entryBlocks = flags & 1 ? u32(sections, 'seismic.entryBlocks') : u16(sections, 'seismic.entryBlocks');
  const entryCodes = view(sections, 'seismic.entryCodes', Uint8Array);
  const summaryMin = view(sections, 'seismic.summaryMin', Float32Array);
  const summaryStep = view(sections, 'seismic.summaryStep', Float32Array);
  const knn = u32(sections, 'seismic.knn');
  const calibration = sections['seismic.calibration'] ? view(sections, 'seismic.calibration', Float64Array) : null;
  if (calibration && calibration.length % 4 !== 0) bad('seismic.calibration length');
  const nBlocks = blockOffsets.length - 1;
  if (listBlockOffsets.length !== dim + 1 || listBlockOffsets[dim] !== nBlocks) bad('listBlockOffsets length');
  if (nBlocks < 0 || blockOffsets[nBlocks] !== postingDocs.length) bad('blockOffsets/postingDocs length');
  if (listCompOffsets.length !== dim + 1 || listCompOffsets[dim] !== compTerms.length) bad('listCompOffsets length');
  if (compEntryOffsets.length !== compTerms.length + 1) bad('compEntryOffsets length');
  if (compEntryOffsets[compTerms.length] !== entryBlocks.length || entryCodes.length !== entryBlocks.length) {
    bad('summary entry arrays length');
  }
  if (summaryMin.length !== nBlocks || summaryStep.length !== nBlocks) bad('summary quantisation arrays length');
  if (knn.length !== numDocs * knnK) bad('knn length');
  if (!checked) {
    for (let i = 0; i < postingDocs.length; i++)
      if (postingDocs[i] >= numDocs) bad(`posting ${i} names doc ${postingDocs[i]} ≥ ${numDocs}`);
  }
  const halfRows = meta[0] >= 2 && (flags & 4) !== 0 ? halfRowsFromSections(sections, meta, postingDocs, (flags & 8) !== 0, checked) : null;
  return {
    numDocs,
    dim,
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
    knnK,
    knn,
    calibration,
    halfRows,
  };
}

/**
 * The half-float rows of a version-2 file, checked so that no row read leaves the array: the rows hold exactly
 * numDocs count words whose entries tile the array, and every posting's row start is its doc's (`checked`: only
 * the lengths, as in `seismicFromSections`).
 */
function halfRowsFromSections(
  sections: Record<string, ArrayBufferView>,
  meta: Uint32Array,
  postingDocs: Uint32Array,
  normal: boolean,
  checked: boolean,
): HalfRows {
  const rows = u32(sections, 'seismic.rows');
  const postingRows = u32(sections, 'seismic.postingRows');
  const numDocs = meta[1];
  if (postingRows.length !== postingDocs.length) bad('postingRows length');
  if (meta[5] === 0) bad('half-float rows without a scale');
  const invScale = 2 ** (meta[5] - 1024);
  if (checked) return { rows, postingRows, invScale, normal };
  // Doc d's row starts after the rows of docs < d: walk the count words once.
  const starts = new Uint32Array(numDocs);
  let w = 0;
  for (let d = 0; d < numDocs; d++) {
    if (w >= rows.length) bad('rows shorter than their counts');
    starts[d] = w;
    w += 1 + rows[w];
  }
  if (w !== rows.length) bad('rows length');
  for (let i = 0; i < postingRows.length; i++) if (postingRows[i] !== starts[postingDocs[i]]) bad(`postingRows[${i}]`);
  if (normal) {
    // The flag lets the wasm kernel skip the decode's range checks: hold it to its word (a row word whose half is
    // not a non-negative normal, with the flag set, is a corrupt file).
    for (let d = 0; d < numDocs; d++) {
      for (let p = starts[d] + 1, e = starts[d] + 1 + rows[starts[d]]; p < e; p++) {
        const h = rows[p] >>> 16;
        if ((h & 0xfc00) === 0 || (h & 0x8000) !== 0 || (h & 0x7c00) === 0x7c00)
          bad(`rows word ${p}: half ${h.toString(16)} is not a normal non-negative number`);
      }
    }
  }
  return { rows, postingRows, invScale, normal };
}

function bad(why: string): never {
  throw new SpladexError('CORRUPT_INDEX', `corrupt seismic index: ${why}`);
}

type Ctor<T> = { new (buf: ArrayBufferLike, off: number, len: number): T; BYTES_PER_ELEMENT: number; new (n: number): T };

function view<T extends ArrayBufferView>(sections: Record<string, ArrayBufferView>, name: string, C: Ctor<T>): T {
  const s = sections[name];
  if (!s) bad(`missing section ${name}`);
  if (s instanceof (C as unknown as typeof Uint8Array)) return s as unknown as T;
  if (s.byteLength % C.BYTES_PER_ELEMENT !== 0) bad(`section ${name} has ${s.byteLength} bytes, not a multiple of ${C.BYTES_PER_ELEMENT}`);
  const n = s.byteLength / C.BYTES_PER_ELEMENT;
  if (s.byteOffset % C.BYTES_PER_ELEMENT === 0) return new C(s.buffer, s.byteOffset, n);
  const copy = new C(n);
  new Uint8Array((copy as unknown as Uint8Array).buffer).set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
  return copy;
}

function u32(s: Record<string, ArrayBufferView>, name: string): Uint32Array {
  return view(s, name, Uint32Array);
}

function u16(s: Record<string, ArrayBufferView>, name: string): Uint16Array {
  return view(s, name, Uint16Array);
}

/**
 * `index` with its half-float rows and block summaries copied into one fresh shared wasm memory, as a segment's
 * seismic.bin is read (core/section-file.ts `wasm`), so that a searcher given the memory (`halfRowsMemory`) scores
 * rows and summaries with the wasm kernels; null without rows. For indexes built in memory: the bench runner and
 * tests.
 */
export function seismicInWasmMemory(index: SeismicIndex): { index: SeismicIndex; memory: WasmMemory } | null {
  const hr = index.halfRows;
  if (hr === null || hr === undefined) return null;
  const { extra, summaries, memory } = summariesInWasmMemory(index, [hr.rows]);
  return { memory, index: { ...index, ...summaries, halfRows: { ...hr, rows: extra[0] } } };
}
