/**
 * Encoders through the worker pool and the registry: results through workers equal the PyTorch references; the
 * main thread stays responsive while a ~2 s encode runs in the pool (and is blocked when the same work runs in
 * process — the control that shows the check can fail); a full queue answers BUSY with retryAfterSeconds; bad encoder
 * directories are refused at open with messages naming the encoder and the file; the worker also starts under a plain
 * `node --import tsx` process (not only under vitest).
 */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpladexError } from '../src/core/errors.js';
import type { DenseEncoder, SparseEncoder } from '../src/encoders/encoder.js';
import { listEncoders, openEncoder } from '../src/encoders/registry.js';
import { compareSparse, copyFixture, cosine, FIXTURES, loadReferences, type RefSparse } from './encoders-helpers.js';

const logger = pino({ level: 'silent' });
const refs = loadReferences();

/**
 * Runs `run` while a 5 ms interval timer runs on this thread; returns the time taken, the largest timer gap and the
 * event-loop utilisation (fraction of the time this thread was busy rather than waiting: unaffected by the OS
 * descheduling an idle thread, so it is the load-independent signal).
 */
async function timerGapsDuring(run: () => Promise<unknown>): Promise<{ tookMs: number; maxGapMs: number; elu: number }> {
  const elu0 = performance.eventLoopUtilization();
  let last = performance.now();
  let maxGapMs = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  const t0 = performance.now();
  try {
    await run();
  } finally {
    clearInterval(iv);
  }
  maxGapMs = Math.max(maxGapMs, performance.now() - last);
  return { tookMs: performance.now() - t0, maxGapMs, elu: performance.eventLoopUtilization(elu0).utilization };
}

function longTexts(n: number): string[] {
  const base = refs.texts[refs.texts.length - 2]; // ~420 words: truncated at 256 tokens
  return Array.from({ length: n }, (_, i) => `${i} ${base}`);
}

async function expectInvalid(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SpladexError);
  expect((e as SpladexError).code).toBe('INVALID_ARGUMENT');
  expect((e as SpladexError).message).toMatch(pattern);
}

