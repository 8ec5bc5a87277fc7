/**
 * The built package, as a user gets it: one incremental `npm run build`, one `npm pack` (its file list and size),
 * the tarball unpacked into a scratch project whose node_modules holds only spladex's production dependency
 * closure (symlinks into this repo's node_modules; no tsx, no TypeScript, no devDependencies), then under plain
 * `node`:
 * - the bin serves (`spladex serve`): the web page at `/`, a lexical collection with an LSA dense part (index,
 *   optimize: seal + LSA fit workers, hybrid query), an ONNX fixture collection (encode workers), and SIGINT frees
 *   the port; `spladex bench --threads 2` runs the parallel Seismic build workers;
 * - README's "Use as a library" example, and a TypeScript consumer type-checks against dist/lib.d.ts;
 * - `npm start` in the repo runs `node dist/main.js`, and SIGTERM to npm's PID frees the port within 5 s.
 * The real `npm install <tarball>` (registry, native builds) is too slow for every run; see notes/README.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'test', 'fixtures', 'models');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let scratch: string;
let pkgDir: string;
let packed: { size: number; unpackedSize: number; files: { path: string }[] };

/** Production dependency closure: top-level node_modules entries `npm ls --omit=dev` lists. */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await exec(NPM, ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, maxBuffer: 16 << 20 });
  const top = new Set<string>();
  for (const line of stdout.split('\n')) {
    const rel = path.relative(path.join(ROOT, 'node_modules'), line.trim());
    const m = /^((?:@[^/]+\/)?[^/]+)$/.exec(rel.split(path.sep).join('/'));
    if (m !== null && !rel.startsWith('..')) top.add(m[1]);
  }
  return [...top].sort();
}

