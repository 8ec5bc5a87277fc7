/**
 * The one table of Hub repo layouts `spladex models pull` recognises (encoders/README.md shows the same table).
 * Each row says how it is recognised from the repo's file names and small config files, which encoder
 * directories it becomes (files to fetch or derive, and the encoder.json fields), and, for a repo without an ONNX
 * file, the exact `scripts/export-onnx.py` command to run instead. Rows are tried in order; the first that matches
 * decides. Pure: the caller (./pull.ts) lists the repo, fetches the config files `isConfigFile` selects, and hands
 * them in as a `RepoView`.
 *
 * Special tokens: naver/splade and prithivida/Splade_PP zero none (their reference code max-pools every position),
 * OpenSearch zeroes all of them, Anserini's graphs drop [PAD]/[CLS]/[SEP] (close to zeroing all specials).
 */
import path from 'node:path';
import { SpladexError } from '../../core/errors.js';

/** A repo at one commit, as recognition sees it. */
export interface RepoView {
  repo: string;
  paths: readonly string[];
  /** A parsed small config file (see isConfigFile); undefined when absent or not a JSON object. */
  json(file: string): Record<string, unknown> | undefined;
}

/** How one file of an encoder directory is produced. */
export type PlannedFile =
  | { kind: 'download'; from: string; to: string }
  /** A BERT WordPiece tokenizer.json built from a vocab.txt (Anserini exports ship no tokenizer.json). */
  | { kind: 'tokenizer-from-vocab'; from: string; to: string; lowercase: boolean }
  /** idf.json from OpenSearch's query weights: `token<TAB>weight` lines, or an idf.json of `{"token": weight}`. */
  | { kind: 'idf-from-weights'; from: string; to: string };

export interface PlannedEncoder {
  /** '' for the encoder named on the command line, '-query' for the query side of an inference-free model. */
  suffix: '' | '-query';
  files: PlannedFile[];
  /** encoder.json without `sha256` and `source` (pull adds those); `queryEncoder` is a suffix, resolved by pull. */
  manifest: Record<string, unknown>;
}

export interface LayoutPlan {
  layout: HubLayout;
  encoders: PlannedEncoder[];
  /** Lines worth telling the user (what was read from which config). */
  notes: string[];
}

export interface PlanContext {
  /** Encoder name and output directory, for export commands. */
  name: string;
  outDir: string;
}

export interface HubLayout {
  id: string;
  /** How the row is recognised (README table column). */
  recognisedBy: string;
  /** Example repos (README table column). */
  examples: string;
  matches(v: RepoView): boolean;
  /** Throws INVALID_ARGUMENT with the export command when the repo has no ONNX file. */
  plan(v: RepoView, ctx: PlanContext): LayoutPlan;
}

/** Small files fetched before recognition: manifests and configs at the top level or one module folder deep. */
export function isConfigFile(p: string): boolean {
  return /^([^/]+\/)?([^/]*config[^/]*\.json|modules\.json|encoder\.json)$/.test(p) && !p.startsWith('onnx/');
}

const has = (v: RepoView, p: string): boolean => v.paths.includes(p);

function configOf(v: RepoView): Record<string, unknown> {
  return v.json('config.json') ?? {};
}

function moduleTypes(v: RepoView): { type: string; path: string }[] {
  const raw = v.json('modules.json');
  // modules.json is a JSON array; json() returns objects only, so it comes back under the key "modules".
  const list = (raw?.modules ?? []) as { type?: unknown; path?: unknown }[];
  return list.filter((m) => typeof m.type === 'string').map((m) => ({ type: m.type as string, path: String(m.path ?? '') }));
}

function isMaskedLm(v: RepoView): boolean {
  const arch = configOf(v).architectures;
  if (Array.isArray(arch) && arch.some((a) => typeof a === 'string' && a.endsWith('ForMaskedLM'))) return true;
  return moduleTypes(v).some((m) => m.type.endsWith('MLMTransformer') || m.type.endsWith('SpladePooling'));
}

/** The ONNX model to fetch: onnx/model.onnx, model.onnx, else the first top-level *.onnx; plus external data files. */
function findOnnx(v: RepoView): { model: string; data: string[] } | undefined {
  const model =
    ['onnx/model.onnx', 'model.onnx'].find((p) => has(v, p)) ?? v.paths.filter((p) => !p.includes('/') && p.endsWith('.onnx')).sort()[0];
  if (model === undefined) return undefined;
  const data = v.paths.filter((p) => p === `${model}_data` || p === `${model}.data`);
  return { model, data };
}