describe('worker pool', () => {
  let sparse: SparseEncoder;

  beforeAll(async () => {
    sparse = (await openEncoder(FIXTURES, 'bert-splade-logits', { logger, threads: 2 })) as SparseEncoder;
  }, 60_000);

  afterAll(async () => {
    await sparse?.close();
  });

  it('vectors through two workers (texts split into tasks) equal the PyTorch references, in input order', async () => {
    const want = refs.encoders['bert-splade-logits'].vectors as RefSparse[];
    const got = await sparse.encode(refs.texts, 'document');
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      const d = compareSparse(got[i], want[i]);
      expect(d.onlyGot.length + d.onlyRef.length, `text ${i}`).toBe(0);
      expect(d.maxAbsErr).toBeLessThanOrEqual(1e-4);
    }
  }, 60_000);

  it('dense vectors through a worker (row-major buffer transfer) match the reference', async () => {
    const dense = (await openEncoder(FIXTURES, 'bert-dense-mean', { logger, threads: 1 })) as DenseEncoder;
    try {
      const d = await dense.encode(refs.texts, 'query');
      const wd = refs.encoders['bert-dense-mean'].vectors as number[][];
      for (let i = 0; i < refs.texts.length; i++) expect(cosine(d[i], wd[i])).toBeGreaterThanOrEqual(0.9999);
    } finally {
      await dense.close();
    }
  }, 60_000);

  it('keeps the event loop responsive: a 5 ms timer fires within 50 ms while a ~2 s batch encodes in the pool', async () => {
    // one worker: on a 2-core machine the other core stays free for this thread, as in the server's default setting
    const one = (await openEncoder(FIXTURES, 'bert-splade-logits', { logger, threads: 1 })) as SparseEncoder;
    try {
      // calibrate the batch size to about 2 s on this machine
      await one.encode(longTexts(16), 'document'); // warm-up
      const t0 = performance.now();
      await one.encode(longTexts(64), 'document');
      const perText = (performance.now() - t0) / 64;
      const n = Math.min(20_000, Math.max(64, Math.ceil(2000 / perText)));
      const texts = longTexts(n);
      // This machine is shared (load can exceed 5 per core), so OS scheduling and GC alone can delay one timer by
      // tens of ms: take the best of up to five runs. A blocked event loop would fail all of them with a gap of
      // about the batch time, and would show a high event-loop utilisation in every run.
      const runs: { tookMs: number; maxGapMs: number; elu: number }[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        runs.push(await timerGapsDuring(() => one.encode(texts, 'document')));
        if (runs[attempt].maxGapMs < 50) break;
      }
      const best = runs.reduce((a, b) => (a.maxGapMs <= b.maxGapMs ? a : b));
      expect(best.tookMs).toBeGreaterThan(500); // long enough that a blocked loop would show (~2 s expected)
      expect(best.maxGapMs, `gaps ${runs.map((r) => Math.round(r.maxGapMs)).join(', ')} ms; ${n} texts`).toBeLessThan(50);
      for (const r of runs) expect(r.elu).toBeLessThan(0.25);

      // control: the same kind of work on this thread (one inference call for the whole slice) starves the timer,
      // so the check above can fail
      const dir = await copyFixture('bert-splade-pooled', 'blocking', (m) => {
        m.maxBatchTokens = 10_000_000;
      });
      const inProcess = (await openEncoder(dir, 'blocking', { logger, threads: 0 })) as SparseEncoder;
      try {
        const blocked = await timerGapsDuring(() => inProcess.encode(texts.slice(0, Math.ceil(n / 4)), 'document'));
        expect(blocked.maxGapMs, `in-process gap`).toBeGreaterThan(50);
        expect(blocked.elu).toBeGreaterThan(0.5);
      } finally {
        await inProcess.close();
      }
    } finally {
      await one.close();
    }
  }, 120_000);

  it('answers BUSY with retryAfterSeconds when the queue is full, and recovers', async () => {
    const one = (await openEncoder(FIXTURES, 'bert-splade-pooled', { logger, threads: 1, queueSize: 1 })) as SparseEncoder;
    try {
      const a = one.encode(longTexts(64), 'document'); // runs
      const b = one.encode(['waiting'], 'query'); // waits: the queue (1) is now full
      const c = one.encode(['rejected'], 'query');
      const err = await c.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SpladexError);
      expect((err as SpladexError).code).toBe('BUSY');
      expect((err as SpladexError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.length).toBe(64);
      expect(rb[0].indices.length).toBeGreaterThan(0);
      expect((await one.encode(['accepted again'], 'query')).length).toBe(1);
    } finally {
      await one.close();
    }
  }, 60_000);

  it('starts its TypeScript worker under a plain `node --import tsx` process', async () => {
    const registry = pathToFileURL(path.resolve('src/encoders/registry.ts')).href;
    const code = `
      const { openEncoder } = await import(${JSON.stringify(registry)});
      const { default: pino } = await import('pino');
      const enc = await openEncoder(${JSON.stringify(FIXTURES)}, 'bert-splade-pooled', { logger: pino({ level: 'silent' }), threads: 1 });
      const [v] = await enc.encode(['the quick brown fox'], 'query');
      process.stdout.write(JSON.stringify({ n: v.indices.length, first: v.indices[0] }));
      await enc.close();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: path.resolve('.'),
      timeout: 60_000,
    });
    const out = JSON.parse(stdout) as { n: number; first: number };
    const local = await sparse.encode(['the quick brown fox'], 'query');
    expect(out.n).toBe(local[0].indices.length);
    expect(out.first).toBe(local[0].indices[0]);
  }, 90_000);
});

// ---------------------------------------------------------------------------------------------------------------
// A hand-written ONNX model (protobuf by hand, opset 11) whose output has rank 4: Cast(input_ids) → Unsqueeze[2,3].
// ---------------------------------------------------------------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const key = (no: number, wire: number): number[] => varint((no << 3) | wire);
const bytesField = (no: number, b: number[]): number[] => [...key(no, 2), ...varint(b.length), ...b];
const strField = (no: number, s: string): number[] => bytesField(no, [...Buffer.from(s, 'utf8')]);
const intField = (no: number, v: number): number[] => [...key(no, 0), ...varint(v)];

function valueInfo(name: string, elemType: number, dims: (string | number)[]): number[] {
  const shape = dims.flatMap((d) => bytesField(1, typeof d === 'string' ? strField(2, d) : intField(1, d)));
  const tensorType = [...intField(1, elemType), ...bytesField(2, shape)];
  return [...strField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

function rank4Model(): Buffer {
  const cast = [
    ...strField(1, 'input_ids'),
    ...strField(2, 'f'),
    ...strField(4, 'Cast'),
    ...bytesField(5, [...strField(1, 'to'), ...intField(3, 1), ...intField(20, 2)]),
  ];
  const unsq = [
    ...strField(1, 'f'),
    ...strField(2, 'out'),
    ...strField(4, 'Unsqueeze'),
    ...bytesField(5, [...strField(1, 'axes'), ...intField(8, 2), ...intField(8, 3), ...intField(20, 7)]),
  ];
  const graph = [
    ...bytesField(1, cast),
    ...bytesField(1, unsq),
    ...strField(2, 'rank4'),
    ...bytesField(11, valueInfo('input_ids', 7, ['batch', 'seq'])),
    ...bytesField(12, valueInfo('out', 1, ['batch', 'seq', 1, 1])),
  ];
  return Buffer.from([...intField(1, 7), ...bytesField(8, [...strField(1, ''), ...intField(2, 11)]), ...bytesField(7, graph)]);
}

describe('registry validation at open', () => {
  it('refuses unknown and reserved names', async () => {
    await expectInvalid(openEncoder(FIXTURES, 'nope', { logger }), /unknown encoder "nope"/);
    await expectInvalid(openEncoder(FIXTURES, 'lexical', { logger }), /"lexical" is built in/);
    await expectInvalid(openEncoder(FIXTURES, '../models', { logger }), /not valid/);
  });

  it('refuses a bad manifest, naming encoder.json and the field', async () => {
    const dir = await copyFixture('bert-splade-logits', 'bad', (m) => {
      m.kind = 'word2vec';
    });
    await expectInvalid(openEncoder(dir, 'bad', { logger }), /encoder "bad": encoder\.json: kind/);
    await rm(dir, { recursive: true });
  });

  it('refuses a missing file and a wrong sha256, naming the file', async () => {
    const dir = await copyFixture('bert-splade-logits', 'gone');
    await rm(path.join(dir, 'gone', 'model.onnx'));
    await expectInvalid(openEncoder(dir, 'gone', { logger }), /encoder "gone": missing file model\.onnx/);
    const dir2 = await copyFixture('bert-splade-logits', 'tampered', (m) => {
      (m.sha256 as Record<string, string>)['tokenizer.json'] = '0'.repeat(64);
    });
    await expectInvalid(
      openEncoder(dir2, 'tampered', { logger }),
      /encoder "tampered": tokenizer\.json has sha256 [0-9a-f]{64}, encoder\.json expects 0{64}/,
    );
  });

  it('refuses a vocabulary size mismatch (tokenizer vs dim, and model output vs dim, the latter from a worker)', async () => {
    const dir = await copyFixture('bert-splade-logits', 'small', (m) => {
      m.dim = 300;
    });
    await expectInvalid(
      openEncoder(dir, 'small', { logger, threads: 0 }),
      /encoder "small": tokenizer\.json: vocabulary size 337 does not match dim 300/,
    );
    const dir2 = await copyFixture('bert-splade-logits', 'big', (m) => {
      m.dim = 400;
    });
    await expectInvalid(
      openEncoder(dir2, 'big', { logger, threads: 1 }),
      /encoder "big": model\.onnx: output "logits" has vocabulary size 337 but encoder\.json says dim 400/,
    );
  }, 60_000);

  it('refuses an output of unexpected rank and a corrupt model file', async () => {
    const dir = await copyFixture('bert-splade-logits', 'rank4', (m) => {
      m.sha256 = {};
    });
    await writeFile(path.join(dir, 'rank4', 'model.onnx'), rank4Model());
    await expectInvalid(
      openEncoder(dir, 'rank4', { logger, threads: 0 }),
      /encoder "rank4": model\.onnx: output "out" has rank 4, expected 2/,
    );
    await writeFile(path.join(dir, 'rank4', 'model.onnx'), Buffer.from('not an onnx model'));
    await expectInvalid(openEncoder(dir, 'rank4', { logger, threads: 0 }), /encoder "rank4": model\.onnx: cannot load ONNX model/);
  });

  it('refuses a dense manifest over a logits model (hidden size mismatch) and an echo pooled model without pooling_mask', async () => {
    const dir = await copyFixture('bert-splade-pooled', 'notdense', (m) => {
      m.kind = 'dense';
      m.dim = 32;
      delete m.pooling;
    });
    await expectInvalid(
      openEncoder(dir, 'notdense', { logger, threads: 0 }),
      /output "pooled" has hidden size 337 but encoder\.json says dim 32/,
    );
    const dir2 = await copyFixture('bert-splade-pooled', 'noecho', (m) => {
      m.kind = 'echo';
    });
    await expectInvalid(openEncoder(dir2, 'noecho', { logger, threads: 0 }), /needs a pooling_mask input/);
  });

  it('lists encoder directories with kind and dim', async () => {
    const list = await listEncoders(FIXTURES);
    const byName = new Map(list.map((e) => [e.name, e]));
    expect(list.length).toBe(9);
    expect(byName.get('bert-idf')).toEqual({ name: 'bert-idf', kind: 'idf', dim: 337 });
    expect(byName.get('mistral-echo-logits')?.kind).toBe('echo');
    expect(byName.get('bert-dense-cls')?.dim).toBe(32);
    expect(await listEncoders('/nonexistent-dir')).toEqual([]);
  });
});
