/**
 * The TS encoders reproduce PyTorch. For every fixture model (tiny random BERT-MLM, Mistral-causal and dense BERT,
 * exported by scripts/make-fixtures.py in both output conventions) and every reference text (empty, one word,
 * longer than maxLength, non-ASCII, mixed case, repeated words, …), the vector computed through openEncoder
 * (tokenizer, ONNX Runtime, TS pooling) has the same nonzero set as the PyTorch reference and max abs error
 * <= 1e-4; dense vectors have cosine >= 0.9999. Encoders run in process (`threads: 0`) to keep the suite fast
 * (each worker start costs seconds); the same pipeline through the worker pool is checked in
 * test/encoders-pool.test.ts. Also: chunking, zeroSpecialTokens off, document pruning,
 * the queryEncoder indirection, and tokenizer ids against the Python tokenizers library.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prune, type SparseVector } from '../src/core/sparse-vector.js';
import type { DenseEncoder, SparseEncoder } from '../src/encoders/encoder.js';
import { loadManifest } from '../src/encoders/manifest.js';
import { openEncoder } from '../src/encoders/registry.js';
import { echoPiecesOf, pushWindows, windowRoom, type TokenWindow } from '../src/encoders/sequences.js';
import { loadTokenizer } from '../src/encoders/tokenizer.js';
import { compareSparse, copyFixture, cosine, FIXTURES, loadReferences, type RefSparse } from './encoders-helpers.js';

const logger = pino({ level: 'silent' });
const refs = loadReferences();
const SPARSE = ['bert-splade-logits', 'bert-splade-pooled', 'bert-splade-pair', 'mistral-echo-logits', 'mistral-echo-pooled', 'bert-idf'];
const DENSE = ['bert-dense-mean', 'bert-dense-mean-pooled', 'bert-dense-cls'];
const MAX_ABS_ERR = 1e-4;

function expectMatches(got: SparseVector[], want: RefSparse[], label: string): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = compareSparse(got[i], want[i]);
    expect({ text: i, onlyGot: d.onlyGot, onlyRef: d.onlyRef }, `${label} text ${i}`).toEqual({ text: i, onlyGot: [], onlyRef: [] });
    expect(d.maxAbsErr, `${label} text ${i}`).toBeLessThanOrEqual(MAX_ABS_ERR);
    worst = Math.max(worst, d.maxAbsErr);
    // sorted unique ids, positive finite weights
    for (let k = 1; k < got[i].indices.length; k++) expect(got[i].indices[k]).toBeGreaterThan(got[i].indices[k - 1]);
    for (const w of got[i].values) expect(w > 0 && Number.isFinite(w)).toBe(true);
  }
  // the fixtures are not degenerate: most texts have many terms
  expect(want.filter((v) => v.indices.length > 5).length).toBeGreaterThan(want.length / 2);
}

describe('encoders reproduce the PyTorch references', () => {
  const encoders = new Map<string, SparseEncoder | DenseEncoder>();

  beforeAll(async () => {
    const opened = await Promise.all([...SPARSE, ...DENSE].map((n) => openEncoder(FIXTURES, n, { logger, threads: 0 })));
    opened.forEach((e) => encoders.set(e.name, e));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...encoders.values()].map((e) => e.close()));
  });

  it('covers at least 20 texts, including empty, longer than maxLength and non-ASCII ones', () => {
    expect(refs.texts.length).toBeGreaterThanOrEqual(20);
    expect(refs.texts).toContain('');
    expect(refs.texts.some((t) => /[^\x00-\x7f]/.test(t))).toBe(true);
    const bertIds = refs.encoders['bert-splade-logits'].tokenIds as number[][];
    expect(bertIds.some((ids) => ids.length === refs.maxLength)).toBe(true); // a truncated text
  });

  for (const name of SPARSE) {
    it(`${name}: same nonzero set, max abs error <= 1e-4, as query and as document`, async () => {
      const enc = encoders.get(name) as SparseEncoder;
      expect(enc.kind).toBe('sparse');
      expect(enc.dim).toBe(refs.encoders[name].dim);
      const want = refs.encoders[name].vectors as RefSparse[];
      expectMatches(await enc.encode(refs.texts, 'query'), want, `${name} query`);
      expectMatches(await enc.encode(refs.texts, 'document'), want, `${name} document`);
    }, 60_000);
  }

  for (const name of DENSE) {
    it(`${name}: cosine >= 0.9999 with the reference`, async () => {
      const enc = encoders.get(name) as DenseEncoder;
      expect(enc.kind).toBe('dense');
      const got = await enc.encode(refs.texts, 'document');
      const want = refs.encoders[name].vectors as number[][];
      for (let i = 0; i < want.length; i++) {
        expect(got[i].length).toBe(32);
        expect(cosine(got[i], want[i]), `${name} text ${i}`).toBeGreaterThanOrEqual(0.9999);
        let maxErr = 0;
        for (let k = 0; k < 32; k++) maxErr = Math.max(maxErr, Math.abs(got[i][k] - want[i][k]));
        expect(maxErr).toBeLessThanOrEqual(MAX_ABS_ERR);
      }
    }, 60_000);
  }

  it('logits and in-graph pooled outputs agree with each other to 1e-5', async () => {
    const a = await (encoders.get('bert-splade-logits') as SparseEncoder).encode(refs.texts, 'query');
    const b = await (encoders.get('bert-splade-pooled') as SparseEncoder).encode(refs.texts, 'query');
    for (let i = 0; i < a.length; i++) {
      const d = compareSparse(a[i], { indices: Array.from(b[i].indices), values: Array.from(b[i].values) });
      expect(d.onlyGot.length + d.onlyRef.length).toBe(0);
      expect(d.maxAbsErr).toBeLessThan(1e-5);
    }
  });

  it('decode and lookup round-trip through the tokenizer vocabulary', () => {
    const enc = encoders.get('bert-splade-logits') as SparseEncoder;
    const id = enc.lookup('retrieval');
    expect(id).toBeTypeOf('number');
    expect(enc.decode(id as number)).toBe('retrieval');
    expect(enc.decode(2)).toBe('[CLS]');
    expect(enc.lookup('no-such-token-xyz')).toBeUndefined();
  });
});

describe('manifest options', () => {
  it('chunking: windows of maxLength tokens are max-pooled (reference: 32-token windows)', async () => {
    const dir = await copyFixture('bert-splade-logits', 'chunked', (m) => {
      m.maxLength = 32;
      m.chunking = true;
    });
    const enc = (await openEncoder(dir, 'chunked', { logger, threads: 0 })) as SparseEncoder;
    try {
      const want = refs.encoders['bert-splade-logits'].chunked32 as RefSparse[];
      expectMatches(await enc.encode(refs.texts, 'document'), want, 'chunked32');
      // chunking changes long texts: the very long text gains terms over truncation at 32 tokens
      const last = refs.texts.length - 1;
      expect(want[last].indices.length).toBeGreaterThan((refs.encoders['bert-splade-logits'].vectors as RefSparse[])[last].indices.length);
    } finally {
      await enc.close();
    }
  }, 60_000);

  it('zeroSpecialTokens: false keeps the special-token columns (raw reference)', async () => {
    const dir = await copyFixture('bert-splade-pooled', 'raw', (m) => {
      m.zeroSpecialTokens = false;
    });
    const enc = (await openEncoder(dir, 'raw', { logger, threads: 0 })) as SparseEncoder;
    try {
      const raw = refs.encoders['bert-splade-logits'].rawVectors as RefSparse[];
      expectMatches(await enc.encode(refs.texts, 'query'), raw, 'raw');
      const specials = refs.encoders['bert-splade-logits'].specialIds as number[];
      expect(raw.some((v) => v.indices.some((id) => specials.includes(id)))).toBe(true);
    } finally {
      await enc.close();
    }
  }, 60_000);

  it('minWeight/maxTerms prune documents only', async () => {
    const dir = await copyFixture('bert-splade-pooled', 'pruned', (m) => {
      m.minWeight = 0.3;
      m.maxTerms = 20;
    });
    const enc = (await openEncoder(dir, 'pruned', { logger, threads: 0 })) as SparseEncoder;
    try {
      const want = refs.encoders['bert-splade-pooled'].vectors as RefSparse[];
      const docs = await enc.encode(refs.texts, 'document');
      const queries = await enc.encode(refs.texts, 'query');
      expectMatches(queries, want, 'unpruned queries');
      for (let i = 0; i < want.length; i++) {
        const expected = prune({ indices: Uint32Array.from(want[i].indices), values: Float32Array.from(want[i].values) }, 0.3, 20);
        expect(Array.from(docs[i].indices)).toEqual(Array.from(expected.indices));
        expect(docs[i].indices.length).toBeLessThanOrEqual(20);
        for (const w of docs[i].values) expect(w).toBeGreaterThanOrEqual(0.3);
      }
    } finally {
      await enc.close();
    }
  }, 60_000);

  it('queryEncoder routes queries to an idf encoder and documents to the model', async () => {
    const dir = await copyFixture('bert-splade-pooled', 'doc-model', (m) => {
      m.queryEncoder = 'bert-idf';
    });
    await copyFixture('bert-idf', 'bert-idf', () => {}, dir);
    const enc = (await openEncoder(dir, 'doc-model', { logger, threads: 0 })) as SparseEncoder;
    try {
      expectMatches(await enc.encode(refs.texts, 'query'), refs.encoders['bert-idf'].vectors as RefSparse[], 'idf queries');
      expectMatches(await enc.encode(refs.texts, 'document'), refs.encoders['bert-splade-pooled'].vectors as RefSparse[], 'model docs');
    } finally {
      await enc.close();
    }
  }, 60_000);
});

describe('tokenizers match the Python tokenizers library', () => {
  it('WordPiece (BERT) ids, truncated at maxLength with [CLS]/[SEP]', async () => {
    const dir = path.join(FIXTURES, 'bert-splade-logits');
    const m = await loadManifest(dir, 'bert');
    const tok = await loadTokenizer(path.join(dir, 'tokenizer.json'), 'bert');
    const room = windowRoom(m, tok, echoPiecesOf(m, tok));
    refs.texts.forEach((t, i) => {
      const w: TokenWindow[] = [];
      pushWindows(tok.encodeContent(t), i, m, tok, echoPiecesOf(m, tok), room, w);
      expect(w[0].ids, JSON.stringify(t).slice(0, 40)).toEqual(refs.encoders['bert-splade-logits'].tokenIds?.[i]);
    });
    expect(tok.prefixIds).toEqual([2]);
    expect(tok.suffixIds).toEqual([3]);
  });

  it('Metaspace BPE with byte fallback (Mistral) ids in the echo prompt, and the pooled span', async () => {
    const dir = path.join(FIXTURES, 'mistral-echo-logits');
    const m = await loadManifest(dir, 'mistral');
    const tok = await loadTokenizer(path.join(dir, 'tokenizer.json'), 'mistral');
    const echo = echoPiecesOf(m, tok);
    const room = windowRoom(m, tok, echo);
    const ref = refs.encoders['mistral-echo-logits'];
    refs.texts.forEach((t, i) => {
      const w: TokenWindow[] = [];
      pushWindows(tok.encodeContent(t), i, m, tok, echo, room, w);
      expect(w[0].ids, JSON.stringify(t).slice(0, 40)).toEqual(ref.tokenIds?.[i]);
      const mask = ref.poolingMasks?.[i] as number[];
      expect([mask.indexOf(1) === -1 ? w[0].poolStart : mask.indexOf(1), mask.lastIndexOf(1) + 1 || w[0].poolEnd]).toEqual([
        w[0].poolStart,
        w[0].poolEnd,
      ]);
    });
    // byte fallback was exercised: some non-ASCII text maps to <0x..> byte tokens (ids 3..258)
    const nonAscii = refs.texts.findIndex((t) => t.includes('😀'));
    expect(tok.encodeContent(refs.texts[nonAscii]).some((id) => id >= 3 && id <= 258)).toBe(true);
  });

  it('byte-level BPE (GPT-2 style) ids', async () => {
    const tok = await loadTokenizer(path.join(FIXTURES, 'tokenizers', 'bytelevel.json'), 'bytelevel');
    const want = JSON.parse(await readFile(path.join(FIXTURES, 'tokenizers', 'bytelevel-ids.json'), 'utf8')) as {
      texts: string[];
      ids: number[][];
    };
    want.texts.forEach((t, i) => expect(tok.encodeContent(t), JSON.stringify(t).slice(0, 40)).toEqual(want.ids[i]));
  });
});
