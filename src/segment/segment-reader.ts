/**
 * Opens a sealed segment directory: reads each file into typed arrays (views over the file bytes, no rebuild),
 * verifies every CRC and the cross-file shapes, and answers per-ord lookups. Immutable once open; deletes live
 * in the store. Any truncated, flipped or missing byte → `SpladexError('CORRUPT_INDEX')` naming the file.
 * `openSync` is for parked segments (live-segment.ts) opened inside a synchronous search; `parseForward` and
 * `parseIds` let a parked open read only forward.bin and ids.bin.
 *
 * A segment directory `seg-<8 digits>/` holds section files (container layout: src/core/section-file.ts):
 *
 *   forward.bin  kind "forward" (layout 2, FORWARD_LAYOUT; layout 1 is still read, see below)
 *     meta     f64[5]  numDocs, dim (= number of distinct terms in the segment), avgdl baked into weights,
 *                      weighting (0 none, 1 bm25), layout (2)
 *     offsets  u32[numDocs+1]   CSR row starts (ord order = external id ascending)
 *     termIds  u16|u32[nnz]     local term ids (< dim), u16 when dim <= 65536; ascending within a doc
 *     terms    u32[dim]         local id → collection term id, strictly ascending (term-remap.ts)
 *     values   f32[nnz]         final weights (bm25: baked with meta.avgdl)
 *     dl       f64[numDocs]     Σ raw values per doc (bm25: document length in term frequencies)
 *     tf       f32[nnz]         bm25 only: raw term frequencies, for reweighting on merge
 *   postings.bin kind "postings" (unpruned, exact search; by local term id)
 *     offsets  u32[dim+1], docs u32[nnz] (ascending per term), values f32[nnz]
 *     tf       f32[nnz]         bm25 only: raw term frequencies in posting order, so exact search weights with
 *                               the avgdl of the search (exact-search.ts `taatSearchBm25`); segments written
 *                               without it get it transposed from forward.bin's `tf` at open
 *   ids.bin      kind "ids"      offsets f64[numDocs+1], bytes u8 (UTF-8 ids in ord order, strictly ascending)
 *   fields.bin   kind "fields"   flags u8[numDocs] (bit0 title, bit1 text, bit2 metadata), and
 *                                titleOffsets/textOffsets/metaOffsets f64[numDocs+1] with titleBytes/textBytes/metaBytes u8
 *                                (metadata as JSON text)
 *   dense.bin    kind "dense"    optional: meta u32[2] (denseDim, 0), has u8[numDocs], vectors f32[numDocs·denseDim]
 *   seismic.bin  kind "seismic"  optional: named sections owned by src/seismic/ (see approximate.ts)
 *   metadata.bin kind "metadata" optional (collections with declared metadata fields): filter index, layout in
 *                                metadata-index.ts

 *
 * forward.bin layout 1 (segments written before per-segment term ids): meta f64[4] without the layout field, no
 * `terms` section, and termIds are collection term ids (dim = largest term id + 1). Read as `terms === null`, so
 * every per-term array of such a segment keeps the size it was written with.
 */
import { existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SparseVector } from '../core/sparse-vector.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { buildPostingLists, type Bm25Postings, type PostingLists } from '../index/exact-search.js';
import { corruptIndex } from '../core/errors.js';
import {
  getOptionalSection,
  getSection,
  readSectionFile,
  readSectionFileSync,
  type ReadSectionOptions,
  type SectionFile,
} from '../core/section-file.js';
import { openApproximateSearcher, type ApproximateSearcher } from '../seismic/approximate.js';
import { metadataIndexFromSections, type MetadataIndex } from '../filter/metadata-index.js';
import { buildLocalMap, toGlobalIds, toLocalQuery } from './term-remap.js';

/** File names inside a segment directory. */
export const SEGMENT_FILES = {
  forward: 'forward.bin',
  postings: 'postings.bin',
  ids: 'ids.bin',
  fields: 'fields.bin',
  dense: 'dense.bin',
  seismic: 'seismic.bin',
  metadata: 'metadata.bin',
} as const;

/** Stored fields of one doc. */
export interface SegmentFields {
  title?: string;
  text?: string;
  metadata?: Record<string, unknown>;
}

