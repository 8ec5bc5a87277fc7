/**
 * Copies the live docs of a (frozen) memtable into the columnar form the segment writer takes. The copies own
 * their ArrayBuffers so they can be transferred to the seal worker without copying again. Callers:
 * store-seal-merge.ts when sealing.
 */
import type { Memtable } from './memtable.js';
import type { ColumnarDocs } from './segment-writer.js';

/** Columnar copy of `slots` of memtable `m` (raw vector values). */
export function memtableColumnar(m: Memtable, slots: readonly number[], denseDim: number): ColumnarDocs {
  const n = slots.length;
  let nnz = 0;
  for (const s of slots) nnz += m.rawVector(s).indices.length;
  const docs: ColumnarDocs = {
    ids: new Array<string>(n),
    titles: new Array<string | null>(n),
    texts: new Array<string | null>(n),
    metas: new Array<string | null>(n),
    offsets: new Uint32Array(n + 1),
    termIds: new Uint32Array(nnz),
    values: new Float32Array(nnz),
    dense: denseDim > 0 ? new Float32Array(n * denseDim) : null,
    hasDense: denseDim > 0 ? new Uint8Array(n) : null,
  };
  let at = 0;
  for (let i = 0; i < n; i++) {
    const s = slots[i];
    const f = m.fieldsOf(s);
    docs.ids[i] = m.idOf(s);
    docs.titles[i] = f.title ?? null;
    docs.texts[i] = f.text ?? null;
    docs.metas[i] = f.metadata === undefined ? null : JSON.stringify(f.metadata);
    const v = m.rawVector(s);
    docs.termIds.set(v.indices, at);
    docs.values.set(v.values, at);
    at += v.indices.length;
    docs.offsets[i + 1] = at;
    if (f.dense !== undefined && docs.dense !== null && docs.hasDense !== null) {
      docs.dense.set(f.dense, i * denseDim);
      docs.hasDense[i] = 1;
    }
  }
  return docs;
}
