/**
 * Metadata filters, index side (DESIGN.md §4 Filters): per segment, a roaring bitmap (through bitmap.ts, the only
 * roaring importer) per (keyword field, value) and a numeric column per number field; `evaluateFilter` turns a
 * request filter into a dense bitset of EXCLUDED ords for the kernels' `excluded` parameter (OR it with the
 * deleted bitset). `matchesFilter` is the same predicate for one document (the memtable's path).
 *
 * Semantics (shared by both paths through `keywordValues`/`numberValues`):
 * - keyword fields: a value's key is its string form (`"en"`, `2021` → `"2021"`, `true` → `"true"`); an array
 *   contributes each element, so `tags: ["a","b"]` matches `eq: "a"`. `eq`/`in` match when any key is equal.
 * - number fields: finite numbers (or arrays of them; other values are ignored). `gt/gte/lt/lte` and `eq`/`in`
 *   (numeric equality) in one clause must all hold for the same value; any value of an array may satisfy it.
 * - a clause on a document without the field (or without a usable value) is false: it fails `must` and does not
 *   match `mustNot`. A doc is accepted when it satisfies every `must`, no `mustNot`, and (when `should` is
 *   non-empty) at least one `should`. Undeclared fields are not indexed: their clauses are false (the search
 *   service rejects such filters earlier with INVALID_ARGUMENT).
 *
 * Serialised form (named sections of src/core/section-file.ts, section names prefixed `md.`):
 * - `md.schema` u8: UTF-8 JSON `{numDocs, keyword: [{field, values: [key...]}], number: [field...]}`;
 * - `md.kwOffsets` f64[B+1]: byte offsets into `md.kwBytes` of the B bitmaps, in schema order (field, value);
 * - `md.kwBytes` u8: the bitmaps' portable roaring bytes, concatenated;
 * - `md.numOffsets` u32[F·(numDocs+1)]: per number field, CSR offsets of its values (doc d owns
 *   `[o[d], o[d+1])` of that field's values);
 * - `md.numStarts` f64[F+1]: where each field's values start in `md.numValues`;
 * - `md.numValues` f64: the values.
 * Callers: the segment writer/reader and collection-store.ts (build, open, search), the memtable path.
 */
import { OrdBitmap } from './bitmap.js';
import { corruptIndex } from '../core/errors.js';
import type { FilterClause, FilterInput } from '../config/request-schemas.js';
import { getSection, readSectionFile, writeSectionFile, type SectionFile } from '../core/section-file.js';

/** Declared metadata field types (CollectionConfig.metadata). */
export type MetadataTypes = Record<string, 'keyword' | 'number'>;

/** A numeric column in CSR form (multi-valued docs allowed). */
export interface NumericColumn {
  /** numDocs + 1 offsets into `values`. */
  readonly offsets: Uint32Array;
  readonly values: Float64Array;
}

/** The metadata index of one segment (read-only once built). */
export interface MetadataIndex {
  readonly numDocs: number;
  /** field → value key → ords holding it. */
  readonly keyword: Map<string, Map<string, OrdBitmap>>;
  readonly number: Map<string, NumericColumn>;
}

/** The keyword keys of a metadata value (see the file header). */
export function keywordValues(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const x of v) if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out.push(String(x));
    return out;
  }
  return [];
}

/** The finite numbers of a metadata value. */
export function numberValues(v: unknown): number[] {
  if (typeof v === 'number') return Number.isFinite(v) ? [v] : [];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return [];
}

