/**
 * Segment build jobs — the CPU work of sealing a memtable and of merging segments — as plain functions of a
 * structured-cloneable message, so they can run in a worker thread (seal-worker.ts) or inline. Merges read the
 * input segments from disk one at a time (verifying them), drop deleted ords, and for bm25 reweight the raw term
 * frequencies with the new avgdl. Callers: seal-runner.ts.
 */
import { join } from 'node:path';
import { readSectionFile } from '../core/section-file.js';
import { parseForward, SEGMENT_FILES, SegmentReader } from './segment-reader.js';
import { writeSegment, type ColumnarDocs, type SegmentBuildParams, type SegmentBuildResult } from './segment-writer.js';

/**
 * A seal writes `docs` as given; a merge reads its docs from the input segments. Both carry the rest of
 * SegmentBuildParams unchanged, so the fields are declared once, in segment-writer.ts.
 */
export type SegmentJob =
  | ({ kind: 'seal' } & SegmentBuildParams)
  | ({
      kind: 'merge';
      /** Input segment directories with their deleted ords at the time the merge started. */
      inputs: { dir: string; deleted: Uint32Array }[];
    } & Omit<SegmentBuildParams, 'docs'>);

/** Runs a job to completion; the segment directory exists and is durable when it resolves. */
export async function runSegmentJob(job: SegmentJob): Promise<SegmentBuildResult> {
  if (job.kind === 'seal') {
    const { dir, docs, weighting, avgdl, denseDim, build, metadataTypes, calibrationQueries } = job;
    return writeSegment({ dir, docs, weighting, avgdl, denseDim, build, metadataTypes, calibrationQueries });
  }
  const docs = await collectMergeInputs(job.inputs, job.denseDim);
  const { dir, weighting, avgdl, denseDim, build, metadataTypes, calibrationQueries } = job;
  return writeSegment({ dir, docs, weighting, avgdl, denseDim, build, metadataTypes, calibrationQueries });
}

/**
 * Live docs of the merge inputs, holding one input segment in memory at a time: a first pass reads only each
 * forward.bin to size the columns, a second opens each segment in turn (verifying it), copies its live docs and
 * lets it go before the next, so the build that follows does not share the heap with every input (a 1M-doc
 * optimize of five 200k segments held ~2 GB of inputs through the whole build).
 */
async function collectMergeInputs(inputs: { dir: string; deleted: Uint32Array }[], denseDim: number): Promise<ColumnarDocs> {
  let n = 0;
  let nnz = 0;
  for (const input of inputs) {
    const { forward } = parseForward(await readSectionFile(join(input.dir, SEGMENT_FILES.forward), 'forward'));
    const dead = new Set(input.deleted);
    for (let o = 0; o < forward.numDocs; o++) {
      if (dead.has(o)) continue;
      n++;
      nnz += forward.offsets[o + 1] - forward.offsets[o];
    }
  }
  const docs = emptyColumns(n, nnz, denseDim);
  const at = { doc: 0, nnz: 0 };
  for (const input of inputs) appendLiveDocs(docs, at, await SegmentReader.open(input.dir), new Set(input.deleted), denseDim);
  if (at.doc !== n || at.nnz !== nnz) throw new Error(`merge inputs changed while read: ${at.doc}/${n} docs, ${at.nnz}/${nnz} nonzeros`);
  return docs;
}

/** Columns for `n` docs with `nnz` nonzeros, filled by `appendLiveDocs`. */
function emptyColumns(n: number, nnz: number, denseDim: number): ColumnarDocs {
  return {
    ids: [],
    titles: [],
    texts: [],
    metas: [],
    offsets: new Uint32Array(n + 1),
    termIds: new Uint32Array(nnz),
    values: new Float32Array(nnz),
    dense: denseDim > 0 ? new Float32Array(n * denseDim) : null,
    hasDense: denseDim > 0 ? new Uint8Array(n) : null,
  };
}

/** Appends the live docs of `r` (raw vectors, stored fields, dense vectors) at `at`, advancing it. */
function appendLiveDocs(docs: ColumnarDocs, at: { doc: number; nnz: number }, r: SegmentReader, dead: Set<number>, denseDim: number): void {
  for (let o = 0; o < r.numDocs; o++) {
    if (dead.has(o)) continue;
    const d = at.doc;
    docs.ids.push(r.idAt(o));
    const f = r.fieldsOf(o);
    docs.titles.push(f.title ?? null);
    docs.texts.push(f.text ?? null);
    docs.metas.push(r.metadataJson(o));
    const v = r.rawVector(o);
    if (at.nnz + v.indices.length > docs.termIds.length) throw new Error('merge input grew while read');
    docs.termIds.set(v.indices, at.nnz);
    docs.values.set(v.values, at.nnz);
    at.nnz += v.indices.length;
    docs.offsets[d + 1] = at.nnz;
    const dv = r.denseOf(o);
    if (dv !== undefined && docs.dense !== null && docs.hasDense !== null) {
      docs.dense.set(dv, d * denseDim);
      docs.hasDense[d] = 1;
    }
    at.doc++;
  }
}
