/**
 * Builds a segment directory from columnar document data (CPU work: runs inside the seal worker, see
 * seal-job.ts). Docs are sorted by external id (JavaScript string order) so ord order = id order, which makes
 * TopK's "ord ascending" tie rule the API's "id ascending". Files go into `<dir>.tmp/`, each fsynced; the
 * directory is then renamed to `<dir>` and the parent fsynced, so a segment directory either exists whole or not.
 *
 * bm25 collections: the forward index holds weights baked with the avgdl given at build time; the raw term
 * frequencies are kept alongside (`tf` section) with `dl`, so a merge reweights exactly with a new avgdl instead
 * of inverting the formula, and in posting order too (postings.bin `tf`), so exact search weights with the avgdl
 * of the search. Byte layouts of the files: segment-reader.ts.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SparseVector } from '../core/sparse-vector.js';
import type { DocWeighting } from './document-types.js';
import type { IndexBuildConfig } from '../config/index-config.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { bm25Weight, buildPostingLists } from '../index/exact-search.js';
import { fsyncDir, writeSectionFile } from '../core/section-file.js';
import { buildApproximateSections } from '../seismic/approximate.js';
import { FORWARD_LAYOUT, SEGMENT_FILES } from './segment-reader.js';
import { remapToLocal, toLocalQuery } from './term-remap.js';
import { buildMetadataIndex, writeMetadataIndex, type MetadataTypes } from '../filter/metadata-index.js';

/** Documents in columnar form (arrival order; the writer sorts by id). Vectors hold raw values. */
export interface ColumnarDocs {
  ids: string[];
  titles: (string | null)[];
  texts: (string | null)[];
  /** Metadata as JSON text. */
  metas: (string | null)[];
  /** CSR of raw vectors: numDocs + 1 offsets. */
  offsets: Uint32Array;
  termIds: Uint32Array;
  values: Float32Array;
  /** numDocs × denseDim, zeros where `hasDense` is 0; null when the collection has no dense part. */
  dense: Float32Array | null;
  hasDense: Uint8Array | null;
}

export interface SegmentBuildParams {
  /** Final directory of the segment (must not exist). */
  dir: string;
  docs: ColumnarDocs;
  weighting: DocWeighting;
  /** avgdl baked into bm25 weights. */
  avgdl: number;
  denseDim: number;
  build: IndexBuildConfig;
  /** Declared metadata fields: when any, a `metadata.bin` filter index is written (metadata-index.ts). */
  metadataTypes: MetadataTypes;
  /**
   * Sample queries (in the store's query space) for the approximate index's recall calibration; absent or empty:
   * doc-derived queries. Given by `optimize({ calibrationQueries })` to its final merge.
   */
  calibrationQueries?: SparseVector[] | null;
}

export interface SegmentBuildResult {
  numDocs: number;
  nnz: number;
  sizeBytes: number;
  approximate: boolean;
}

function sortedOrder(ids: string[]): Uint32Array {
  const order = Array.from({ length: ids.length }, (_, i) => i);
  order.sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  return Uint32Array.from(order);
}

/**
 * UTF-8 bytes of `values` in `order` with their offsets. Sized first, then written into one buffer: one copy of
 * the bytes instead of a buffer per string plus their concatenation (twice the stored fields' size at the peak,
 * which a seal of 25 MB-metadata documents paid in full).
 */