/** forward.bin layout written by this version (meta[4]); layout 1 has a 4-entry meta and no `terms`. */
export const FORWARD_LAYOUT = 2;

/** A read-only open segment. */
export class SegmentReader {
  readonly name: string;
  readonly dir: string;
  readonly numDocs: number;
  /** Term ids of the kernels: local (see `terms`). */
  readonly forward: ForwardIndex;
  /** Local id → collection term id (ascending); null for layout-1 segments, whose ids are the collection's. */
  readonly terms: Uint32Array | null;
  /** Collection id → local id table for `localQuery`, built by its first call (undefined: not yet). */
  private localMap: Int32Array | null | undefined = undefined;
  readonly postings: PostingLists;
  /** avgdl baked into the weights (bm25). */
  readonly avgdl: number;
  readonly dl: Float64Array;
  readonly tf: Float32Array | null;
  /** bm25 segments: raw tf per posting and dl per doc (SegmentKernels `bm25`). */
  readonly bm25: Bm25Postings | null;
  readonly sizeBytes: number;
  readonly denseDim: number;
  readonly approximate: ApproximateSearcher | null;
  /** Filter index over declared metadata fields; null when the collection declares none. */
  readonly metadata: MetadataIndex | null;
  /** External ids in ord order (ascending). */
  readonly ids: SegmentIds;
  private readonly fields: SectionFile;
  private readonly kernelFiles: KernelFiles;
  private readonly dense: { has: Uint8Array; vectors: Float32Array } | null;

  private constructor(init: {
    dir: string;
    forward: ForwardIndex;
    terms: Uint32Array | null;
    postings: PostingLists;
    avgdl: number;
    dl: Float64Array;
    tf: Float32Array | null;
    bm25: Bm25Postings | null;
    ids: SegmentIds;
    fields: SectionFile;
    dense: { has: Uint8Array; vectors: Float32Array; dim: number } | null;
    approximate: ApproximateSearcher | null;
    metadata: MetadataIndex | null;
    sizeBytes: number;
    kernelFiles: KernelFiles;
  }) {
    this.kernelFiles = init.kernelFiles;
    this.dir = init.dir;
    this.name = basename(init.dir);
    this.forward = init.forward;
    this.terms = init.terms;
    this.numDocs = init.forward.numDocs;
    this.postings = init.postings;
    this.avgdl = init.avgdl;
    this.dl = init.dl;
    this.tf = init.tf;
    this.bm25 = init.bm25;
    this.ids = init.ids;
    this.fields = init.fields;
    this.dense = init.dense;
    this.denseDim = init.dense?.dim ?? 0;
    this.approximate = init.approximate;
    this.metadata = init.metadata;
    this.sizeBytes = init.sizeBytes;
  }

  /** Opens and verifies segment directory `dir`. Throws CORRUPT_INDEX naming the file at fault. */
  static async open(dir: string): Promise<SegmentReader> {
    const read = (f: keyof typeof SEGMENT_FILES) => readSectionFile(join(dir, SEGMENT_FILES[f]), f, readOptions(f));
    const optional = async (f: keyof typeof SEGMENT_FILES) => ((await exists(join(dir, SEGMENT_FILES[f]))) ? read(f) : null);
    const [forward, postings, ids, fields, dense, seismic, metadata] = await Promise.all([
      read('forward'),
      read('postings'),
      read('ids'),
      read('fields'),
      optional('dense'),
      optional('seismic'),
      optional('metadata'),
    ]);
    return SegmentReader.fromFiles(dir, { forward, postings, ids, fields, dense, seismic, metadata });
  }

  /**
   * SegmentReader.open, blocking the thread while it reads: for a parked segment (live-segment.ts) that a
   * synchronous search or get needs. Same checks and errors.
   */
  static openSync(dir: string): SegmentReader {
    const read = (f: keyof typeof SEGMENT_FILES) => readSectionFileSync(join(dir, SEGMENT_FILES[f]), f, readOptions(f));
    const optional = (f: keyof typeof SEGMENT_FILES) => (existsSync(join(dir, SEGMENT_FILES[f])) ? read(f) : null);
    const files = { forward: read('forward'), postings: read('postings'), ids: read('ids'), fields: read('fields') };
    return SegmentReader.fromFiles(dir, {
      ...files,
      dense: optional('dense'),
      seismic: optional('seismic'),
      metadata: optional('metadata'),
    });
  }

