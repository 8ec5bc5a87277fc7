/**
 * The one worker starter (src/core/worker-thread.ts): a `.ts` worker beside a `.ts` caller starts under vitest
 * (tsx bootstrap), workerData and messages pass through, and errors cross the thread boundary with their
 * SpladexError code; the LSA fit runner's failure is a SpladexError (it used to be a plain Error, a code-less 500).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SpladexError } from '../src/core/errors.js';
import { fromWireError, startWorker, workerUrl, type WireError } from '../src/core/worker-thread.js';
import { fitAndProjectLsa } from '../src/encoders/lsa/lsa-fit-runner.js';

async function ask(msg: unknown): Promise<{ ok: boolean; error?: WireError; echo?: unknown; workerData?: unknown; isTs?: boolean }> {
  const worker = startWorker(workerUrl(import.meta.url, './fixtures/workers/throwing-worker'), { workerData: { n: 7 } });
  try {
    worker.postMessage(msg);
    const [answer] = await once(worker, 'message');
    return answer;
  } finally {
    await worker.terminate();
  }
}

describe('worker-thread', () => {
  it('names the entry with the caller’s own extension', () => {
    expect(workerUrl('file:///a/src/index/seal-runner.ts', './seal-worker').href).toBe('file:///a/src/index/seal-worker.ts');
    expect(workerUrl('file:///a/dist/index/seal-runner.js', './seal-worker').href).toBe('file:///a/dist/index/seal-worker.js');
  });

  it('starts a .ts worker from sources, with workerData and messages passing through', async () => {
    const r = await ask({ echo: [1, 'two'] });
    expect(r).toEqual({ ok: true, echo: [1, 'two'], workerData: { n: 7 }, isTs: true });
  });

  it('carries a SpladexError code and message across the boundary', async () => {
    const r = await ask({ throw: 'spladex' });
    const err = fromWireError(r.error, 'fallback');
    expect(err).toBeInstanceOf(SpladexError);
    expect(err.code).toBe('CORRUPT_INDEX');
    expect(err.message).toBe('corrupt index file x: bad crc');
  });

  it('turns a plain error into INTERNAL with its message, and an unknown code into INTERNAL', async () => {
    const plain = fromWireError((await ask({ throw: 'plain' })).error, 'fallback');
    expect([plain.code, plain.message]).toEqual(['INTERNAL', 'Invalid typed array length: -1']);
    const odd = fromWireError((await ask({ throw: 'odd-code' })).error, 'fallback');
    expect([odd.code, odd.message]).toEqual(['INTERNAL', 'from a library']);
    expect(fromWireError(undefined, 'segment build failed').message).toBe('segment build failed');
  });

  it('starts a worker when node runs with V8 flags a worker refuses (--max-old-space-size, --expose-gc: ERR_WORKER_INVALID_EXEC_ARGV)', () => {
    // `node --max-old-space-size=… dist/main.js`, a usual production start, failed every search-pool, encoder-pool
    // and seal worker with "Initiated Worker with invalid execArgv flags" (a 500 on every pooled search).
    const script = [
      `import { once } from 'node:events';`,
      `import { startWorker } from ${JSON.stringify(new URL('../src/core/worker-thread.ts', import.meta.url).href)};`,
      `const w = startWorker(new URL(${JSON.stringify(new URL('./fixtures/workers/throwing-worker.ts', import.meta.url).href)}), { workerData: 1 });`,
      `w.postMessage({ echo: 'up' });`,
      `const [a] = await once(w, 'message');`,
      `console.log(JSON.stringify({ echo: a.echo, gc: typeof globalThis.gc }));`,
      `await w.terminate();`,
    ].join('\n');
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=512', '--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.stderr).not.toMatch(/invalid execArgv/);
    expect(r.status).toBe(0);
    // The flags still hold for the process (V8 flags are process-wide): the parent has gc, the worker answered.
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '')).toEqual({ echo: 'up', gc: 'function' });
  }, 60_000);

  it('rejects a failed LSA fit in a worker with a SpladexError (not a plain Error)', async () => {
    const err = await fitAndProjectLsa(['alpha beta', 'beta gamma'], { dim: 2 ** 40 }, 'worker').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpladexError);
    expect((err as SpladexError).code).toBe('INTERNAL');
    expect((err as SpladexError).message).toMatch(/length|size|memory/i);
  });
});
