/**
 * The dependency rule (`npm run lint:deps`, .dependency-cruiser.cjs) passes on today's tree with 0 violations (no
 * baseline, no ignore list), and fails as soon as a new one appears: run on a copy of src/ with one added file in
 * src/core/ that imports src/search/ (core is the bottom layer).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

let dir: string;

async function cruise(): Promise<{ code: number; out: string }> {
  const args = [DEPCRUISE, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'];
  try {
    const r = await exec(process.execPath, args, { cwd: dir });
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: err.stdout };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spladex-deprule-'));
  for (const f of ['src', '.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) {
    await cp(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dependency rule', () => {
  it('passes on the current tree with 0 violations', async () => {
    const r = await cruise();
    expect(r.out).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  }, 60_000);

  it('fails when core imports search', async () => {
    await writeFile(path.join(dir, 'src', 'core', 'new-violation.ts'), "export { explainHit } from '../search/explain.js';\n");
    const r = await cruise();
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('layer-core: src/core/new-violation.ts → src/search/explain.ts');
  }, 60_000);

  it('fails when a kernel folder imports an encoder (the engine and encoders never meet)', async () => {
    await writeFile(path.join(dir, 'src', 'segment', 'new-violation.ts'), "export { tokenize } from '../encoders/lexical/tokenizer.js';\n");
    const r = await cruise();
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('layer-segment: src/segment/new-violation.ts → src/encoders/lexical/tokenizer.ts');
  }, 60_000);
});