  private static fromFiles(dir: string, files: SegmentFiles): SegmentReader {
    const { forward, terms, avgdl, dl, tf, postings, bm25, approximate, metadata } = segmentKernelsFromFiles(files);
    const { numDocs } = forward;
    const post = files.postings;
    const ids = parseIds(files.ids, numDocs);
    const fields = files.fields;
    const flags = getSection(fields, 'flags', Uint8Array);
    if (flags.length !== numDocs) throw corruptIndex(fields.path, 'flags length disagrees');
    for (const s of ['title', 'text', 'meta']) {
      if (getSection(fields, `${s}Offsets`, Float64Array).length !== numDocs + 1)
        throw corruptIndex(fields.path, `${s}Offsets length disagrees`);
    }

    let sizeBytes = files.forward.sizeBytes + post.sizeBytes + files.ids.sizeBytes + fields.sizeBytes;
    let dense: { has: Uint8Array; vectors: Float32Array; dim: number } | null = null;
    if (files.dense !== null) {
      const df = files.dense;
      const d = getSection(df, 'meta', Uint32Array)[0];
      const has = getSection(df, 'has', Uint8Array);
      const vectors = getSection(df, 'vectors', Float32Array);
      if (has.length !== numDocs || vectors.length !== numDocs * d) throw corruptIndex(df.path, 'dense lengths disagree');
      dense = { has, vectors, dim: d };
      sizeBytes += df.sizeBytes;
    }
    if (files.seismic !== null) sizeBytes += files.seismic.sizeBytes;
    if (files.metadata !== null) sizeBytes += files.metadata.sizeBytes;
    const kernelFiles = { forward: files.forward, postings: post, seismic: files.seismic, metadata: files.metadata };
    return new SegmentReader({
      dir,
      forward,
      terms,
      postings,
      avgdl,
      dl,
      tf,
      bm25,
      ids,
      fields,
      dense,
      approximate,
      metadata,
      sizeBytes,
      kernelFiles,
    });
  }

  /**
   * The segment's parsed files, every section a view over a SharedArrayBuffer (open and openSync read them so),
   * for a search worker to rebuild the kernels from with `segmentKernelsFromFiles` without copying a byte.
   */
  sharedFiles(): KernelFiles {
    return this.kernelFiles;
  }

  /** External id of `ord`. */
  idAt(ord: number): string {
    return this.ids.idAt(ord);
  }

  /** Ord of external id `id`, or -1. */
  ordOf(id: string): number {
    return this.ids.ordOf(id);
  }

  /**
   * Stored fields of `ord` (decoded on demand). `want` masks the flag bits (1 title, 2 text, 4 metadata), so a
   * caller showing titles does not decode the text.
   */
  fieldsOf(ord: number, want = 7): SegmentFields {
    const flags = (this.fields.sections.get('flags') as Uint8Array)[ord] & want;
    const out: SegmentFields = {};
    if (flags & 1) out.title = this.str('title', ord);
    if (flags & 2) out.text = this.str('text', ord);
    if (flags & 4) out.metadata = JSON.parse(this.str('meta', ord)) as Record<string, unknown>;
    return out;
  }

  /** Metadata JSON text of `ord`, or null (for merges: avoids a parse/stringify round trip). */
  metadataJson(ord: number): string | null {
    const flags = (this.fields.sections.get('flags') as Uint8Array)[ord];
    return flags & 4 ? this.str('meta', ord) : null;
  }

  private str(field: string, ord: number): string {
    const offs = this.fields.sections.get(`${field}Offsets`) as Float64Array;
    const bytes = this.fields.sections.get(`${field}Bytes`) as Uint8Array;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', offs[ord], offs[ord + 1]);
  }

  /** `query` (collection term ids) in this segment's local ids, for the kernels; absent terms dropped. */
  localQuery(query: SparseVector): SparseVector {
    if (this.localMap === undefined) this.localMap = this.terms === null ? null : buildLocalMap(this.terms);
    return toLocalQuery(this.terms, query, this.localMap);
  }

  /** Collection term ids of `ord`'s entries (a fresh array). */
  termIdsOf(ord: number): Uint32Array {
    return toGlobalIds(this.terms, this.forward.termIds.subarray(this.forward.offsets[ord], this.forward.offsets[ord + 1]));
  }

