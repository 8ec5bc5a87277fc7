/**
 * The encoder directories on disk as `spladex models list | rm` see them: each directory of the encoders dir with
 * an `encoder.json` (kind, dim, Hub `source` when pulled, bytes on disk), and removal of one (with the `NAME-query`
 * directory a pull wrote beside it). Removal renames to a hidden `.trash-NAME-<ms>` first, so a crash mid-way
 * leaves no half-deleted encoder under its name. Callers: src/cli/models-command.ts, ./pull.ts.
 */
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { SpladexError } from '../../core/errors.js';
import { ENCODER_NAME_RE, parseManifest, RESERVED_ENCODER_NAMES, type EncoderManifest } from '../manifest.js';

export interface LocalModel {
  name: string;
  kind: EncoderManifest['kind'] | undefined;
  dim: number | undefined;
  source: EncoderManifest['source'];
  queryEncoder: string | undefined;
  sizeBytes: number;
  /** Why the manifest cannot be read, if it cannot. */
  error?: string;
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? await dirBytes(p) : ((await stat(p).catch(() => undefined))?.size ?? 0);
  }
  return n;
}

/** The manifest of `encodersDir/name`, or undefined when there is no such directory; unreadable → `error`. */
export async function readPulledSource(encodersDir: string, name: string): Promise<LocalModel | undefined> {
  const dir = path.join(encodersDir, name);
  const st = await stat(dir).catch(() => undefined);
  if (st === undefined) return undefined;
  const base: LocalModel = {
    name,
    kind: undefined,
    dim: undefined,
    source: undefined,
    queryEncoder: undefined,
    sizeBytes: await dirBytes(dir),
  };
  try {
    const m = parseManifest(JSON.parse(await readFile(path.join(dir, 'encoder.json'), 'utf8')), name);
    return { ...base, kind: m.kind, dim: m.dim, source: m.source, queryEncoder: m.queryEncoder };
  } catch (e) {
    return { ...base, error: (e as Error).message };
  }
}

/** Every encoder directory (one holding encoder.json), sorted by name; reserved and hidden names are skipped. */
export async function listModels(encodersDir: string): Promise<LocalModel[]> {
  const out: LocalModel[] = [];
  const entries = await readdir(encodersDir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory() || RESERVED_ENCODER_NAMES.includes(e.name) || !ENCODER_NAME_RE.test(e.name)) continue;
    if ((await stat(path.join(encodersDir, e.name, 'encoder.json')).catch(() => undefined)) === undefined) continue;
    const m = await readPulledSource(encodersDir, e.name);
    if (m !== undefined) out.push(m);
  }
  return out;
}

/**
 * Removes `encodersDir/name` and, when a pull wrote it with the same source, its `name-query` sibling. Returns the
 * names removed. NOT_FOUND when there is no such encoder directory; INVALID_ARGUMENT for reserved or bad names.
 */
export async function removeModel(encodersDir: string, name: string): Promise<string[]> {
  if (RESERVED_ENCODER_NAMES.includes(name) || !ENCODER_NAME_RE.test(name)) {
    throw new SpladexError('INVALID_ARGUMENT', `"${name}" is not an encoder directory name`);
  }
  const main = await readPulledSource(encodersDir, name);
  if (main === undefined) throw new SpladexError('NOT_FOUND', `no encoder "${name}" in the encoders directory`);
  const names = [name];
  const q = main.queryEncoder === `${name}-query` ? await readPulledSource(encodersDir, main.queryEncoder) : undefined;
  if (q?.source !== undefined && main.source !== undefined && q.source.repo === main.source.repo) names.push(q.name);
  for (const n of names) {
    const trash = path.join(encodersDir, `.trash-${n}-${Date.now()}`);
    await rename(path.join(encodersDir, n), trash);
    await rm(trash, { recursive: true, force: true });
  }
  return names;
}