function onnxFiles(v: RepoView, exportCommand: () => string): PlannedFile[] {
  const onnx = findOnnx(v);
  if (onnx === undefined) {
    throw new SpladexError(
      'INVALID_ARGUMENT',
      `${v.repo} has no ONNX file (model.onnx, onnx/model.onnx); export it instead: ${exportCommand()}`,
    );
  }
  return [onnx.model, ...onnx.data].map((p) => ({ kind: 'download', from: p, to: path.posix.basename(p) }));
}

function tokenizerFile(v: RepoView, dir = ''): PlannedFile {
  const candidates = dir === '' ? ['tokenizer.json', 'onnx/tokenizer.json'] : [`${dir}/tokenizer.json`, 'tokenizer.json'];
  const found = candidates.find((p) => has(v, p));
  if (found !== undefined) return { kind: 'download', from: found, to: 'tokenizer.json' };
  const vocab = v.paths.find((p) => !p.includes('/') && /(^|[-_])vocab\.txt$/.test(p));
  if (vocab === undefined) throw new SpladexError('INVALID_ARGUMENT', `${v.repo} has neither tokenizer.json nor vocab.txt`);
  const lower = v.json('tokenizer_config.json')?.do_lower_case;
  return { kind: 'tokenizer-from-vocab', from: vocab, to: 'tokenizer.json', lowercase: lower !== false };
}