/** Builds the index of a segment whose doc `ord` has metadata `metadata[ord]` (undefined = none). */
export function buildMetadataIndex(metadata: readonly (Record<string, unknown> | undefined)[], types: MetadataTypes): MetadataIndex {
  const numDocs = metadata.length;
  const keyword = new Map<string, Map<string, OrdBitmap>>();
  const number = new Map<string, NumericColumn>();
  for (const field of Object.keys(types).sort()) {
    if (types[field] === 'keyword') {
      const byValue = new Map<string, OrdBitmap>();
      for (let d = 0; d < numDocs; d++) {
        const m = metadata[d];
        if (m === undefined || !Object.hasOwn(m, field)) continue;
        for (const key of keywordValues(m[field])) {
          let b = byValue.get(key);
          if (b === undefined) byValue.set(key, (b = OrdBitmap.create()));
          b.add(d);
        }
      }
      keyword.set(field, byValue);
    } else {
      const offsets = new Uint32Array(numDocs + 1);
      const vals: number[] = [];
      for (let d = 0; d < numDocs; d++) {
        const m = metadata[d];
        if (m !== undefined && Object.hasOwn(m, field)) for (const x of numberValues(m[field])) vals.push(x);
        offsets[d + 1] = vals.length;
      }
      number.set(field, { offsets, values: Float64Array.from(vals) });
    }
  }
  return { numDocs, keyword, number };
}

/** Whether number `x` satisfies every numeric condition of clause `c`. */
function numberMatches(c: FilterClause, x: number): boolean {
  if (c.gt !== undefined && !(x > c.gt)) return false;
  if (c.gte !== undefined && !(x >= c.gte)) return false;
  if (c.lt !== undefined && !(x < c.lt)) return false;
  if (c.lte !== undefined && !(x <= c.lte)) return false;
  if (c.eq !== undefined && !(typeof c.eq === 'number' && x === c.eq)) return false;
  if (c.in !== undefined && !c.in.some((y) => typeof y === 'number' && y === x)) return false;
  return true;
}

/** Whether keyword keys satisfy clause `c` (eq and in must both hold when both are given). */
function keywordMatches(c: FilterClause, keys: readonly string[]): boolean {
  if (keys.length === 0) return false;
  if (c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined) return false;
  if (c.eq !== undefined && !keys.includes(String(c.eq))) return false;
  if (c.in !== undefined && !c.in.some((y) => keys.includes(String(y)))) return false;
  return true;
}

function clauseMatches(metadata: Record<string, unknown> | undefined, c: FilterClause, types: MetadataTypes): boolean {
  const type = Object.hasOwn(types, c.field) ? types[c.field] : undefined;
  if (type === undefined || metadata === undefined || !Object.hasOwn(metadata, c.field)) return false;
  const v = metadata[c.field];
  if (type === 'keyword') return keywordMatches(c, keywordValues(v));
  for (const x of numberValues(v)) if (numberMatches(c, x)) return true;
  return false;
}

/** The per-document form of `evaluateFilter` (memtable docs): true when the document is accepted. */
export function matchesFilter(metadata: Record<string, unknown> | undefined, filter: FilterInput, types: MetadataTypes): boolean {
  for (const c of filter.must ?? []) if (!clauseMatches(metadata, c, types)) return false;
  for (const c of filter.mustNot ?? []) if (clauseMatches(metadata, c, types)) return false;
  const should = filter.should ?? [];
  if (should.length === 0) return true;
  for (const c of should) if (clauseMatches(metadata, c, types)) return true;
  return false;
}

/** Dense bitset (ceil(numDocs/32) words) of the docs matching clause `c`. */
function clauseBitset(index: MetadataIndex, c: FilterClause, words: number): Uint32Array {
  const out = new Uint32Array(words);
  const n = index.numDocs;
  const byValue = index.keyword.get(c.field);
  if (byValue !== undefined) {
    if (c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined) return out;
    let acc: Uint32Array | null = null;
    if (c.eq !== undefined) {
      const b = byValue.get(String(c.eq));
      if (b === undefined) return out;
      acc = b.toDenseBitset(n);
    }
    if (c.in !== undefined) {
      const any = new Uint32Array(words);
      for (const y of new Set(c.in.map(String))) {
        const b = byValue.get(y);
        if (b === undefined) continue;
        const ords = b.toArray();
        for (let i = 0; i < ords.length; i++) any[ords[i] >>> 5] |= 1 << (ords[i] & 31);
      }
      if (acc === null) acc = any;
      else for (let w = 0; w < words; w++) acc[w] &= any[w];
    }
    return acc ?? out;
  }
  const col = index.number.get(c.field);
  if (col === undefined) return out;
  const { offsets, values } = col;
  for (let d = 0; d < n; d++) {
    for (let p = offsets[d], e = offsets[d + 1]; p < e; p++) {
      if (numberMatches(c, values[p])) {
        out[d >>> 5] |= 1 << (d & 31);
        break;
      }
    }
  }
  return out;
}