function encodeStrings(values: (string | null)[], order: Uint32Array): { offsets: Float64Array; bytes: Uint8Array } {
  const offsets = new Float64Array(order.length + 1);
  for (let i = 0; i < order.length; i++) {
    const s = values[order[i]];
    offsets[i + 1] = offsets[i] + (s === null ? 0 : Buffer.byteLength(s, 'utf8'));
  }
  const bytes = Buffer.allocUnsafe(offsets[order.length]);
  for (let i = 0; i < order.length; i++) {
    const s = values[order[i]];
    if (s !== null) bytes.write(s, offsets[i], 'utf8');
  }
  return { offsets, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** Builds and durably writes a segment; returns counts and bytes. */
export async function writeSegment(p: SegmentBuildParams): Promise<SegmentBuildResult> {
  const { docs, weighting } = p;
  const n = docs.ids.length;
  const order = sortedOrder(docs.ids);
  let nnz = 0;
  let maxTerm = -1;
  for (let i = 0; i < n; i++) nnz += docs.offsets[order[i] + 1] - docs.offsets[order[i]];
  const offsets = new Uint32Array(n + 1);
  const tids32 = new Uint32Array(nnz);
  const values = new Float32Array(nnz);
  const tf = weighting.kind === 'bm25' ? new Float32Array(nnz) : null;
  const dl = new Float64Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const src = order[i];
    const s = docs.offsets[src];
    const e = docs.offsets[src + 1];
    let sum = 0;
    for (let q = s; q < e; q++) sum += docs.values[q];
    dl[i] = sum;
    for (let q = s; q < e; q++) {
      const t = docs.termIds[q];
      if (t > maxTerm) maxTerm = t;
      tids32[at] = t;
      const raw = docs.values[q];
      if (tf !== null && weighting.kind === 'bm25') {
        tf[at] = raw;
        values[at] = bm25Weight(raw, sum, p.avgdl, weighting.k1, weighting.b);
      } else values[at] = raw;
      at++;
    }
    offsets[i + 1] = at;
  }
  // Local term ids (term-remap.ts): every per-term array below is sized by the terms used, never by `dim`.
  const terms = remapToLocal(tids32, maxTerm);
  const dim = terms.length;
  const termIds = dim <= 65536 ? Uint16Array.from(tids32) : tids32;
  const forward: ForwardIndex = { numDocs: n, dim, offsets, termIds, values };
  const lists = buildPostingLists(forward);
  const postingTf = tf === null ? null : buildPostingLists({ ...forward, values: tf }).values;
  const calibrationQueries = p.calibrationQueries ? p.calibrationQueries.map((q) => toLocalQuery(terms, q)) : null;

  const tmp = `${p.dir}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  // A failed build's `<dir>.tmp` is removed by seal-runner.ts `runJob`, the one caller, also when a worker dies.
  return writeSegmentFiles(p, tmp, { order, forward, lists, postingTf, terms, dl, tf, nnz, calibrationQueries });
}

interface BuiltForward {
  order: Uint32Array;
  forward: ForwardIndex;
  lists: ReturnType<typeof buildPostingLists>;
  /** bm25: raw tf in posting order (postings.bin `tf`). */
  postingTf: Float32Array | null;
  terms: Uint32Array;
  dl: Float64Array;
  tf: Float32Array | null;
  nnz: number;
  calibrationQueries: SparseVector[] | null;
}

async function writeSegmentFiles(p: SegmentBuildParams, tmp: string, b: BuiltForward): Promise<SegmentBuildResult> {
  const { docs } = p;
  const { order, forward, lists, terms, dl, tf, nnz } = b;
  const { offsets, termIds, values, dim } = forward;
  const n = forward.numDocs;
  let sizeBytes = 0;
  const meta = new Float64Array([n, dim, p.avgdl, p.weighting.kind === 'bm25' ? 1 : 0, FORWARD_LAYOUT]);
  const fwd: Record<string, ArrayBufferView> = { meta, offsets, termIds, values, dl, terms };
  if (tf !== null) fwd.tf = tf;
  sizeBytes += await writeSectionFile(join(tmp, SEGMENT_FILES.forward), 'forward', fwd);
  const post: Record<string, ArrayBufferView> = { offsets: lists.offsets, docs: lists.docs, values: lists.values };
  if (b.postingTf !== null) post.tf = b.postingTf;
  sizeBytes += await writeSectionFile(join(tmp, SEGMENT_FILES.postings), 'postings', post);
  const idBytes = encodeStrings(docs.ids, order);
  sizeBytes += await writeSectionFile(join(tmp, SEGMENT_FILES.ids), 'ids', { offsets: idBytes.offsets, bytes: idBytes.bytes });
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const src = order[i];
    flags[i] = (docs.titles[src] !== null ? 1 : 0) | (docs.texts[src] !== null ? 2 : 0) | (docs.metas[src] !== null ? 4 : 0);
  }
  const titles = encodeStrings(docs.titles, order);
  const texts = encodeStrings(docs.texts, order);
  const metas = encodeStrings(docs.metas, order);
  sizeBytes += await writeSectionFile(join(tmp, SEGMENT_FILES.fields), 'fields', {
    flags,
    titleOffsets: titles.offsets,
    titleBytes: titles.bytes,
    textOffsets: texts.offsets,
    textBytes: texts.bytes,
    metaOffsets: metas.offsets,
    metaBytes: metas.bytes,
  });
  if (docs.dense !== null && docs.hasDense !== null) {
    const d = p.denseDim;
    const vectors = new Float32Array(n * d);
    const has = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const src = order[i];
      has[i] = docs.hasDense[src];
      vectors.set(docs.dense.subarray(src * d, src * d + d), i * d);
    }
    sizeBytes += await writeSectionFile(join(tmp, SEGMENT_FILES.dense), 'dense', { meta: new Uint32Array([d, 0]), has, vectors });
  }
  if (Object.keys(p.metadataTypes).length > 0) {
    const metadata = new Array<Record<string, unknown> | undefined>(n);
    for (let i = 0; i < n; i++) {
      const m = docs.metas[order[i]];
      metadata[i] = m === null ? undefined : (JSON.parse(m) as Record<string, unknown>);
    }
    sizeBytes += await writeMetadataIndex(join(tmp, SEGMENT_FILES.metadata), buildMetadataIndex(metadata, p.metadataTypes));
  }
  let approximate = false;
  if (n >= p.build.approximateThreshold) {
    const sections = buildApproximateSections(forward, p.build, b.calibrationQueries);
    if (sections !== null) {
      sizeBytes += await writeSectionFile(join(tmp, SEGMENT_FILES.seismic), 'seismic', sections);
      approximate = true;
    }
  }
  await fsyncDir(tmp);
  await rename(tmp, p.dir);
  await fsyncDir(dirname(p.dir));
  return { numDocs: n, nnz, sizeBytes, approximate };
}
