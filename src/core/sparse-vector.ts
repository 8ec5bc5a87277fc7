/**
 * The sparse vector: sorted unique term ids (`Uint32Array`) and their weights (`Float32Array`, finite, > 0).
 * Every layer speaks this type. Builders here validate and normalise caller input (throwing INVALID_ARGUMENT
 * naming the field); the index trusts vectors it receives.
 */
import { invalidArgument } from './errors.js';

export interface SparseVector {
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

export const EMPTY_VECTOR: SparseVector = { indices: new Uint32Array(0), values: new Float32Array(0) };

/**
 * Reusable arrays a vector is written into, one per thread and use (a segment's query remap, term-remap.ts; a
 * search worker's ring reads, search-ring.ts), grown to the longest vector seen, so a search allocates none: a
 * fresh pair of typed arrays of a 43-term query cost ~0.6 µs (their backing stores live off the V8 heap past 64
 * bytes), two views of a scratch ~0.05 µs.
 */
export interface VectorScratch {
  ids: Uint32Array;
  vals: Float32Array;
}

/** A scratch with room for `n` entries. */
export function vectorScratch(n = 64): VectorScratch {
  return { ids: new Uint32Array(n), vals: new Float32Array(n) };
}

/** Gives `scratch` room for `n` entries: new arrays (contents dropped) when it has fewer. */
export function fitScratch(scratch: VectorScratch, n: number): void {
  if (scratch.ids.length >= n) return;
  scratch.ids = new Uint32Array(n);
  scratch.vals = new Float32Array(n);
}

/**
 * Validates a caller-supplied `{indices, values}` pair: equal lengths, integer ids in `[0, dim)`, no duplicates,
 * finite non-negative weights. Zeros are dropped and ids sorted. Throws INVALID_ARGUMENT naming `field`.
 */
export function fromIndicesValues(indices: ArrayLike<number>, values: ArrayLike<number>, dim: number, field = 'vector'): SparseVector {
  if (indices.length !== values.length) {
    throw invalidArgument(field, `indices has ${indices.length} entries but values has ${values.length}`);
  }
  // Fast path (bulk loads send sorted vectors): strictly increasing in-range integer ids and positive finite
  // weights are copied without the sort below.
  let sorted = true;
  for (let i = 0; i < indices.length; i++) {
    const id = indices[i];
    const w = values[i];
    if (!(Number.isInteger(id) && id >= 0 && id < dim && (i === 0 || id > indices[i - 1]) && w > 0 && w < Infinity)) {
      sorted = false;
      break;
    }
  }
  if (sorted) {
    const out = allocVector(indices.length);
    for (let i = 0; i < indices.length; i++) {
      out.indices[i] = indices[i];
      out.values[i] = values[i];
    }
    return out;
  }
  const order: number[] = [];
  for (let i = 0; i < indices.length; i++) {
    const id = indices[i];
    const w = values[i];
    if (!Number.isInteger(id) || id < 0 || id >= dim) {
      throw invalidArgument(`${field}.indices[${i}]`, `term id ${id} is not an integer in [0, ${dim})`);
    }
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw invalidArgument(`${field}.values[${i}]`, `weight ${w} must be a finite number >= 0`);
    }
    if (w > 0) order.push(i);
  }
  order.sort((a, b) => indices[a] - indices[b]);
  const out = allocVector(order.length);
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    if (j > 0 && indices[i] === out.indices[j - 1]) {
      throw invalidArgument(`${field}.indices`, `duplicate term id ${indices[i]}`);
    }
    out.indices[j] = indices[i];
    out.values[j] = values[i];
  }
  return out;
}

/**
 * A zeroed vector of `n` entries whose indices and values are two views of one buffer: one off-heap allocation,
 * not two (a typed array past 64 bytes costs ~0.3 µs to allocate here; `Uint32Array.from` of a JavaScript array
 * more, through the iterator). Not for transfer lists: the two views share their buffer.
 */
function allocVector(n: number): SparseVector {
  const buf = new ArrayBuffer(n * 8);
  return { indices: new Uint32Array(buf, 0, n), values: new Float32Array(buf, n * 4, n) };
}

/**
 * Builds a vector from (id, weight) pairs that may repeat ids; repeated ids are combined with `combine`
 * (sum for term frequencies, max for max-pooling). Weights <= 0 are dropped. Trusted input only.
 */
export function fromPairs(pairs: Iterable<[number, number]>, combine: 'sum' | 'max' = 'sum'): SparseVector {
  const acc = new Map<number, number>();
  for (const [id, w] of pairs) {
    const prev = acc.get(id);
    if (prev === undefined) acc.set(id, w);
    else acc.set(id, combine === 'sum' ? prev + w : Math.max(prev, w));
  }
  const ids = [...acc.keys()].filter((id) => (acc.get(id) as number) > 0).sort((a, b) => a - b);
  const values = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) values[i] = acc.get(ids[i]) as number;
  return { indices: Uint32Array.from(ids), values };
}

/** Dot product of two sorted sparse vectors (merge walk). */
export function dot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  const ai = a.indices;
  const bi = b.indices;
  while (i < ai.length && j < bi.length) {
    const x = ai[i];
    const y = bi[j];
    if (x === y) {
      s += a.values[i++] * b.values[j++];
    } else if (x < y) i++;
    else j++;
  }
  return s;
}

/** Keeps the `n` largest weights (ties: smaller id first), returned sorted by id. */
export function topTerms(v: SparseVector, n: number): SparseVector {
  if (v.indices.length <= n) return v;
  const order = Array.from(v.indices.keys()).sort((a, b) => v.values[b] - v.values[a] || v.indices[a] - v.indices[b]);
  const keep = order.slice(0, n).sort((a, b) => v.indices[a] - v.indices[b]);
  return {
    indices: Uint32Array.from(keep, (i) => v.indices[i]),
    values: Float32Array.from(keep, (i) => v.values[i]),
  };
}

/** Keeps weights >= minWeight, then at most maxTerms of the largest. */
export function prune(v: SparseVector, minWeight: number, maxTerms: number): SparseVector {
  let out = v;
  if (minWeight > 0) {
    const keep: number[] = [];
    for (let i = 0; i < v.indices.length; i++) if (v.values[i] >= minWeight) keep.push(i);
    if (keep.length !== v.indices.length) {
      out = { indices: Uint32Array.from(keep, (i) => v.indices[i]), values: Float32Array.from(keep, (i) => v.values[i]) };
    }
  }
  return topTerms(out, maxTerms);
}

/** L1 mass of a vector. */
export function l1(v: SparseVector): number {
  let s = 0;
  for (let i = 0; i < v.values.length; i++) s += v.values[i];
  return s;
}
