/**
 * Turns caller-supplied vectors (API.md: `{indices, values}` or a token map `{"token": weight}`) into a
 * validated `SparseVector` over a collection's term ids. Token maps resolve through a `Vocabulary`; unknown
 * tokens are returned as `unknown` (queries report them in `warnings`, documents reject them) — never silently
 * used. Growable vocabularies (lexical and `encoder: "none"` collections) may add document tokens.
 */
import { fromIndicesValues, type SparseVector } from '../core/sparse-vector.js';
import { invalidArgument } from '../core/errors.js';
import type { VectorInput } from '../config/request-schemas.js';

/** Term lookup of a collection: a fixed encoder vocabulary or the store's growable dictionary. */
export interface Vocabulary {
  /** Exclusive upper bound of term ids. */
  readonly dim: number;
  lookup(token: string): number | undefined;
  /** Only for growable vocabularies: adds the token and returns its id. */
  add?(token: string): number;
  decode(termId: number): string;
}

export interface ResolvedVector {
  vector: SparseVector;
  unknown: string[];
}

function isIndicesValues(v: VectorInput): v is { indices: number[]; values: number[] } {
  return Array.isArray((v as { indices?: unknown }).indices) && Array.isArray((v as { values?: unknown }).values);
}

/**
 * Resolves `input` against `vocab`. With `grow`, unknown tokens are added (documents of growable collections).
 * Throws INVALID_ARGUMENT naming `field` for out-of-range ids, duplicates, bad weights.
 */
export function resolveVector(input: VectorInput, vocab: Vocabulary, field: string, grow = false): ResolvedVector {
  if (isIndicesValues(input)) {
    return { vector: fromIndicesValues(input.indices, input.values, vocab.dim, field), unknown: [] };
  }
  const ids: number[] = [];
  const values: number[] = [];
  const unknown: string[] = [];
  for (const [token, weight] of Object.entries(input)) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      throw invalidArgument(`${field}.${token}`, `weight ${String(weight)} must be a finite number >= 0`);
    }
    let id = vocab.lookup(token);
    if (id === undefined && grow && vocab.add) id = vocab.add(token);
    if (id === undefined) {
      unknown.push(token);
      continue;
    }
    ids.push(id);
    values.push(weight);
  }
  return { vector: fromIndicesValues(ids, values, vocab.dim, field), unknown };
}

/** Renders a vector as a `{token: weight}` map through the vocabulary. */
export function toTokenMap(v: SparseVector, vocab: Vocabulary): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < v.indices.length; i++) out[vocab.decode(v.indices[i])] = v.values[i];
  return out;
}