function vocabSize(v: RepoView): number | undefined {
  const n = configOf(v).vocab_size;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function exportCmd(v: RepoView, ctx: PlanContext, args: string, out = ctx.outDir): string {
  return `python scripts/export-onnx.py --model ${v.repo} ${args} --out ${out}`;
}

/** A sparse MLM encoder over the repo's ONNX file. */
function mlmPlan(layout: HubLayout, v: RepoView, ctx: PlanContext, zeroSpecialTokens: boolean, exportArgs: string): LayoutPlan {
  const files = [...onnxFiles(v, () => exportCmd(v, ctx, exportArgs)), tokenizerFile(v)];
  const dim = vocabSize(v);
  const notes = [`special tokens: ${zeroSpecialTokens ? 'zeroed' : 'kept (zeroSpecialTokens: false)'}`];
  const activation = v.paths
    .filter((p) => /^[^/]*SpladePooling\/config\.json$/.test(p))
    .map((p) => v.json(p)?.activation_function)
    .find((a) => a !== undefined);
  if (activation !== undefined && activation !== 'relu') {
    notes.push(
      `warning: SpladePooling activation is "${String(activation)}"; logits are pooled as log1p(relu), so use a graph exported with its pooling`,
    );
  }
  return {
    layout,
    notes,
    encoders: [{ suffix: '', files, manifest: { kind: 'splade', ...(dim === undefined ? {} : { dim }), zeroSpecialTokens } }],
  };
}

function queryWeightsFile(v: RepoView): string | undefined {
  const txt = v.paths.find((p) => /^(query_[^/]+\/)?query_token_weights\.txt$/.test(p));
  return txt ?? v.paths.find((p) => /^(query_[^/]+\/)?idf\.json$/.test(p));
}

/** Pooling of a sentence-transformers Pooling module config: the old boolean flags or `pooling_mode`. */
function stPooling(cfg: Record<string, unknown>): string {
  if (typeof cfg.pooling_mode === 'string') return cfg.pooling_mode;
  if (cfg.pooling_mode_cls_token === true) return 'cls';
  if (cfg.pooling_mode_mean_tokens === true) return 'mean';
  for (const k of Object.keys(cfg)) if (k.startsWith('pooling_mode_') && cfg[k] === true) return k.slice('pooling_mode_'.length);
  return 'mean';
}

const SPLADEX_EXPORT: HubLayout = {
  id: 'spladex-export',
  recognisedBy: '`encoder.json` at the top level (a directory written by scripts/export-onnx.py and pushed to the Hub)',
  examples: 'our Mistral-style `echo` export, any exported kind',
  matches: (v) => has(v, 'encoder.json'),
  plan(v) {
    const m = v.json('encoder.json') ?? {};
    const files = (m.files ?? {}) as Record<string, unknown>;
    const names = Object.values(files).filter((f): f is string => typeof f === 'string');
    for (const f of names) {
      if (!has(v, f)) throw new SpladexError('INVALID_ARGUMENT', `${v.repo}: encoder.json names ${f}, which the repo does not have`);
    }
    const model = typeof files.model === 'string' ? files.model : undefined;
    const data = model === undefined ? [] : v.paths.filter((p) => p === `${model}_data` || p === `${model}.data`);
    const { sha256: _sha, source: _src, ...manifest } = m;
    return {
      layout: SPLADEX_EXPORT,
      notes: [`kind ${String(m.kind)} as its encoder.json says`],
      encoders: [{ suffix: '', files: [...names, ...data].map((f) => ({ kind: 'download', from: f, to: f })), manifest }],
    };
  },
};

const OPENSEARCH_INFERENCE_FREE: HubLayout = {
  id: 'opensearch-inference-free',
  recognisedBy:
    'an MLM (config.json `*ForMaskedLM` or a sentence-transformers `MLMTransformer`) plus query weights: `query_token_weights.txt` (top level or a `query_*` module folder) or `idf.json`',
  examples:
    'opensearch-project/opensearch-neural-sparse-encoding-doc-v2-distill, -doc-v3-distill, -doc-v3-gte (after an ONNX export of the document model)',
  matches: (v) => isMaskedLm(v) && queryWeightsFile(v) !== undefined,
  plan(v, ctx) {
    const weights = queryWeightsFile(v) as string;
    const queryOut = `${ctx.outDir}-query`;
    const exportHint = (): string =>
      `${exportCmd(v, ctx, '--kind splade')} and ${exportCmd(v, ctx, '--kind idf', queryOut)}, then create collections with {"encoder": "${ctx.name}", "queryEncoder": "${ctx.name}-query"}`;
    // Checked before the document plan, whose own message would name only the document export.
    if (findOnnx(v) === undefined) onnxFiles(v, exportHint);
    const doc = mlmPlan(OPENSEARCH_INFERENCE_FREE, v, ctx, true, '--kind splade');
    // The query module's own tokenizer when there is one (sentence-transformers `query_0_*` folders), else the repo's.
    const moduleTok = v.paths.find((p) => /^query_[^/]+\/tokenizer\.json$/.test(p));
    const moduleDir = weights.includes('/') ? weights.slice(0, weights.indexOf('/')) : (moduleTok?.slice(0, moduleTok.indexOf('/')) ?? '');
    const query: PlannedEncoder = {
      suffix: '-query',
      files: [tokenizerFile(v, moduleDir), { kind: 'idf-from-weights', from: weights, to: 'idf.json' }],
      manifest: { kind: 'idf', ...(vocabSize(v) === undefined ? {} : { dim: vocabSize(v) }), zeroSpecialTokens: true },
    };
    doc.encoders[0].manifest.queryEncoder = '-query';
    doc.notes.push(`query side: the inference-free "idf" encoder "${ctx.name}-query" built from ${weights}`);
    return { ...doc, encoders: [doc.encoders[0], query] };
  },
};

const ST_DENSE: HubLayout = {
  id: 'sentence-transformers-dense',
  recognisedBy:
    '`modules.json` with a `sentence_transformers.models.Pooling` module; pooling from its `config.json` (`1_Pooling/`), L2 normalisation when a `Normalize` module follows',
  examples: 'sentence-transformers/all-MiniLM-L6-v2, BAAI/bge-small-en-v1.5 (they ship onnx/model.onnx)',
  matches: (v) => moduleTypes(v).some((m) => m.type.endsWith('models.Pooling')),
  plan(v, ctx) {
    const mods = moduleTypes(v);
    const poolDir = mods.find((m) => m.type.endsWith('models.Pooling'))?.path ?? '1_Pooling';
    const cfg = v.json(`${poolDir}/config.json`) ?? {};
    const pooling = stPooling(cfg);
    const normalize = mods.some((m) => m.type.endsWith('models.Normalize'));
    const exportArgs = `--kind dense --pooling ${pooling}${normalize ? ' --normalize' : ''}`;
    if (pooling !== 'mean' && pooling !== 'cls') {
      throw new SpladexError('INVALID_ARGUMENT', `${v.repo}: pooling "${pooling}" (${poolDir}/config.json) is not supported (mean or cls)`);
    }
    const extra = mods.find((m) => /models\.(Dense|LayerNorm|WeightedLayerPooling)$/.test(m.type));
    if (extra !== undefined) {
      throw new SpladexError(
        'INVALID_ARGUMENT',
        `${v.repo}: module ${extra.type} (${extra.path}) is not part of the ONNX graph; not supported`,
      );
    }
    const files = [...onnxFiles(v, () => exportCmd(v, ctx, exportArgs)), tokenizerFile(v)];
    const dimRaw = cfg.word_embedding_dimension ?? configOf(v).hidden_size;
    const maxLen = v.json('sentence_bert_config.json')?.max_seq_length;
    const manifest: Record<string, unknown> = { kind: 'dense', pooling, normalize };
    if (typeof dimRaw === 'number') manifest.dim = dimRaw;
    if (typeof maxLen === 'number' && maxLen >= 4) manifest.maxLength = maxLen;
    return {
      layout: ST_DENSE,
      notes: [`pooling ${pooling} (${poolDir}/config.json), ${normalize ? 'L2-normalised (Normalize module)' : 'not normalised'}`],
      encoders: [{ suffix: '', files, manifest }],
    };
  },
};

const ANSERINI_ONNX: HubLayout = {
  id: 'anserini-onnx',
  recognisedBy:
    'a top-level `*.onnx` and a `*vocab.txt` but no tokenizer.json (the graph outputs pooled weights or `output_idx`/`output_weights`)',
  examples: 'castorini/splade-v3-onnx (splade-v3-optimized.onnx + splade-v3-vocab.txt)',
  matches: (v) =>
    !has(v, 'tokenizer.json') &&
    v.paths.some((p) => !p.includes('/') && p.endsWith('.onnx')) &&
    v.paths.some((p) => !p.includes('/') && /(^|[-_])vocab\.txt$/.test(p)),
  plan(v, ctx) {
    const files = [...onnxFiles(v, () => exportCmd(v, ctx, '--kind splade')), tokenizerFile(v)];
    return {
      layout: ANSERINI_ONNX,
      notes: ['tokenizer.json built from the vocabulary (BERT WordPiece, lowercased); special tokens zeroed'],
      encoders: [{ suffix: '', files, manifest: { kind: 'splade', zeroSpecialTokens: true } }],
    };
  },
};

const OPENSEARCH_BI_ENCODER: HubLayout = {
  id: 'opensearch-bi-encoder',
  recognisedBy: 'an MLM in a repo of `opensearch-project/` (the same model encodes queries and documents)',
  examples: 'opensearch-project/opensearch-neural-sparse-encoding-v1, -v2-distill',
  matches: (v) => isMaskedLm(v) && v.repo.startsWith('opensearch-project/'),
  plan: (v, ctx) => mlmPlan(OPENSEARCH_BI_ENCODER, v, ctx, true, '--kind splade'),
};

const SPLADE_MLM: HubLayout = {
  id: 'splade-mlm',
  recognisedBy: 'an MLM (config.json `*ForMaskedLM`, or `MLMTransformer` + `SpladePooling` modules) with an ONNX export of its logits',
  examples: 'prithivida/Splade_PP_en_v1 (model.onnx), naver/splade-v3 and naver/splade-cocondenser-* once exported',
  matches: isMaskedLm,
  plan: (v, ctx) => mlmPlan(SPLADE_MLM, v, ctx, false, '--kind splade --keep-special-tokens'),
};

/** The layouts in the order they are tried. */
export const HUB_LAYOUTS: readonly HubLayout[] = [
  SPLADEX_EXPORT,
  OPENSEARCH_INFERENCE_FREE,
  ST_DENSE,
  ANSERINI_ONNX,
  OPENSEARCH_BI_ENCODER,
  SPLADE_MLM,
];

/** The plan of the first matching layout; INVALID_ARGUMENT naming the repo when none matches. */
export function recogniseLayout(v: RepoView, ctx: PlanContext): LayoutPlan {
  const layout = HUB_LAYOUTS.find((l) => l.matches(v));
  if (layout === undefined) {
    throw new SpladexError(
      'INVALID_ARGUMENT',
      `${v.repo}: layout not recognised (no encoder.json, no masked-LM config.json, no sentence-transformers modules.json); export it with scripts/export-onnx.py`,
    );
  }
  return layout.plan(v, ctx);
}
