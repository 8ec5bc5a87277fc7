/**
 * `encoders/NAME/encoder.json`: the zod-validated manifest of an ONNX (or inference-free) encoder directory.
 * It names the files (with their sha256), the kind (`splade` | `echo` | `idf` | `dense`), the sequence budget
 * (`maxLength`, `chunking`), the pooling, optional input/output name overrides, special-token handling, document
 * pruning, the ONNX Runtime session options and, for pulled directories, their Hub `source`. Called by the registry (src/encoders/registry.ts) at collection
 * creation and by the encode worker; everything here is pure except `loadManifest`, which reads one file.
 *
 * Invariants after parsing: `files.model` is present for every kind except `idf`; `files.idf` is present for
 * `idf`; `pooling` is `max` for `splade`/`echo` and `mean`/`cls` for `dense`; file names stay inside the directory.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SpladexError } from '../core/errors.js';

/** Encoder names handled outside this module; a directory with one of these names is never opened. */
export const RESERVED_ENCODER_NAMES: readonly string[] = ['lexical', 'none', 'lsa'];

/** Encoder directory names: one path segment, no dots at the start (no `..`, no hidden directories). */
export const ENCODER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const FileNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((f) => !path.isAbsolute(f) && !f.split(/[\\/]/).includes('..'), 'must be a relative path inside the encoder directory');

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

export const EncoderManifestSchema = z
  .object({
    kind: z.enum(['splade', 'echo', 'idf', 'dense']),
    /** Output dimension: vocabulary size for sparse kinds, embedding size for `dense`. */
    dim: z
      .number()
      .int()
      .min(1)
      .max(1 << 24),
    /** Tokens per model input, special tokens included. */
    maxLength: z.number().int().min(4).max(32_768).default(256),
    pooling: z.enum(['max', 'mean', 'cls']).optional(),
    /** Dense only: L2-normalise the pooled vector. */
    normalize: z.boolean().default(false),
    files: z.object({ model: FileNameSchema.optional(), tokenizer: FileNameSchema, idf: FileNameSchema.optional() }).strict(),
    /** sha256 per file name (as written in `files`); every listed file is verified at open. */
    sha256: z.record(z.string(), Sha256Schema).default({}),
    /** Model input names; absent ones are found by introspection (input_ids/attention_mask/token_type_ids, …). */
    inputs: z
      .object({
        inputIds: z.string().min(1).optional(),
        attentionMask: z.string().min(1).optional(),
        tokenTypeIds: z.string().min(1).optional(),
        poolingMask: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Model output names: `output` (logits / pooled / hidden states), or the pair `indices` + `weights`. */
    outputs: z
      .object({
        output: z.string().min(1).optional(),
        indices: z.string().min(1).optional(),
        weights: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Zero the columns of the tokenizer's special tokens ([CLS], [SEP], [PAD], …) in sparse outputs. */
    zeroSpecialTokens: z.boolean().default(true),
    /** Document vectors keep weights >= minWeight … */
    minWeight: z.number().min(0).default(0),
    /** … and at most maxTerms terms (absent = all). Queries are never pruned here. */
    maxTerms: z.number().int().min(1).optional(),
    /** Encode long inputs as consecutive windows of maxLength tokens and max-pool them (sparse kinds). */
    chunking: z.boolean().default(false),
    /** Upper bound on windows per text when chunking (the rest of the text is ignored). */
    maxChunks: z.number().int().min(1).max(4096).default(64),
    /** Name of a sibling encoder directory (e.g. an `idf` one) used for `encode(…, 'query')`. */
    queryEncoder: z.string().regex(ENCODER_NAME_RE).optional(),
    /** `echo` prompt: `[bos] prefix text separator text`; pooling covers the second copy only. */
    echo: z
      .object({ prefix: z.string().default(''), separator: z.string().default('') })
      .strict()
      .optional(),
    /** Where `spladex models pull` got the directory from (absent for hand-made or exported directories). */
    source: z
      .object({
        repo: z.string().min(1).max(256),
        /** The revision asked for (branch, tag or commit) and the commit it resolved to. */
        revision: z.string().min(1).max(256),
        sha: z.string().regex(/^[0-9a-f]{40}$/),
        /** The row of src/encoders/hub/hub-layouts.ts that recognised the repo. */
        layout: z.string().min(1).max(64),
      })
      .strict()
      .optional(),
    executionProviders: z.array(z.string().min(1)).min(1).default(['cpu']),
    intraOpThreads: z.number().int().min(1).max(256).default(1),
    interOpThreads: z.number().int().min(1).max(256).default(1),
    /** Padded tokens (batch × longest) per inference call; windows are grouped by length up to this. */
    maxBatchTokens: z.number().int().min(1).default(8192),
    /** Texts per worker task: a large request is split into tasks so several workers share it. */
    taskTexts: z.number().int().min(1).max(4096).default(16),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.kind !== 'idf' && m.files.model === undefined) {
      ctx.addIssue({ code: 'custom', path: ['files', 'model'], message: `required for kind "${m.kind}"` });
    }
    if (m.kind === 'idf' && m.files.idf === undefined) {
      ctx.addIssue({ code: 'custom', path: ['files', 'idf'], message: 'required for kind "idf"' });
    }
    if (m.pooling !== undefined) {
      const ok = m.kind === 'dense' ? m.pooling !== 'max' : m.pooling === 'max';
      if (!ok) ctx.addIssue({ code: 'custom', path: ['pooling'], message: `"${m.pooling}" is not valid for kind "${m.kind}"` });
    }
    if ((m.outputs.indices === undefined) !== (m.outputs.weights === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['outputs'], message: 'indices and weights must be given together' });
    }
  });

/** A parsed manifest with defaults filled in. */
export type EncoderManifest = z.infer<typeof EncoderManifestSchema>;

/** Pooling after defaults: `max` for sparse kinds, `mean` for dense unless the manifest says `cls`. */
export function poolingOf(m: EncoderManifest): 'max' | 'mean' | 'cls' {
  if (m.pooling !== undefined) return m.pooling;
  return m.kind === 'dense' ? 'mean' : 'max';
}

/**
 * Validates a manifest object; throws INVALID_ARGUMENT naming the encoder, `encoder.json` and the field.
 */
export function parseManifest(raw: unknown, encoderName: string): EncoderManifest {
  const parsed = EncoderManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new SpladexError('INVALID_ARGUMENT', `encoder "${encoderName}": encoder.json: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Reads and validates `DIR/encoder.json`. Throws INVALID_ARGUMENT when it is missing, not JSON or invalid.
 */
export async function loadManifest(dir: string, encoderName: string): Promise<EncoderManifest> {
  const file = path.join(dir, 'encoder.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `encoder "${encoderName}": cannot read encoder.json (${(e as Error).message})`, {
      cause: e,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `encoder "${encoderName}": encoder.json is not valid JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  return parseManifest(raw, encoderName);
}
