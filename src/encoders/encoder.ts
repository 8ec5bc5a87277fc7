/**
 * The encoder contract. A sparse encoder turns a batch of texts into sparse vectors over its vocabulary
 * (`dim` term ids); a dense encoder into `Float32Array`s. ONNX encoders run in worker threads, so every call is
 * async. `decode` maps a term id back to a token for explanations and token maps; `lookup` maps a token to an id
 * (undefined when unknown) so `{"token": weight}` vectors can be resolved.
 *
 * The `lexical` encoder is special: its weights depend on collection statistics, so it is not a `SparseEncoder`;
 * see src/encoders/lexical/.
 */
import type { SparseVector } from '../core/sparse-vector.js';

export type EncodeKind = 'query' | 'document';

export interface SparseEncoder {
  readonly kind: 'sparse';
  readonly name: string;
  /** Vocabulary size: term ids are in `[0, dim)`. */
  readonly dim: number;
  encode(texts: readonly string[], as: EncodeKind): Promise<SparseVector[]>;
  decode(termId: number): string;
  lookup(token: string): number | undefined;
  close(): Promise<void>;
}

export interface DenseEncoder {
  readonly kind: 'dense';
  readonly name: string;
  readonly dim: number;
  encode(texts: readonly string[], as: EncodeKind): Promise<Float32Array[]>;
  close(): Promise<void>;
}