/**
 * Dense bitset (`ceil(numDocs/32)` words, bit `ord` of word `ord >>> 5`) of the ords the filter EXCLUDES: those
 * failing a `must`, matching a `mustNot`, or matching no `should` when `should` is non-empty. Bits at or past
 * `numDocs` are 0. OR it with the deleted bitset and pass it as the kernels' `excluded`.
 */
export function evaluateFilter(index: MetadataIndex, filter: FilterInput, numDocs: number): Uint32Array {
  const words = (numDocs + 31) >>> 5;
  const accepted = new Uint32Array(words).fill(0xffffffff);
  for (const c of filter.must ?? []) {
    const m = clauseBitset(index, c, words);
    for (let w = 0; w < words; w++) accepted[w] &= m[w];
  }
  for (const c of filter.mustNot ?? []) {
    const m = clauseBitset(index, c, words);
    for (let w = 0; w < words; w++) accepted[w] &= ~m[w];
  }
  const should = filter.should ?? [];
  if (should.length > 0) {
    const any = new Uint32Array(words);
    for (const c of should) {
      const m = clauseBitset(index, c, words);
      for (let w = 0; w < words; w++) any[w] |= m[w];
    }
    for (let w = 0; w < words; w++) accepted[w] &= any[w];
  }
  const excluded = new Uint32Array(words);
  for (let w = 0; w < words; w++) excluded[w] = ~accepted[w];
  const tail = numDocs & 31;
  if (tail !== 0) excluded[words - 1] &= (1 << tail) - 1;
  return excluded;
}