  /** Weighted vector of `ord` in collection term ids (copies). */
  vector(ord: number): SparseVector {
    const s = this.forward.offsets[ord];
    const e = this.forward.offsets[ord + 1];
    return { indices: this.termIdsOf(ord), values: this.forward.values.slice(s, e) };
  }

  /** Raw vector of `ord` in collection term ids (term frequencies for bm25, else the weights); values are a view. */
  rawVector(ord: number): SparseVector {
    const s = this.forward.offsets[ord];
    const e = this.forward.offsets[ord + 1];
    return { indices: this.termIdsOf(ord), values: (this.tf ?? this.forward.values).subarray(s, e) };
  }

  /** Dense vector of `ord` (a copy), or undefined. */
  denseOf(ord: number): Float32Array | undefined {
    if (this.dense === null || this.dense.has[ord] === 0) return undefined;
    const d = this.denseDim;
    return this.dense.vectors.slice(ord * d, ord * d + d);
  }
}

/** A segment's external ids in ord order (strictly ascending), with lookup by binary search. */
export class SegmentIds {
  constructor(private readonly ids: readonly string[]) {}

  get size(): number {
    return this.ids.length;
  }

  idAt(ord: number): string {
    return this.ids[ord];
  }

  /** The first ord whose id is > `id` (`size` when none): ords below it hold ids ≤ `id`. */
  firstOrdAfter(id: string): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Ord of `id`, or -1. */
  ordOf(id: string): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = ids[mid];
      if (x === id) return mid;
      if (x < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** The files the search kernels are built from (a worker is handed only these). */
export type KernelFiles = Pick<SegmentFiles, 'forward' | 'postings' | 'seismic' | 'metadata'>;

/**
 * Segment files are read into SharedArrayBuffers (see `sharedFiles`); the two the wasm scoring kernels read
 * (forward.bin, seismic.bin: index/wasm-kernels.ts) into shared WebAssembly memories.
 */
function readOptions(f: keyof typeof SEGMENT_FILES): ReadSectionOptions {
  return { shared: true, wasm: f === 'forward' || f === 'seismic' };
}

/** The section files of a segment directory (null: optional file absent). */
export interface SegmentFiles {
  forward: SectionFile;
  postings: SectionFile;
  ids: SectionFile;
  fields: SectionFile;
  dense: SectionFile | null;
  seismic: SectionFile | null;
  metadata: SectionFile | null;
}

/**
 * What a search of one segment reads (store-search.ts, segment-search.ts): the forward index, local term map,
 * exact postings, the approximate searcher (with its own per-thread scratch) and the filter index. Built from
 * the files by `segmentKernelsFromFiles`, on the main thread inside SegmentReader and in each search worker.
 */
export interface SegmentKernels {
  forward: ForwardIndex;
  terms: Uint32Array | null;
  avgdl: number;
  dl: Float64Array;
  tf: Float32Array | null;
  postings: PostingLists;
  /** bm25 segments: raw tf per posting and dl per doc, for exact search at the search's avgdl; null otherwise. */
  bm25: Bm25Postings | null;
  approximate: ApproximateSearcher | null;
  metadata: MetadataIndex | null;
}

/**
 * The search kernels over a segment's parsed files (views, nothing copied unless a section loader copies).
 * CORRUPT_INDEX naming the file when forward, postings, seismic or metadata sections disagree. `checked`: the
 * files are the shared views of a reader on another thread that already built kernels from them (a search
 * worker): the Seismic sections' per-posting walks are not repeated.
 */
export function segmentKernelsFromFiles(files: KernelFiles, checked = false): SegmentKernels {
  const { forward, terms, avgdl, dl, tf } = parseForward(files.forward);
  const { numDocs, dim } = forward;
  const nnz = forward.termIds.length;
  const post = files.postings;
  const postings: PostingLists = {
    numTerms: dim,
    offsets: getSection(post, 'offsets', Uint32Array),
    docs: getSection(post, 'docs', Uint32Array),
    values: getSection(post, 'values', Float32Array),
  };
  if (postings.offsets.length !== dim + 1 || postings.offsets[dim] !== nnz || postings.docs.length !== nnz) {
    throw corruptIndex(post.path, 'posting lists do not match the forward index');
  }
  let bm25: Bm25Postings | null = null;
  if (tf !== null) {
    const postingTf = getOptionalSection(post, 'tf', Float32Array) ?? buildPostingLists({ ...forward, values: tf }).values;
    if (postingTf.length !== nnz) throw corruptIndex(post.path, 'tf length disagrees');
    bm25 = { tf: postingTf, dl };
  }
  let approximate: ApproximateSearcher | null = null;
  if (files.seismic !== null) {
    try {
      approximate = openApproximateSearcher(forward, files.seismic.sections, files.seismic.memory, checked);
    } catch (err) {
      throw corruptIndex(files.seismic.path, (err as Error).message);
    }
  }
  let metadata: MetadataIndex | null = null;
  if (files.metadata !== null) {
    metadata = metadataIndexFromSections(files.metadata);
    if (metadata.numDocs !== numDocs) throw corruptIndex(files.metadata.path, `covers ${metadata.numDocs} docs, segment has ${numDocs}`);
  }
  return { forward, terms, avgdl, dl, tf, postings, bm25, approximate, metadata };
}

/** The forward index and per-doc columns of a parsed `forward.bin`; CORRUPT_INDEX when its sections disagree. */
export function parseForward(fwd: SectionFile): {
  forward: ForwardIndex;
  terms: Uint32Array | null;
  avgdl: number;
  dl: Float64Array;
  tf: Float32Array | null;
} {
  const meta = getSection(fwd, 'meta', Float64Array);
  if (meta.length !== 4 && !(meta.length === 5 && meta[4] === FORWARD_LAYOUT)) throw corruptIndex(fwd.path, 'bad meta section');
  const [numDocs, dim, avgdl] = meta;
  const offsets = getSection(fwd, 'offsets', Uint32Array);
  const termIds = fwd.sections.get('termIds');
  if (!(termIds instanceof Uint16Array || termIds instanceof Uint32Array)) throw corruptIndex(fwd.path, 'missing or mistyped termIds');
  const values = getSection(fwd, 'values', Float32Array);
  const dl = getSection(fwd, 'dl', Float64Array);
  const tf = getOptionalSection(fwd, 'tf', Float32Array) ?? null;
  const nnz = termIds.length;
  if (offsets.length !== numDocs + 1 || offsets[numDocs] !== nnz || values.length !== nnz || dl.length !== numDocs) {
    throw corruptIndex(fwd.path, 'section lengths disagree');
  }
  if (tf !== null && tf.length !== nnz) throw corruptIndex(fwd.path, 'tf length disagrees');
  let terms: Uint32Array | null = null;
  if (meta.length === 5) {
    terms = getSection(fwd, 'terms', Uint32Array);
    if (terms.length !== dim) throw corruptIndex(fwd.path, 'terms length disagrees');
    for (let i = 1; i < terms.length; i++) if (!(terms[i - 1] < terms[i])) throw corruptIndex(fwd.path, `terms not ascending at ${i}`);
  }
  const forward: ForwardIndex =
    fwd.memory !== undefined ? { numDocs, dim, offsets, termIds, values, memory: fwd.memory } : { numDocs, dim, offsets, termIds, values };
  return { forward, terms, avgdl, dl, tf };
}

/** The ids of a parsed `ids.bin` holding `numDocs` ids; CORRUPT_INDEX unless strictly ascending. */
export function parseIds(file: SectionFile, numDocs: number): SegmentIds {
  const ids = decodeStrings(file, 'offsets', 'bytes', numDocs);
  for (let i = 1; i < ids.length; i++) if (!(ids[i - 1] < ids[i])) throw corruptIndex(file.path, `ids not strictly ascending at ord ${i}`);
  return new SegmentIds(ids);
}

function decodeStrings(file: SectionFile, offName: string, bytesName: string, n: number): string[] {
  const offs = getSection(file, offName, Float64Array);
  const bytes = getSection(file, bytesName, Uint8Array);
  if (offs.length !== n + 1 || offs[n] !== bytes.length) throw corruptIndex(file.path, `${offName} length disagrees`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    if (offs[i + 1] < offs[i]) throw corruptIndex(file.path, `${offName} not ascending at ${i}`);
    out[i] = buf.toString('utf8', offs[i], offs[i + 1]);
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
