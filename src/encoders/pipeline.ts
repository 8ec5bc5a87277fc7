/**
 * The encode pipeline of one encoder directory: tokenise → windows → length-sorted batches → ONNX inference →
 * pooling → special-token zeroing and pruning. Runs inside an encode worker (src/encoders/encode-worker.ts); the
 * benchmark also runs it on the main thread as the "plain session" baseline.
 *
 * `openPipeline` validates everything a query could trip over later — files, tokenizer, model inputs/outputs,
 * output rank and vocabulary size (by a one-row warm-up inference) — and throws INVALID_ARGUMENT naming the encoder
 * and the file. Outputs are recognised by introspection: `[B,S,V]` logits (pooled here), `[B,V]` pooled in the
 * graph, or a pooled pair (`indices`, `weights`, each `[B,K]`); dense models give `[B,S,H]` hidden states (mean or
 * CLS pooled here) or `[B,H]`. Only one batch of outputs is alive at a time.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SpladexError } from '../core/errors.js';
import type { SparseVector } from '../core/sparse-vector.js';
import type { EncodeKind } from './encoder.js';
import { poolingOf, type EncoderManifest } from './manifest.js';
import { openOnnxModel, type IntFeed, type OnnxModel, type OutputTensor } from './onnx-session.js';
import {
  clsPoolInto,
  l2NormalizeInPlace,
  maxRowInto,
  meanPoolInto,
  pairRowInto,
  poolLogitsInto,
  sparsifyRow,
  type SparsifyOptions,
} from './pooling.js';
import { echoPiecesOf, planBatches, pushWindows, windowRoom, type EchoPieces, type TokenWindow } from './sequences.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer.js';

/** Sparse results packed CSR-style so they cross a worker boundary as three transferable buffers. */
export interface PackedSparse {
  readonly kind: 'sparse';
  readonly offsets: Uint32Array;
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

/** Dense results: `count × dim` row-major. */
export interface PackedDense {
  readonly kind: 'dense';
  readonly dim: number;
  readonly data: Float32Array;
}

/** What a pipeline (and an encode worker) returns for one batch of texts, in input order. */
export type PackedResult = PackedSparse | PackedDense;

/** The resolved model signature (which input plays which role, what the output looks like). */
export interface ModelSignature {
  readonly inputIds: string;
  readonly attentionMask: string | undefined;
  readonly tokenTypeIds: string | undefined;
  readonly poolingMask: string | undefined;
  /** `sequence`: [B,S,X] (logits or hidden states); `pooled`: [B,X]; `pair`: indices + weights [B,K]. */
  readonly output:
    | { kind: 'sequence'; name: string }
    | { kind: 'pooled'; name: string }
    | { kind: 'pair'; indices: string; weights: string };
}

/**
 * An opened encoder directory. `encode` returns one vector per text in input order; documents are pruned with the
 * manifest's minWeight/maxTerms, queries are not. Not thread-safe: one `encode` at a time (a worker runs one task).
 */
export interface EncodePipeline {
  readonly manifest: EncoderManifest;
  readonly tokenizer: TextTokenizer;
  readonly signature: ModelSignature | undefined;
  encode(texts: readonly string[], as: EncodeKind): Promise<PackedResult>;
  close(): Promise<void>;
}

/** Upper bound on the logits tensor of one inference call. */
const LOGITS_BATCH_BYTES = 256 * 1024 * 1024;

const INPUT_ALIASES = {
  inputIds: ['input_ids', 'ids', 'input'],
  attentionMask: ['attention_mask', 'input_mask', 'mask'],
  tokenTypeIds: ['token_type_ids', 'segment_ids', 'type_ids'],
  poolingMask: ['pooling_mask'],
} as const;
type InputRole = keyof typeof INPUT_ALIASES;

function fail(label: string, why: string): SpladexError {
  return new SpladexError('INVALID_ARGUMENT', `${label}: ${why}`);
}

/** Maps model inputs/outputs to roles, using manifest overrides first. Throws INVALID_ARGUMENT naming the model file. */
export function resolveSignature(model: OnnxModel, m: EncoderManifest, label: string): ModelSignature {
  const roles: Partial<Record<InputRole, string>> = {};
  for (const input of model.inputs) {
    let role = (Object.keys(INPUT_ALIASES) as InputRole[]).find((r) => m.inputs[r] === input.name);
    role ??= (Object.keys(INPUT_ALIASES) as InputRole[]).find(
      (r) => m.inputs[r] === undefined && (INPUT_ALIASES[r] as readonly string[]).includes(input.name),
    );
    if (role === undefined) {
      throw fail(label, `model input "${input.name}" is not recognised (name it in encoder.json "inputs")`);
    }
    if (input.type !== 'int64' && input.type !== 'int32') {
      throw fail(label, `model input "${input.name}" has element type ${input.type}, expected int64 or int32`);
    }
    roles[role] = input.name;
  }
  for (const r of Object.keys(INPUT_ALIASES) as InputRole[]) {
    const want = m.inputs[r];
    if (want !== undefined && roles[r] !== want) throw fail(label, `encoder.json names input "${want}" but the model has no such input`);
  }
  if (roles.inputIds === undefined) throw fail(label, 'model has no token-id input (input_ids)');

  const names = model.outputs.map((o) => o.name);
  const need = (n: string): string => {
    if (!names.includes(n)) throw fail(label, `model has no output "${n}" (outputs: ${names.join(', ')})`);
    return n;
  };
  let output: ModelSignature['output'];
  const pairIdx = names.find((n) => /(^|_)(idx|indices|ids)$/.test(n));
  const pairW = names.find((n) => /(^|_)(weights|values)$/.test(n));
  if (m.outputs.indices !== undefined && m.outputs.weights !== undefined) {
    output = { kind: 'pair', indices: need(m.outputs.indices), weights: need(m.outputs.weights) };
  } else if (m.outputs.output === undefined && m.kind !== 'dense' && pairIdx !== undefined && pairW !== undefined) {
    output = { kind: 'pair', indices: pairIdx, weights: pairW };
  } else {
    const name = m.outputs.output !== undefined ? need(m.outputs.output) : names[0];
    const info = model.outputs.find((o) => o.name === name);
    const rank = info?.rank ?? -1;
    if (rank !== -1 && rank !== 2 && rank !== 3) {
      const what = m.kind === 'dense' ? 'hidden size' : 'vocab';
      throw fail(label, `output "${name}" has rank ${rank}, expected 2 ([batch, ${what}]) or 3 ([batch, seq, ${what}])`);
    }
    // rank -1 (undeclared) is settled by the warm-up run
    output = rank === 2 ? { kind: 'pooled', name } : { kind: 'sequence', name };
  }
  if (m.kind === 'echo' && output.kind !== 'sequence' && roles.poolingMask === undefined) {
    throw fail(label, 'an echo model with pooling in the graph needs a pooling_mask input');
  }
  return {
    inputIds: roles.inputIds,
    attentionMask: roles.attentionMask,
    tokenTypeIds: roles.tokenTypeIds,
    poolingMask: roles.poolingMask,
    output,
  };
}

/** Builds padded feeds for a batch of windows. */
function buildFeeds(
  windows: readonly TokenWindow[],
  batch: readonly number[],
  sig: ModelSignature,
  padId: number,
): { feeds: Record<string, IntFeed>; seqLen: number } {
  let seqLen = 1;
  for (const i of batch) if (windows[i].ids.length > seqLen) seqLen = windows[i].ids.length;
  const n = batch.length * seqLen;
  const ids = new Int32Array(n).fill(padId);
  const mask = new Int32Array(n);
  const pool = sig.poolingMask !== undefined ? new Int32Array(n) : undefined;
  for (let b = 0; b < batch.length; b++) {
    const w = windows[batch[b]];
    const row = b * seqLen;
    for (let i = 0; i < w.ids.length; i++) {
      ids[row + i] = w.ids[i];
      mask[row + i] = 1;
    }
    if (pool !== undefined) for (let i = w.poolStart; i < w.poolEnd; i++) pool[row + i] = 1;
  }
  const dims = [batch.length, seqLen];
  const feeds: Record<string, IntFeed> = { [sig.inputIds]: { data: ids, dims } };
  if (sig.attentionMask !== undefined) feeds[sig.attentionMask] = { data: mask, dims };
  if (sig.tokenTypeIds !== undefined) feeds[sig.tokenTypeIds] = { data: new Int32Array(n), dims };
  if (sig.poolingMask !== undefined && pool !== undefined) feeds[sig.poolingMask] = { data: pool, dims };
  return { feeds, seqLen };
}

function outputNames(sig: ModelSignature): string[] {
  return sig.output.kind === 'pair' ? [sig.output.indices, sig.output.weights] : [sig.output.name];
}

/** Packs sparse vectors CSR-style. */
export function packSparse(vectors: readonly SparseVector[]): PackedSparse {
  const offsets = new Uint32Array(vectors.length + 1);
  for (let i = 0; i < vectors.length; i++) offsets[i + 1] = offsets[i] + vectors[i].indices.length;
  const indices = new Uint32Array(offsets[vectors.length]);
  const values = new Float32Array(offsets[vectors.length]);
  for (let i = 0; i < vectors.length; i++) {
    indices.set(vectors[i].indices, offsets[i]);
    values.set(vectors[i].values, offsets[i]);
  }
  return { kind: 'sparse', offsets, indices, values };
}

/** Unpacks CSR-packed sparse vectors (views, no copies). */
export function unpackSparse(p: PackedSparse): SparseVector[] {
  const out: SparseVector[] = [];
  for (let i = 0; i + 1 < p.offsets.length; i++) {
    out.push({ indices: p.indices.subarray(p.offsets[i], p.offsets[i + 1]), values: p.values.subarray(p.offsets[i], p.offsets[i + 1]) });
  }
  return out;
}

/** Loads idf.json (`{"token": weight}`) into a weight per term id; unknown tokens are counted, not fatal. */
async function loadIdf(file: string, tok: TextTokenizer, dim: number, label: string): Promise<Float32Array> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw fail(label, `cannot read idf file (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw fail(label, 'idf file must be an object {"token": weight}');
  const w = new Float32Array(dim);
  let known = 0;
  for (const [token, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw fail(label, `weight of "${token}" must be a finite number >= 0`);
    const id = tok.tokenToId(token);
    if (id !== undefined && id < dim) {
      w[id] = value;
      known++;
    }
  }
  if (known === 0) throw fail(label, 'no token of the idf file is in the tokenizer vocabulary');
  return w;
}

/** Options for opening a pipeline. */
export interface OpenPipelineOptions {
  /** Directory holding the manifest's files. */
  dir: string;
  /** Encoder name, used in error messages. */
  name: string;
  manifest: EncoderManifest;
}

/**
 * Opens the tokenizer, the idf table or ONNX model, resolves the model signature and runs a one-row warm-up that
 * checks the output shape against `manifest.dim`. Throws INVALID_ARGUMENT naming the encoder and file.
 */
export async function openPipeline(opts: OpenPipelineOptions): Promise<EncodePipeline> {
  const m = opts.manifest;
  const enc = `encoder "${opts.name}"`;
  const tokLabel = `${enc}: ${m.files.tokenizer}`;
  const tok = await loadTokenizer(path.join(opts.dir, m.files.tokenizer), tokLabel);
  if (m.kind !== 'dense' && tok.vocabSize > m.dim) {
    throw fail(tokLabel, `vocabulary size ${tok.vocabSize} does not match dim ${m.dim} in encoder.json`);
  }
  const echo = echoPiecesOf(m, tok);
  const room = windowRoom(m, tok, echo);
  const sparsify: SparsifyOptions = {
    zeroIds: m.zeroSpecialTokens ? tok.specialIds : new Uint32Array(0),
    minWeight: 0,
    maxTerms: Infinity,
  };
  const docSparsify: SparsifyOptions = { ...sparsify, minWeight: m.minWeight, maxTerms: m.maxTerms ?? Infinity };

  if (m.kind === 'idf') {
    const idf = await loadIdf(path.join(opts.dir, m.files.idf as string), tok, m.dim, `${enc}: ${m.files.idf}`);
    return createIdfPipeline(m, tok, idf, echo, room, sparsify, docSparsify);
  }

  const modelFile = m.files.model as string;
  const label = `${enc}: ${modelFile}`;
  const model = await openOnnxModel(path.join(opts.dir, modelFile), m, label);
  try {
    const sig = resolveSignature(model, m, label);
    const p = new OnnxPipeline(m, tok, model, sig, echo, room, sparsify, docSparsify);
    await p.warmUp(label);
    return p;
  } catch (e) {
    await model.close();
    throw e;
  }
}

function createIdfPipeline(
  m: EncoderManifest,
  tok: TextTokenizer,
  idf: Float32Array,
  echo: EchoPieces,
  room: number,
  sparsify: SparsifyOptions,
  docSparsify: SparsifyOptions,
): EncodePipeline {
  return {
    manifest: m,
    tokenizer: tok,
    signature: undefined,
    async encode(texts, as) {
      const vectors: SparseVector[] = [];
      const row = new Float32Array(m.dim);
      for (let t = 0; t < texts.length; t++) {
        const windows: TokenWindow[] = [];
        pushWindows(tok.encodeContent(texts[t]), t, m, tok, echo, room, windows);
        const touched: number[] = [];
        for (const w of windows) {
          for (let i = w.poolStart; i < w.poolEnd; i++) {
            const id = w.ids[i];
            if (id < m.dim && row[id] === 0 && idf[id] > 0) {
              row[id] = idf[id];
              touched.push(id);
            }
          }
        }
        vectors.push(sparsifyRow(row, as === 'document' ? docSparsify : sparsify));
        for (const id of touched) row[id] = 0;
      }
      return packSparse(vectors);
    },
    async close() {},
  };
}

class OnnxPipeline implements EncodePipeline {
  private readonly scratch: Float32Array;

  constructor(
    readonly manifest: EncoderManifest,
    readonly tokenizer: TextTokenizer,
    private readonly model: OnnxModel,
    public signature: ModelSignature,
    private readonly echo: EchoPieces,
    private readonly room: number,
    private readonly sparsify: SparsifyOptions,
    private readonly docSparsify: SparsifyOptions,
  ) {
    this.scratch = new Float32Array(manifest.dim);
  }

  /** Runs one short window and checks the output's rank and last dimension; fixes an undeclared rank. */
  async warmUp(label: string): Promise<ModelSignature> {
    const windows: TokenWindow[] = [];
    pushWindows(this.tokenizer.encodeContent('a'), 0, this.manifest, this.tokenizer, this.echo, this.room, windows);
    const { feeds, seqLen } = buildFeeds(windows, [0], this.signature, this.tokenizer.padId);
    let out: Record<string, OutputTensor>;
    try {
      out = await this.model.run(feeds, outputNames(this.signature));
    } catch (e) {
      throw fail(label, `warm-up inference failed (${(e as Error).message})`);
    }
    const dim = this.manifest.dim;
    const what = this.manifest.kind === 'dense' ? 'hidden size' : 'vocabulary size';
    const o = this.signature.output;
    if (o.kind === 'pair') {
      const a = out[o.indices];
      const b = out[o.weights];
      if (a.dims.length !== 2 || b.dims.length !== 2 || a.dims[1] !== b.dims[1]) {
        throw fail(label, `pair outputs must both be [batch, k]; got [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
      }
      if (b.type !== 'float32') throw fail(label, `output "${o.weights}" must be float32, got ${b.type}`);
      return this.signature;
    }
    const t = out[o.name];
    if (t.type !== 'float32') throw fail(label, `output "${o.name}" must be float32, got ${t.type}`);
    const rank = t.dims.length;
    if (rank !== 2 && rank !== 3) {
      throw fail(label, `output "${o.name}" has rank ${rank}, expected 2 ([batch, ${what}]) or 3 ([batch, seq, ${what}])`);
    }
    if (rank === 3 && t.dims[1] !== seqLen) throw fail(label, `output "${o.name}" has ${t.dims[1]} positions for ${seqLen} input tokens`);
    const last = t.dims[rank - 1];
    if (last !== dim) throw fail(label, `output "${o.name}" has ${what} ${last} but encoder.json says dim ${dim}`);
    const output: ModelSignature['output'] = rank === 3 ? { kind: 'sequence', name: o.name } : { kind: 'pooled', name: o.name };
    this.signature = { ...this.signature, output };
    if (this.manifest.kind === 'echo' && rank === 2 && this.signature.poolingMask === undefined) {
      throw fail(label, 'an echo model with pooling in the graph needs a pooling_mask input');
    }
    return this.signature;
  }

  async encode(texts: readonly string[], as: EncodeKind): Promise<PackedResult> {
    const m = this.manifest;
    const windows: TokenWindow[] = [];
    const remaining = new Int32Array(texts.length);
    for (let t = 0; t < texts.length; t++) {
      const before = windows.length;
      pushWindows(this.tokenizer.encodeContent(texts[t]), t, m, this.tokenizer, this.echo, this.room, windows);
      remaining[t] = windows.length - before;
    }
    const dense = m.kind === 'dense';
    const accs: (Float32Array | undefined)[] = new Array(texts.length);
    const sparseOut: SparseVector[] = new Array(texts.length);
    const denseOut = dense ? new Float32Array(texts.length * m.dim) : undefined;
    const opts = as === 'document' ? this.docSparsify : this.sparsify;
    const pooling = poolingOf(m);

    // A [B,S,V] logits output costs 4·V bytes per token (122 KB for BERT's 30,522): cap the batch at ~256 MiB of logits.
    const maxTokens =
      !dense && this.signature.output.kind === 'sequence'
        ? Math.min(m.maxBatchTokens, Math.max(m.maxLength, Math.floor(LOGITS_BATCH_BYTES / (4 * m.dim))))
        : m.maxBatchTokens;
    for (const batch of planBatches(windows, maxTokens)) {
      const { feeds, seqLen } = buildFeeds(windows, batch, this.signature, this.tokenizer.padId);
      const out = await this.model.run(feeds, outputNames(this.signature));
      const o = this.signature.output;
      for (let b = 0; b < batch.length; b++) {
        const w = windows[batch[b]];
        if (denseOut !== undefined) {
          const row = denseOut.subarray(w.text * m.dim, (w.text + 1) * m.dim);
          if (o.kind === 'sequence') {
            const h = out[o.name].data as Float32Array;
            if (pooling === 'cls') clsPoolInto(h, b, seqLen, m.dim, row);
            else meanPoolInto(h, b, seqLen, m.dim, w.ids.length, row);
          } else if (o.kind === 'pooled') {
            row.set((out[o.name].data as Float32Array).subarray(b * m.dim, (b + 1) * m.dim));
          }
          if (m.normalize) l2NormalizeInPlace(row);
          continue;
        }
        let acc = accs[w.text];
        if (acc === undefined) acc = accs[w.text] = new Float32Array(m.dim);
        if (o.kind === 'sequence') {
          poolLogitsInto(out[o.name].data as Float32Array, b, seqLen, m.dim, w.poolStart, w.poolEnd, acc, this.scratch);
        } else if (o.kind === 'pooled') {
          maxRowInto(out[o.name].data as Float32Array, b, m.dim, acc);
        } else {
          const idx = out[o.indices];
          pairRowInto(idx.data as Float64Array, out[o.weights].data as Float32Array, b, idx.dims[1], acc);
        }
        if (--remaining[w.text] === 0) {
          sparseOut[w.text] = sparsifyRow(acc, opts);
          accs[w.text] = undefined;
        }
      }
    }
    if (denseOut !== undefined) return { kind: 'dense', dim: m.dim, data: denseOut };
    return packSparse(sparseOut);
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