/** Resolves with the port once the child logs "spladex listening" (JSON lines on stdout). */
function waitListening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        if (!line.includes('"spladex listening"')) continue;
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${err}${buf}`)));
  });
}

/** True once nothing accepts on the port (we can bind it ourselves). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field below
type Json = any;

async function json(port: number, method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  await exec(process.execPath, ['scripts/build.mjs', '--clean'], { cwd: ROOT });
  scratch = await mkdtemp(path.join(tmpdir(), 'spladex-pkg-'));
  // --ignore-scripts: prepack's clean rebuild is not needed right after the build above.
  const { stdout } = await exec(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  const info = (JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[])[0];
  packed = info;
  pkgDir = path.join(scratch, 'node_modules', 'spladex');
  await mkdir(pkgDir, { recursive: true });
  await exec('tar', ['xzf', path.join(scratch, info.filename), '-C', pkgDir, '--strip-components=1']);
  for (const name of await productionPackages()) {
    await mkdir(path.dirname(path.join(scratch, 'node_modules', name)), { recursive: true });
    await symlink(path.join(ROOT, 'node_modules', name), path.join(scratch, 'node_modules', name), 'dir');
  }
  await writeFile(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
}, 240_000);

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships dist (JS, declarations, workers, web page, bin) and no sources, tests or fixtures', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of [
      'dist/lib.js',
      'dist/lib.d.ts',
      'dist/main.js',
      'dist/cli/spladex.js',
      'dist/server/web/index.html',
      'dist/segment/seal-worker.js',
      'dist/encoders/encode-worker.js',
      'dist/encoders/lsa/lsa-fit-worker.js',
      'dist/seismic/build-worker.js',
      'package.json',
      'README.md',
      'LICENSE',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(f))).toEqual([]);
    expect(
      files.filter((f) => /\.test\.|\/hardening\/|\.onnx$|\.tsbuildinfo$/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    ).toEqual([]);
    // bytes, gzipped: code only (410 KB with cluster mode and the Hub client; it was 4.7 MB with test fixtures)
    expect(packed.size).toBeLessThan(600_000);
  });

  it('leaves tsx unresolvable in the scratch project', async () => {
    const r = await exec(
      process.execPath,
      ['--input-type=module', '-e', "import('tsx').then(() => console.log('found'), (e) => console.log(e.code))"],
      { cwd: scratch },
    );
    expect(r.stdout.trim()).toBe('ERR_MODULE_NOT_FOUND');
  });
});

describe('the bin under plain node', () => {
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [path.join(pkgDir, 'dist/cli/spladex.js'), 'serve', '--port', '0', '--data', path.join(scratch, 'data')],
      {
        cwd: scratch,
        env: { ...process.env, SPLADEX_ENCODERS_DIR: MODELS, SPLADEX_LOG_LEVEL: 'info', NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    port = await waitListening(child);
  }, 60_000);
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves the web page at / and its assets', async () => {
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script type="module"');
    expect(html).toBe(await readFile(path.join(ROOT, 'src/server/web/index.html'), 'utf8'));
    expect((await fetch(`http://127.0.0.1:${port}/web/app.js`)).status).toBe(200);
  });

  it('indexes, optimizes (seal and LSA fit workers) and answers an LSA hybrid query', async () => {
    expect((await json(port, 'PUT', '/v1/collections/lsa', { dense: { dim: 4, metric: 'cosine', encoder: 'lsa' } })).status).toBe(201);
    const texts = [
      'cats purr and chase mice around the house',
      'dogs bark at cats and chase them',
      'quantum computers factor integers with qubits',
      'qubits superposition quantum entanglement computers',
      'plants use sunlight for photosynthesis in leaves',
      'chlorophyll leaves sunlight photosynthesis plants',
    ];
    const up = await json(port, 'POST', '/v1/collections/lsa/documents', { documents: texts.map((text, i) => ({ id: `t${i}`, text })) });
    expect(up.body).toEqual({ indexed: 6, errors: [] });
    const opt = await json(port, 'POST', '/v1/collections/lsa/optimize');
    expect(opt.status).toBe(200);
    expect(opt.body.segments).toBe(1);
    const res = await json(port, 'POST', '/v1/collections/lsa/search', { query: 'quantum qubits', k: 2, hybrid: { alpha: 0.5 } });
    expect(res.status).toBe(200);
    expect(res.body.hits.map((h: { id: string }) => h.id).sort()).toEqual(['t2', 't3']);
  });

  it('indexes and searches with an ONNX fixture encoder (encode worker)', async () => {
    expect((await json(port, 'PUT', '/v1/collections/onnx', { encoder: 'bert-splade-pooled' })).status).toBe(201);
    const docs = [
      { id: 'a', text: 'Volcanoes erupt with lava and ash.' },
      { id: 'b', text: 'Cooking pasta needs boiling water.' },
    ];
    expect((await json(port, 'POST', '/v1/collections/onnx/documents', { documents: docs })).body).toEqual({ indexed: 2, errors: [] });
    // The fixture model has random weights: assert that the worker encoded (tokens, scores), not a ranking.
    const doc = await json(port, 'GET', '/v1/collections/onnx/documents/a?vector=true');
    expect(Object.keys(doc.body.vector.tokens).length).toBeGreaterThan(0);
    const res = await json(port, 'POST', '/v1/collections/onnx/search', { query: 'lava volcanoes', k: 2 });
    expect(res.status).toBe(200);
    expect(res.body.hits.map((h: { id: string }) => h.id).sort()).toEqual(['a', 'b']);
    expect(res.body.hits.every((h: { score: number }) => Number.isFinite(h.score) && h.score > 0)).toBe(true);
  });

  it('stops on SIGINT and frees the port', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const t0 = performance.now();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await portFree(port)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('runs the parallel Seismic build in worker threads (spladex bench --threads 2)', async () => {
    const out = path.join(scratch, 'bench');
    const r = await exec(
      process.execPath,
      [
        path.join(pkgDir, 'dist/cli/spladex.js'),
        'bench',
        '--docs',
        '2000',
        '--queries',
        '20',
        '--brute-queries',
        '5',
        '--threads',
        '2',
        '--out',
        out,
      ],
      { cwd: scratch, timeout: 120_000 },
    );
    expect(r.stdout).toContain('on 2 thread(s)');
    const summary = JSON.parse(await readFile(path.join(out, 'bench-2000.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(summary).length).toBeGreaterThan(0);
  }, 120_000);
});

describe('the library', () => {
  it('runs README\'s "Use as a library" example under plain node', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- library-example[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme);
    expect(m).not.toBeNull();
    const dir = path.join(scratch, 'example');
    await mkdir(dir);
    await writeFile(path.join(dir, 'example.mjs'), (m as RegExpExecArray)[1]);
    const r = await exec(process.execPath, ['example.mjs'], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^1 \d+\.\d{3}$/);
    expect(lines.slice(1)).toEqual(['NOT_FOUND', '200 2']);
  });

  it('type-checks a TypeScript consumer against the exported declarations', async () => {
    await symlink(path.join(ROOT, 'node_modules', '@types'), path.join(scratch, 'node_modules', '@types'), 'dir').catch(() => undefined);
    await writeFile(
      path.join(scratch, 'consumer.ts'),
      `
import { openSpladexService, buildApp, startServer, openCollectionStore, SpladexError, type ErrorCode, type SearchResponse, type SparseVector } from 'spladex';
const service = await openSpladexService({ dataDir: 'd', encodersDir: 'e' });
const res: SearchResponse = await service.search('c', { query: 'q', k: 3 });
const first: string | undefined = res.hits[0]?.id;
const app = await buildApp({ service, logger: undefined as never });
const store = await openCollectionStore({ dir: 's', config: { dim: 10, weighting: { kind: 'none' }, growableDictionary: false, metadataTypes: {}, memtableMaxDocs: 10 } });
const v: SparseVector = { indices: new Uint32Array([1]), values: new Float32Array([0.5]) };
store.search(v, { k: 1 } as never);
const code: ErrorCode = new SpladexError('NOT_FOUND', 'x').code;
const server = await startServer({}, { handleSignals: false });
// @ts-expect-error: hits are objects, not numbers (proves the types are real, not any)
const wrong: number = res.hits[0];
export { first, app, code, server, wrong };
`,
    );
    await writeFile(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: true,
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: scratch }).catch((e: { stdout: string }) => ({
      stdout: e.stdout,
      failed: true,
    }));
    expect(r.stdout).toBe('');
    expect('failed' in r).toBe(false);
  }, 60_000);
});

describe('npm start', () => {
  it("runs node dist/main.js, and SIGTERM to npm's PID frees the port within 5 s", async () => {
    const data = await mkdtemp(path.join(tmpdir(), 'spladex-start-'));
    try {
      const child = spawn(NPM, ['start'], {
        cwd: ROOT,
        env: { ...process.env, SPLADEX_PORT: '0', SPLADEX_DATA_DIR: data, SPLADEX_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const port = await waitListening(child);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const t0 = performance.now();
      child.kill('SIGTERM');
      await exited;
      let free = await portFree(port);
      while (!free && performance.now() - t0 < 5000) {
        await new Promise((r) => setImmediate(r));
        free = await portFree(port);
      }
      expect(free).toBe(true);
      expect(performance.now() - t0).toBeLessThan(5000);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 90_000);
});