/** Number of set bits among the first `numDocs` bits of a dense bitset. */
export function countBits(bitset: Uint32Array, numDocs: number): number {
  let n = 0;
  const words = (numDocs + 31) >>> 5;
  for (let w = 0; w < words; w++) {
    let x = bitset[w];
    if (w === words - 1 && (numDocs & 31) !== 0) x &= (1 << (numDocs & 31)) - 1;
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    n += (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n;
}

/** The ords `< numDocs` whose bit is NOT set (the accepted docs of an excluded bitset), ascending. */
export function clearOrds(bitset: Uint32Array, numDocs: number): Uint32Array {
  const out = new Uint32Array(numDocs - countBits(bitset, numDocs));
  let j = 0;
  for (let d = 0; d < numDocs; d++) if ((bitset[d >>> 5] & (1 << (d & 31))) === 0) out[j++] = d;
  return out;
}

/** Named sections of the serialised index (see the file header). */
export function metadataIndexToSections(index: MetadataIndex): Record<string, ArrayBufferView> {
  const schema: { numDocs: number; keyword: { field: string; values: string[] }[]; number: string[] } = {
    numDocs: index.numDocs,
    keyword: [],
    number: [],
  };
  const blobs: Uint8Array[] = [];
  for (const [field, byValue] of index.keyword) {
    const values = [...byValue.keys()];
    schema.keyword.push({ field, values });
    for (const v of values) blobs.push((byValue.get(v) as OrdBitmap).serialize());
  }
  const kwOffsets = new Float64Array(blobs.length + 1);
  for (let i = 0; i < blobs.length; i++) kwOffsets[i + 1] = kwOffsets[i] + blobs[i].byteLength;
  const kwBytes = new Uint8Array(kwOffsets[blobs.length]);
  for (let i = 0; i < blobs.length; i++) kwBytes.set(blobs[i], kwOffsets[i]);
  const fields = [...index.number.keys()];
  schema.number = fields;
  const numOffsets = new Uint32Array(fields.length * (index.numDocs + 1));
  const numStarts = new Float64Array(fields.length + 1);
  fields.forEach((f, i) => {
    const col = index.number.get(f) as NumericColumn;
    numOffsets.set(col.offsets, i * (index.numDocs + 1));
    numStarts[i + 1] = numStarts[i] + col.values.length;
  });
  const numValues = new Float64Array(numStarts[fields.length]);
  fields.forEach((f, i) => numValues.set((index.number.get(f) as NumericColumn).values, numStarts[i]));
  return {
    'md.schema': new Uint8Array(Buffer.from(JSON.stringify(schema), 'utf8')),
    'md.kwOffsets': kwOffsets,
    'md.kwBytes': kwBytes,
    'md.numOffsets': numOffsets,
    'md.numStarts': numStarts,
    'md.numValues': numValues,
  };
}

/** Rebuilds an index from a section file holding the `md.*` sections; CORRUPT_INDEX naming the file on damage. */
export function metadataIndexFromSections(file: SectionFile): MetadataIndex {
  const bad = (why: string) => corruptIndex(file.path, `metadata index: ${why}`);
  const schemaBytes = getSection(file, 'md.schema', Uint8Array);
  let schema: { numDocs: number; keyword: { field: string; values: string[] }[]; number: string[] };
  try {
    schema = JSON.parse(Buffer.from(schemaBytes.buffer, schemaBytes.byteOffset, schemaBytes.byteLength).toString('utf8'));
  } catch {
    throw bad('schema is not valid JSON');
  }
  const numDocs = schema.numDocs;
  if (!Number.isInteger(numDocs) || numDocs < 0 || !Array.isArray(schema.keyword) || !Array.isArray(schema.number)) throw bad('bad schema');
  const kwOffsets = getSection(file, 'md.kwOffsets', Float64Array);
  const kwBytes = getSection(file, 'md.kwBytes', Uint8Array);
  const keyword = new Map<string, Map<string, OrdBitmap>>();
  let b = 0;
  for (const { field, values } of schema.keyword) {
    const byValue = new Map<string, OrdBitmap>();
    for (const v of values) {
      if (b + 1 >= kwOffsets.length || kwOffsets[b + 1] > kwBytes.length || kwOffsets[b] > kwOffsets[b + 1])
        throw bad('bitmap offsets out of range');
      try {
        byValue.set(v, OrdBitmap.deserialize(kwBytes.subarray(kwOffsets[b], kwOffsets[b + 1])));
      } catch {
        throw bad(`bitmap ${field}=${v} is malformed`);
      }
      b++;
    }
    keyword.set(field, byValue);
  }
  const numOffsets = getSection(file, 'md.numOffsets', Uint32Array);
  const numStarts = getSection(file, 'md.numStarts', Float64Array);
  const numValues = getSection(file, 'md.numValues', Float64Array);
  const fields = schema.number;
  if (numOffsets.length !== fields.length * (numDocs + 1) || numStarts.length !== fields.length + 1)
    throw bad('numeric sections have wrong lengths');
  const number = new Map<string, NumericColumn>();
  fields.forEach((f, i) => {
    const offsets = numOffsets.subarray(i * (numDocs + 1), (i + 1) * (numDocs + 1));
    const values = numValues.subarray(numStarts[i], numStarts[i + 1]);
    if (offsets[numDocs] !== values.length) throw bad(`numeric column ${f} is inconsistent`);
    number.set(f, { offsets, values });
  });
  return { numDocs, keyword, number };
}

/** Writes the index as its own section file of kind "metadata" (fsynced, no rename: inside a segment temp dir). */
export async function writeMetadataIndex(path: string, index: MetadataIndex): Promise<number> {
  return writeSectionFile(path, 'metadata', metadataIndexToSections(index));
}

/** Reads a file written by `writeMetadataIndex`; CORRUPT_INDEX naming the file on any damage. */
export async function readMetadataIndex(path: string): Promise<MetadataIndex> {
  return metadataIndexFromSections(await readSectionFile(path, 'metadata'));
}
