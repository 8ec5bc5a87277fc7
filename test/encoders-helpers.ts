/**
 * Shared helpers for the encoder tests (test/encoders-*.test.ts): the fixture directory, the PyTorch reference
 * file written by scripts/make-fixtures.py, comparison against reference vectors, and copying a fixture encoder
 * into a temp directory with a modified manifest.
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SparseVector } from '../src/core/sparse-vector.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');

export interface RefSparse {
  indices: number[];
  values: number[];
}

export interface RefEncoder {
  kind: 'splade' | 'echo' | 'idf' | 'dense';
  dim: number;
  specialIds?: number[];
  tokenIds?: number[][];
  poolingMasks?: number[][];
  vectors: RefSparse[] | number[][];
  rawVectors?: RefSparse[];
  chunked32?: RefSparse[];
  topK?: number;
}

export interface References {
  texts: string[];
  maxLength: number;
  encoders: Record<string, RefEncoder>;
}

export function loadReferences(): References {
  return JSON.parse(readFileSync(path.join(FIXTURES, 'references.json'), 'utf8')) as References;
}

/** Differences between a TS sparse vector and a reference: ids in one but not the other, and max |Δw| on shared ids. */
export function compareSparse(got: SparseVector, ref: RefSparse): { onlyGot: number[]; onlyRef: number[]; maxAbsErr: number } {
  const refMap = new Map(ref.indices.map((id, k) => [id, ref.values[k]]));
  const gotIds = new Set(got.indices);
  const onlyGot = Array.from(got.indices).filter((id) => !refMap.has(id));
  const onlyRef = ref.indices.filter((id) => !gotIds.has(id));
  let maxAbsErr = 0;
  for (let k = 0; k < got.indices.length; k++) {
    const r = refMap.get(got.indices[k]);
    if (r !== undefined) maxAbsErr = Math.max(maxAbsErr, Math.abs(got.values[k] - r));
  }
  return { onlyGot, onlyRef, maxAbsErr };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

/**
 * Copies fixture encoder `name` into a fresh temp encoders dir as `as`, applying `edit` to its encoder.json.
 * Returns the encoders dir.
 */
export async function copyFixture(
  name: string,
  as: string,
  edit: (manifest: Record<string, unknown>) => void = () => {},
  encodersDir?: string,
): Promise<string> {
  const root = encodersDir ?? (await mkdtemp(path.join(os.tmpdir(), 'spladex-enc-')));
  const dir = path.join(root, as);
  await cp(path.join(FIXTURES, name), dir, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(dir, 'encoder.json'), 'utf8')) as Record<string, unknown>;
  edit(manifest);
  await writeFile(path.join(dir, 'encoder.json'), JSON.stringify(manifest, null, 2));
  return root;
}
