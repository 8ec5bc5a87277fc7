/**
 * `spladex models pull | list | rm` against a Hub emulator on 127.0.0.1 (test/support/hub-emulator.ts: the two API
 * routes, LFS files behind a 302 to another port with X-Linked-Etag, Range, 401/403 for a gated repo). The Hub
 * repos are built at run time from the fixture models (test/fixtures/models) with the file names real repos use.
 * The main path runs the real CLI as a child process (`node --import tsx src/cli/main.ts models pull …`); the
 * failure cases and the other layouts run the same CLI in process (runCli), which skips only main.ts. Pulled
 * directories are then used: a collection indexes and searches with them (app.inject), and their vectors are
 * compared with the PyTorch references of the fixtures; the pulled dense encoder is the dense side of a hybrid
 * search next to the pulled SPLADE encoder.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured, type CliResult } from './support/cli.js';
import type { DenseEncoder, SparseEncoder } from '../src/encoders/encoder.js';
import { openEncoder } from '../src/encoders/registry.js';
import { openSpladexService, type SpladexService } from '../src/search/spladex-service.js';
import { buildApp } from '../src/server/app.js';
import { compareSparse, cosine, FIXTURES, loadReferences, type RefSparse } from './encoders-helpers.js';
import { type EmulatedRepo, repoFromDir, startHubEmulator, type HubEmulator } from './support/hub-emulator.js';

const logger = pino({ level: 'silent' });
const refs = loadReferences();

type Result = CliResult;

let hub: HubEmulator;
let root: string;
let encodersDir: string;

const baseEnv = (): Record<string, string> => ({ HF_ENDPOINT: hub.url, SPLADEX_ENCODERS_DIR: encodersDir });

function cliProcess(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', ...baseEnv(), ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return runCliCaptured(args, { ...baseEnv(), ...env });
}

const exists = async (p: string) => (await stat(p).catch(() => undefined)) !== undefined;
const entries = async () => (await readdir(encodersDir).catch(() => [])).sort();
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const fixture = (name: string, rename: Record<string, string | null>) => repoFromDir(path.join(FIXTURES, name), rename);

/** vocab.txt (one token per line, id order) of a fixture tokenizer.json: what an Anserini repo ships. */
async function vocabTxt(fixtureName: string): Promise<Buffer> {
  const tok = JSON.parse(await readFile(path.join(FIXTURES, fixtureName, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
  };
  const byId: string[] = [];
  for (const [t, id] of Object.entries(tok.model.vocab)) byId[id] = t;
  return Buffer.from(`${byId.join('\n')}\n`);
}

const MLM_CONFIG = { architectures: ['BertForMaskedLM'], model_type: 'bert', vocab_size: 337, hidden_size: 32 };
const README = Buffer.from('---\nlicense: apache-2.0\n---\n# tiny\n');

beforeAll(async () => {
  hub = await startHubEmulator();
  root = await mkdtemp(path.join(tmpdir(), 'spladex-pull-'));
  encodersDir = path.join(root, 'encoders');

  // SPLADE MLM with an ONNX export of its logits (the prithivida/Splade_PP_en_v1 shape, under onnx/).
  const splade = await fixture('bert-splade-logits', { 'encoder.json': null, 'model.onnx': 'onnx/model.onnx' });
  splade
    .set('config.json', json(MLM_CONFIG))
    .set('README.md', README)
    .set('special_tokens_map.json', json({ cls_token: '[CLS]' }));
  hub.repos.set('org/tiny-splade', { files: splade });
  hub.repos.set('org/gated-splade', { files: new Map(splade), gatedToken: 'hf_secret' });

  // OpenSearch inference-free: doc model (exported to ONNX) + query weights, sentence-transformers module folders.
  const idf = JSON.parse(await readFile(path.join(FIXTURES, 'bert-idf', 'idf.json'), 'utf8')) as Record<string, number>;
  const doc = await fixture('bert-splade-pooled', { 'encoder.json': null, 'model.onnx': 'onnx/model.onnx' });
  doc
    .set('config.json', json(MLM_CONFIG))
    .set('modules.json', json([{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Router' }]))
    .set('document_1_SpladePooling/config.json', json({ pooling_strategy: 'max', activation_function: 'relu' }))
    .set('query_0_SparseStaticEmbedding/tokenizer.json', doc.get('tokenizer.json') as Buffer)
    .set(
      'query_token_weights.txt',
      Buffer.from(
        `${Object.entries(idf)
          .map(([t, w]) => `${t}\t${w}`)
          .join('\n')}\n`,
      ),
    );
  hub.repos.set('org/tiny-doc-v3', { files: doc });

  // Pooled graph, Anserini style (castorini/splade-v3-onnx): one .onnx and a vocab.txt, no tokenizer.json.
  const pooled = await fixture('bert-splade-pooled', {
    'encoder.json': null,
    'tokenizer.json': null,
    'model.onnx': 'splade-v3-optimized.onnx',
  });
  pooled.set('splade-v3-vocab.txt', await vocabTxt('bert-splade-pooled')).set('README.md', README);
  hub.repos.set('castorini/tiny-splade-onnx', { files: pooled });

  // sentence-transformers dense: onnx/model.onnx, modules.json with Pooling + Normalize, 1_Pooling/config.json.
  const dense = await fixture('bert-dense-mean', { 'encoder.json': null, 'model.onnx': 'onnx/model.onnx' });
  dense
    .set('config.json', json({ architectures: ['BertModel'], model_type: 'bert', hidden_size: 32 }))
    .set(
      'modules.json',
      json([
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
      ]),
    )
    .set('1_Pooling/config.json', json({ word_embedding_dimension: 32, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true }))
    .set('sentence_bert_config.json', json({ max_seq_length: 256, do_lower_case: false }));
  hub.repos.set('org/tiny-dense', { files: dense });

  // Our own export pushed as is (Mistral-style echo): encoder.json decides.
  hub.repos.set('org/tiny-echo', { files: await fixture('mistral-echo-pooled', {}) });

  // A checkpoint without ONNX.
  const noOnnx = await fixture('bert-splade-logits', { 'encoder.json': null, 'model.onnx': null });
  noOnnx.set('config.json', json(MLM_CONFIG)).set('model.safetensors', Buffer.alloc(20_000, 1));
  hub.repos.set('naver/tiny-no-onnx', { files: noOnnx });
}, 60_000);

afterAll(async () => {
  await hub?.close();
  await rm(root, { recursive: true, force: true });
});

describe('models pull through the real CLI process', () => {
  it('pulls a SPLADE MLM repo (redirected LFS files, sha256 checked) into a directory a collection indexes and searches with', async () => {
    const r = await cliProcess(['models', 'pull', 'org/tiny-splade']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('layout "splade-mlm"');
    expect(r.stdout).toContain('special tokens: kept');
    expect(r.stdout).toMatch(/pulled org\/tiny-splade@[0-9a-f]{12} into encoders\/tiny-splade \(kind splade, dim 337/);
    expect(await entries()).toEqual(['tiny-splade']);
    const manifest = JSON.parse(await readFile(path.join(encodersDir, 'tiny-splade', 'encoder.json'), 'utf8'));
    expect(manifest).toMatchObject({
      kind: 'splade',
      dim: 337,
      zeroSpecialTokens: false,
      files: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
      source: { repo: 'org/tiny-splade', revision: 'main', sha: hub.shaOf('org/tiny-splade'), layout: 'splade-mlm' },
    });
    expect(Object.keys(manifest.sha256).sort()).toEqual(['model.onnx', 'tokenizer.json']);
    // The ONNX file came from the "CDN" port after a 302.
    expect(hub.log.some((l) => l.server === 'cdn' && l.url.startsWith('/blobs/'))).toBe(true);

    const data = path.join(root, 'data-splade');
    const service: SpladexService = await openSpladexService({ dataDir: data, encodersDir, logger, encoderThreads: 1 });
    const app: FastifyInstance = await buildApp({ service, logger });
    try {
      expect((await app.inject({ method: 'PUT', url: '/v1/collections/c', payload: { encoder: 'tiny-splade' } })).statusCode).toBe(201);
      const docs = [
        { id: 'a', text: 'Volcanoes erupt with lava and ash clouds.' },
        { id: 'b', text: 'Cooking pasta needs boiling salted water.' },
      ];
      const up = await app.inject({ method: 'POST', url: '/v1/collections/c/documents', payload: { documents: docs } });
      expect(up.json()).toEqual({ indexed: 2, errors: [] });
      const res = await app.inject({
        method: 'POST',
        url: '/v1/collections/c/search',
        payload: { query: 'Volcanoes erupt with lava and ash clouds.', k: 2 },
      });
      expect(res.statusCode).toBe(200);
      expect((res.json().hits as { id: string }[])[0].id).toBe('a');
    } finally {
      await app.close();
      await service.close();
    }
  }, 60_000);

  it('a second pull of the same commit is a no-op: one API call, no file request', async () => {
    const before = hub.log.length;
    const r = await cliProcess(['models', 'pull', 'org/tiny-splade']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('encoders/tiny-splade is up to date');
    expect(hub.log.slice(before).map((l) => l.url)).toEqual(['/api/models/org/tiny-splade/revision/main']);
  }, 60_000);

  it('a gated repo: 401 without HF_TOKEN names the repo and the licence, leaves nothing; with it, the token never reaches the CDN', async () => {
    const denied = await cliProcess(['models', 'pull', 'org/gated-splade']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(
      /^spladex: error: UNAUTHENTICATED: org\/gated-splade: the Hub answered 401 .*accept its licence.*HF_TOKEN/,
    );
    expect(await entries()).toEqual(['tiny-splade']);
    const wrong = await cli(['models', 'pull', 'org/gated-splade'], { HF_TOKEN: 'hf_wrong' });
    expect(wrong.stderr).toMatch(/answered 403 .*HF_TOKEN was sent but does not grant access/);

    const before = hub.log.length;
    const ok = await cli(['models', 'pull', 'org/gated-splade', '--name', 'gated'], { HF_TOKEN: 'hf_secret' });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const reqs = hub.log.slice(before);
    expect(reqs.filter((l) => l.server === 'hub').every((l) => l.authorized)).toBe(true);
    expect(reqs.filter((l) => l.server === 'cdn').length).toBeGreaterThan(0);
    expect(reqs.filter((l) => l.server === 'cdn').some((l) => l.authorized)).toBe(false);
    expect(await entries()).toEqual(['gated', 'tiny-splade']);
  }, 60_000);
});

describe('models pull failures leave no partial directory', () => {
  it('an unknown repo and an unknown revision answer NOT_FOUND, with or without a token', async () => {
    const r = await cli(['models', 'pull', 'org/nope']);
    expect(r.code).toBe(1);
    // Asked without a token the Hub answers 401 RepoNotFound (private repos cannot be probed): still NOT_FOUND.
    expect(r.stderr).toBe(
      'spladex: error: NOT_FOUND: org/nope: the Hub answered 401 for revision "main": no such repo (a private repo needs HF_TOKEN)\n',
    );
    const withToken = await cli(['models', 'pull', 'org/nope'], { HF_TOKEN: 'hf_x' });
    expect(withToken.stderr).toBe('spladex: error: NOT_FOUND: org/nope: the Hub answered 404 for revision "main": no such repo\n');
    const rev = await cli(['models', 'pull', 'org/tiny-splade', '--revision', 'v9', '--name', 'x']);
    expect(rev.stderr).toBe('spladex: error: NOT_FOUND: org/tiny-splade: the Hub answered 404 for revision "v9": no such revision\n');
    expect(await entries()).toEqual(['gated', 'tiny-splade']);
  });

  it('a corrupted download fails on its sha256 and leaves neither the directory nor a staging one', async () => {
    hub.corrupt.add('org/tiny-splade/onnx/model.onnx');
    try {
      const r = await cli(['models', 'pull', 'org/tiny-splade', '--name', 'corrupt']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /CORRUPT_INDEX: org\/tiny-splade: downloaded onnx\/model.onnx is corrupt: sha256 [0-9a-f]{64}, the Hub lists [0-9a-f]{64}/,
      );
      expect(await entries()).toEqual(['gated', 'tiny-splade']);
    } finally {
      hub.corrupt.clear();
    }
  });

  it('an interrupted download resumes with a Range request', async () => {
    hub.cutAfter.set('org/tiny-splade/onnx/model.onnx', 100_000);
    const first = await cli(['models', 'pull', 'org/tiny-splade', '--name', 'resumed']);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('run the same command again to resume');
    // No encoder directory, only the hidden staging one holding the partial file.
    const staging = (await entries()).filter((e) => e.startsWith('.pull-resumed-'));
    expect(staging.length).toBe(1);
    expect(await exists(path.join(encodersDir, 'resumed'))).toBe(false);
    const part = path.join(encodersDir, staging[0], '.src', 'onnx', 'model.onnx.part');
    expect((await stat(part)).size).toBe(100_000);

    const before = hub.log.length;
    const second = await cli(['models', 'pull', 'org/tiny-splade', '--name', 'resumed']);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(
      hub.log
        .slice(before)
        .filter((l) => l.server === 'cdn')
        .map((l) => l.range),
    ).toEqual(['bytes=100000-']);
    expect(await entries()).toEqual(['gated', 'resumed', 'tiny-splade']);
    const a = await readFile(path.join(encodersDir, 'resumed', 'model.onnx'));
    expect(a.equals(await readFile(path.join(FIXTURES, 'bert-splade-logits', 'model.onnx')))).toBe(true);
  });

  it('a repo without an ONNX file gets the exact export command', async () => {
    const r = await cli(['models', 'pull', 'naver/tiny-no-onnx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `naver/tiny-no-onnx has no ONNX file (model.onnx, onnx/model.onnx); export it instead: python scripts/export-onnx.py --model naver/tiny-no-onnx --kind splade --keep-special-tokens --out ${path.join(encodersDir, 'tiny-no-onnx')}`,
    );
    expect((await entries()).some((e) => e.includes('no-onnx'))).toBe(false);
  });

  it('a new commit of the same repo replaces the directory; a directory from elsewhere is a CONFLICT', async () => {
    const repo = hub.repos.get('org/tiny-splade') as EmulatedRepo;
    const oldSha = hub.shaOf('org/tiny-splade');
    repo.files.set('README.md', Buffer.from('# tiny, v2\n'));
    try {
      const r = await cli(['models', 'pull', 'org/tiny-splade', '--name', 'resumed']);
      expect(r.stderr).toBe('');
      const m = JSON.parse(await readFile(path.join(encodersDir, 'resumed', 'encoder.json'), 'utf8'));
      expect(m.source.sha).toBe(hub.shaOf('org/tiny-splade'));
      expect(m.source.sha).not.toBe(oldSha);
      expect((await entries()).filter((e) => e.startsWith('.'))).toEqual([]);
    } finally {
      repo.files.set('README.md', README);
    }
    await cp(path.join(FIXTURES, 'bert-splade-logits'), path.join(encodersDir, 'handmade'), { recursive: true });
    const c = await cli(['models', 'pull', 'org/tiny-splade', '--name', 'handmade']);
    expect(c.code).toBe(1);
    expect(c.stderr).toBe(
      'spladex: error: CONFLICT: encoder "handmade" already exists (not pulled from the Hub); pass --name or run "spladex models rm handmade"\n',
    );
    await rm(path.join(encodersDir, 'handmade'), { recursive: true });
  });

  it('offline: uses what is present, refuses what is not', async () => {
    const before = hub.log.length;
    const ok = await cli(['models', 'pull', 'org/tiny-splade'], { HF_HUB_OFFLINE: '1' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('offline: using encoders/tiny-splade');
    const no = await cli(['models', 'pull', 'org/tiny-dense'], { HF_HUB_OFFLINE: '1' });
    expect(no.code).toBe(1);
    expect(no.stderr).toContain('HF_HUB_OFFLINE is set and encoders/tiny-dense does not hold org/tiny-dense@main');
    expect(hub.log.length).toBe(before);
  });
});

function expectSameSparse(got: { indices: Uint32Array; values: Float32Array }[], want: RefSparse[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const d = compareSparse(got[i], want[i]);
    expect({ i, onlyGot: d.onlyGot, onlyRef: d.onlyRef }).toEqual({ i, onlyGot: [], onlyRef: [] });
    expect(d.maxAbsErr).toBeLessThanOrEqual(1e-4);
  }
}

describe('layouts', () => {
  it('OpenSearch inference-free: doc model + query_token_weights.txt → NAME and NAME-query (idf), used by a collection', async () => {
    const r = await cli(['models', 'pull', 'org/tiny-doc-v3']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('layout "opensearch-inference-free"');
    expect(r.stdout).toContain('query side: the inference-free "idf" encoder "tiny-doc-v3-query" built from query_token_weights.txt');
    expect(r.stdout).toContain('into encoders/tiny-doc-v3 and encoders/tiny-doc-v3-query');
    const q = JSON.parse(await readFile(path.join(encodersDir, 'tiny-doc-v3-query', 'encoder.json'), 'utf8'));
    expect(q).toMatchObject({ kind: 'idf', dim: 337, files: { tokenizer: 'tokenizer.json', idf: 'idf.json' } });
    // The documents match the PyTorch reference of the doc model; the queries equal the fixture idf encoder's.
    const pulled = (await openEncoder(encodersDir, 'tiny-doc-v3', { logger, threads: 0 })) as SparseEncoder;
    const idfRef = (await openEncoder(FIXTURES, 'bert-idf', { logger, threads: 0 })) as SparseEncoder;
    try {
      expectSameSparse(await pulled.encode(refs.texts, 'document'), refs.encoders['bert-splade-pooled'].vectors as RefSparse[]);
      const got = await pulled.encode(refs.texts, 'query');
      const want = await idfRef.encode(refs.texts, 'query');
      for (let i = 0; i < want.length; i++) {
        expect(Array.from(got[i].indices)).toEqual(Array.from(want[i].indices));
        expect(Array.from(got[i].values)).toEqual(Array.from(want[i].values));
      }
    } finally {
      await pulled.close();
      await idfRef.close();
    }
    const data = path.join(root, 'data-if');
    const service = await openSpladexService({ dataDir: data, encodersDir, logger, encoderThreads: 1 });
    const app = await buildApp({ service, logger });
    try {
      expect((await app.inject({ method: 'PUT', url: '/v1/collections/c', payload: { encoder: 'tiny-doc-v3' } })).statusCode).toBe(201);
      const docs = [
        { id: 'a', text: 'Volcanoes erupt with lava and ash clouds.' },
        { id: 'b', text: 'Cooking pasta needs boiling salted water.' },
      ];
      expect((await app.inject({ method: 'POST', url: '/v1/collections/c/documents', payload: { documents: docs } })).json()).toEqual({
        indexed: 2,
        errors: [],
      });
      const res = await app.inject({ method: 'POST', url: '/v1/collections/c/search', payload: { query: 'pasta water', k: 2 } });
      expect(res.statusCode).toBe(200);
      expect((res.json().hits as { id: string }[]).length).toBeGreaterThan(0);
    } finally {
      await app.close();
      await service.close();
    }
  }, 60_000);

  it('pooled graph without tokenizer.json (Anserini): tokenizer built from vocab.txt, vectors equal the reference', async () => {
    const r = await cli(['models', 'pull', 'castorini/tiny-splade-onnx']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('layout "anserini-onnx"');
    const m = JSON.parse(await readFile(path.join(encodersDir, 'tiny-splade-onnx', 'encoder.json'), 'utf8'));
    expect(m).toMatchObject({ kind: 'splade', dim: 337, zeroSpecialTokens: true, files: { model: 'splade-v3-optimized.onnx' } });
    const enc = (await openEncoder(encodersDir, 'tiny-splade-onnx', { logger, threads: 0 })) as SparseEncoder;
    try {
      expectSameSparse(await enc.encode(refs.texts, 'document'), refs.encoders['bert-splade-pooled'].vectors as RefSparse[]);
    } finally {
      await enc.close();
    }
  }, 60_000);

  it('sentence-transformers dense: pooling from 1_Pooling/config.json, normalisation from modules.json', async () => {
    const r = await cli(['models', 'pull', 'org/tiny-dense']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(
      'layout "sentence-transformers-dense": pooling mean (1_Pooling/config.json), L2-normalised (Normalize module)',
    );
    const m = JSON.parse(await readFile(path.join(encodersDir, 'tiny-dense', 'encoder.json'), 'utf8'));
    expect(m).toMatchObject({ kind: 'dense', dim: 32, pooling: 'mean', normalize: true, maxLength: 256 });
    const enc = (await openEncoder(encodersDir, 'tiny-dense', { logger, threads: 0 })) as DenseEncoder;
    try {
      const got = await enc.encode(refs.texts, 'document');
      const want = refs.encoders['bert-dense-mean'].vectors as number[][];
      for (let i = 0; i < want.length; i++) expect(cosine(got[i], want[i])).toBeGreaterThanOrEqual(0.9999);
    } finally {
      await enc.close();
    }
  }, 60_000);

  it('the pulled dense encoder is the dense side of a collection in a hybrid search with the pulled SPLADE encoder', async () => {
    const want = refs.encoders['bert-dense-mean'].vectors as number[][];
    const docIdx = [1, 3, 4, 5, 6, 17];
    const service = await openSpladexService({ dataDir: path.join(root, 'data-hybrid'), encodersDir, logger, encoderThreads: 1 });
    const app = await buildApp({ service, logger });
    try {
      const created = await app.inject({
        method: 'PUT',
        url: '/v1/collections/h',
        payload: { encoder: 'tiny-splade', dense: { dim: 32, metric: 'cosine', encoder: 'tiny-dense' } },
      });
      expect(created.statusCode).toBe(201);
      const documents = docIdx.map((i) => ({ id: `t${i}`, text: refs.texts[i] }));
      expect((await app.inject({ method: 'POST', url: '/v1/collections/h/documents', payload: { documents } })).json()).toEqual({
        indexed: docIdx.length,
        errors: [],
      });
      const q = 4;
      const res = await app.inject({
        method: 'POST',
        url: '/v1/collections/h/search',
        payload: { query: refs.texts[q], k: docIdx.length, explain: true, hybrid: { candidates: docIdx.length } },
      });
      expect(res.statusCode).toBe(200);
      const hits = res.json().hits as { id: string; explain: { dense: number; sparse: number } }[];
      expect(hits.length).toBe(docIdx.length);
      // Every dense score is the cosine of the PyTorch reference vectors; the query's own text ranks first.
      for (const h of hits) expect(Math.abs(h.explain.dense - cosine(want[q], want[Number(h.id.slice(1))]))).toBeLessThan(1e-4);
      expect(hits[0].id).toBe(`t${q}`);
    } finally {
      await app.close();
      await service.close();
    }
  }, 60_000);

  it('an exported directory pushed as is (Mistral-style echo): its encoder.json is kept, sha256 recomputed', async () => {
    const r = await cli(['models', 'pull', 'org/tiny-echo']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('layout "spladex-export": kind echo');
    const m = JSON.parse(await readFile(path.join(encodersDir, 'tiny-echo', 'encoder.json'), 'utf8'));
    const orig = JSON.parse(await readFile(path.join(FIXTURES, 'mistral-echo-pooled', 'encoder.json'), 'utf8'));
    expect(m.sha256).toEqual(orig.sha256);
    expect(m.echo).toEqual(orig.echo);
  }, 60_000);
});

describe('models list and rm', () => {
  it('lists pulled directories with their source, removes one with its -query side', async () => {
    const list = await cli(['models', 'list', '--json']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { name: string; kind: string; source?: { repo: string } }[];
    expect(rows.map((x) => x.name)).toContain('tiny-doc-v3-query');
    expect(rows.find((x) => x.name === 'tiny-splade')?.source?.repo).toBe('org/tiny-splade');
    const text = await cli(['models', 'list']);
    expect(text.stdout).toMatch(/^tiny-dense\tdense\t32\torg\/tiny-dense@[0-9a-f]{12} \(sentence-transformers-dense\)\t[\d.]+ MB$/m);

    const rmr = await cli(['models', 'rm', 'tiny-doc-v3']);
    expect(rmr.stdout).toBe('removed encoders/tiny-doc-v3 and encoders/tiny-doc-v3-query\n');
    expect((await entries()).some((e) => e.startsWith('tiny-doc-v3'))).toBe(false);
    const again = await cli(['models', 'rm', 'tiny-doc-v3']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('NOT_FOUND: no encoder "tiny-doc-v3"');
    const usage = await cli(['models', 'frobnicate']);
    expect(usage.code).toBe(2);
  });
});
