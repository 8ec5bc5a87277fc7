/**
 * Layout recognition on the file lists of real Hub repos (as listed on their Hub pages and by the tools that
 * download them), and the README table kept equal to HUB_LAYOUTS. The end-to-end pulls are in
 * test/models-pull.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HUB_LAYOUTS, recogniseLayout, type RepoView } from './hub-layouts.js';

const README = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'encoders', 'README.md');
const ctx = (name: string) => ({ name, outDir: `encoders/${name}` });

function view(repo: string, paths: string[], configs: Record<string, unknown> = {}): RepoView {
  return {
    repo,
    paths,
    json: (p) => {
      const c = configs[p];
      if (Array.isArray(c)) return { modules: c };
      return c as Record<string, unknown> | undefined;
    },
  };
}

const MLM = { architectures: ['DistilBertForMaskedLM'], vocab_size: 30522 };

describe('hub layouts', () => {
  it('encoders/README.md lists the layouts of HUB_LAYOUTS, in order', () => {
    const text = readFileSync(README, 'utf8');
    const table = text.slice(text.indexOf('<!-- hub-layouts:'));
    const ids = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]).slice(0, HUB_LAYOUTS.length + 1);
    expect(ids.slice(0, HUB_LAYOUTS.length)).toEqual(HUB_LAYOUTS.map((l) => l.id));
  });

  it('opensearch doc-v3-distill (no ONNX): inference-free, the error gives both export commands', () => {
    const files = [
      'config.json',
      'config_sentence_transformers.json',
      'document_1_SpladePooling/config.json',
      'model.safetensors',
      'modules.json',
      'query_0_SparseStaticEmbedding/config.json',
      'query_0_SparseStaticEmbedding/model.safetensors',
      'query_0_SparseStaticEmbedding/tokenizer.json',
      'query_token_weights.txt',
      'router_config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ];
    const v = view('opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill', files, { 'config.json': MLM });
    expect(() => recogniseLayout(v, ctx('v3'))).toThrow(
      'has no ONNX file (model.onnx, onnx/model.onnx); export it instead: python scripts/export-onnx.py --model opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill --kind splade --out encoders/v3 and python scripts/export-onnx.py --model opensearch-project/opensearch-neural-sparse-encoding-doc-v3-distill --kind idf --out encoders/v3-query, then create collections with {"encoder": "v3", "queryEncoder": "v3-query"}',
    );
    // With an ONNX export added: doc encoder + idf query encoder from the top-level weights, module tokenizer.
    const plan = recogniseLayout(view(v.repo, [...files, 'onnx/model.onnx'], { 'config.json': MLM }), ctx('v3'));
    expect(plan.layout.id).toBe('opensearch-inference-free');
    expect(plan.encoders.map((e) => e.manifest)).toEqual([
      { kind: 'splade', dim: 30522, zeroSpecialTokens: true, queryEncoder: '-query' },
      { kind: 'idf', dim: 30522, zeroSpecialTokens: true },
    ]);
    expect(plan.encoders[1].files).toEqual([
      { kind: 'download', from: 'query_0_SparseStaticEmbedding/tokenizer.json', to: 'tokenizer.json' },
      { kind: 'idf-from-weights', from: 'query_token_weights.txt', to: 'idf.json' },
    ]);
  });

  it('doc-v2-distill of 2024 (idf.json, no modules): inference-free too', () => {
    const files = [
      'config.json',
      'idf.json',
      'pytorch_model.bin',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
      'model.onnx',
    ];
    const plan = recogniseLayout(
      view('opensearch-project/opensearch-neural-sparse-encoding-doc-v2-distill', files, { 'config.json': MLM }),
      ctx('d'),
    );
    expect(plan.layout.id).toBe('opensearch-inference-free');
    expect(plan.encoders[1].files[1]).toEqual({ kind: 'idf-from-weights', from: 'idf.json', to: 'idf.json' });
  });

  it('prithivida/Splade_PP_en_v1: SPLADE MLM over model.onnx, special tokens kept', () => {
    const files = [
      'config.json',
      'model.onnx',
      'pytorch_model.bin',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ];
    const plan = recogniseLayout(
      view('prithivida/Splade_PP_en_v1', files, { 'config.json': { architectures: ['BertForMaskedLM'], vocab_size: 30522 } }),
      ctx('pp'),
    );
    expect(plan.layout.id).toBe('splade-mlm');
    expect(plan.encoders[0].manifest).toEqual({ kind: 'splade', dim: 30522, zeroSpecialTokens: false });
    expect(plan.encoders[0].files[0]).toEqual({ kind: 'download', from: 'model.onnx', to: 'model.onnx' });
  });

  it('castorini/splade-v3-onnx: Anserini graph, tokenizer from the vocabulary', () => {
    const plan = recogniseLayout(
      view('castorini/splade-v3-onnx', ['.gitattributes', 'README.md', 'splade-v3-optimized.onnx', 'splade-v3-vocab.txt']),
      ctx('v3'),
    );
    expect(plan.layout.id).toBe('anserini-onnx');
    expect(plan.encoders[0].files).toEqual([
      { kind: 'download', from: 'splade-v3-optimized.onnx', to: 'splade-v3-optimized.onnx' },
      { kind: 'tokenizer-from-vocab', from: 'splade-v3-vocab.txt', to: 'tokenizer.json', lowercase: true },
    ]);
  });

  it('sentence-transformers: cls pooling without Normalize; an unsupported pooling and a Dense module are refused', () => {
    const mods = (extra: object[] = []) => [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      ...extra,
    ];
    const files = ['modules.json', '1_Pooling/config.json', 'onnx/model.onnx', 'tokenizer.json', 'config.json'];
    const cls = recogniseLayout(
      view('BAAI/x', files, {
        'modules.json': mods(),
        '1_Pooling/config.json': { word_embedding_dimension: 384, pooling_mode_cls_token: true },
      }),
      ctx('x'),
    );
    expect(cls.encoders[0].manifest).toEqual({ kind: 'dense', pooling: 'cls', normalize: false, dim: 384 });
    expect(() =>
      recogniseLayout(view('a/b', files, { 'modules.json': mods(), '1_Pooling/config.json': { pooling_mode_max_tokens: true } }), ctx('b')),
    ).toThrow('pooling "max_tokens" (1_Pooling/config.json) is not supported');
    expect(() =>
      recogniseLayout(
        view('a/b', files, { 'modules.json': mods([{ idx: 2, path: '2_Dense', type: 'sentence_transformers.models.Dense' }]) }),
        ctx('b'),
      ),
    ).toThrow('module sentence_transformers.models.Dense (2_Dense) is not part of the ONNX graph');
    expect(() =>
      recogniseLayout(
        view(
          'a/b',
          files.filter((f) => !f.endsWith('.onnx')),
          { 'modules.json': mods() },
        ),
        ctx('b'),
      ),
    ).toThrow('export it instead: python scripts/export-onnx.py --model a/b --kind dense --pooling mean --out encoders/b');
  });

  it('an unknown layout names the repo', () => {
    expect(() =>
      recogniseLayout(view('a/gpt', ['config.json', 'model.onnx'], { 'config.json': { architectures: ['GPT2LMHeadModel'] } }), ctx('g')),
    ).toThrow('a/gpt: layout not recognised');
  });
});
