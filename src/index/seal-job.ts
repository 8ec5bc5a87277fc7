/**
 * Segment build jobs — the CPU work of sealing a memtable and of merging segments — as plain functions of a
 * structured-cloneable message, so they can run in a worker thread (seal-worker.mjs) or inline. Merges read the
 * input segments from disk (verifying them), drop deleted ords, and for bm25 reweight the raw term frequencies
 * with the new avgdl. Callers: seal-runner.ts.
 */
import { writeSegment, type ColumnarDocs, type SegmentBuildParams, type SegmentBuildResult } from './segment-writer.js';
import { SegmentReader } from './segment-reader.js';

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
    const { dir, docs, weighting, avgdl, denseDim, build, metadataTypes } = job;
    return writeSegment({ dir, docs, weighting, avgdl, denseDim, build, metadataTypes });
  }
  const readers = await Promise.all(job.inputs.map((i) => SegmentReader.open(i.dir)));
  const docs = collectLiveDocs(readers, job.inputs.map((i) => i.deleted), job.denseDim);
  const { dir, weighting, avgdl, denseDim, build, metadataTypes } = job;
  return writeSegment({ dir, docs, weighting, avgdl, denseDim, build, metadataTypes });
}

/** Live docs of several segments in columnar form, with raw vectors. */
export function collectLiveDocs(readers: SegmentReader[], deleted: Uint32Array[], denseDim: number): ColumnarDocs {
  let n = 0;
  let nnz = 0;
  const dead = deleted.map((d) => new Set(d));
  readers.forEach((r, i) => {
    for (let o = 0; o < r.numDocs; o++) {
      if (dead[i].has(o)) continue;
      n++;
      nnz += r.forward.offsets[o + 1] - r.forward.offsets[o];
    }
  });
  const docs: ColumnarDocs = {
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
  let d = 0;
  let at = 0;
  readers.forEach((r, i) => {
    for (let o = 0; o < r.numDocs; o++) {
      if (dead[i].has(o)) continue;
      docs.ids.push(r.idAt(o));
      const f = r.fieldsOf(o);
      docs.titles.push(f.title ?? null);
      docs.texts.push(f.text ?? null);
      docs.metas.push(r.metadataJson(o));
      const v = r.rawVector(o);
      docs.termIds.set(v.indices, at);
      docs.values.set(v.values, at);
      at += v.indices.length;
      docs.offsets[d + 1] = at;
      const dv = r.denseOf(o);
      if (dv !== undefined && docs.dense !== null && docs.hasDense !== null) {
        docs.dense.set(dv, d * denseDim);
        docs.hasDense[d] = 1;
      }
      d++;
    }
  });
  return docs;
}
