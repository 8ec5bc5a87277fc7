/**
 * What the service may do to directories under its data dir (issue 11.4: a create used to `rm -rf` any directory
 * it had not loaded). The rules: only the holder of the data dir's lock touches it; nothing that could hold
 * someone's documents is removed or replaced, only what this service deletes on request, and that is first renamed
 * out of the collection namespace (`.trash-<name>-…`, which no collection name matches) so that a crash mid-removal
 * leaves no half-deleted collection; leftovers are removed at the next open.
 * Caller: spladex-service.ts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { COLLECTION_FILE } from './collection-file.js';

const TRASH_PREFIX = '.trash-';

/** Entries of `dir`, or null when it does not exist. */
export async function readDirOrNull(dir: string): Promise<string[] | null> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Why a collection directory without collection.json may hold data (then it must not be taken over), or null
 * when it is what an interrupted creation leaves: nothing, temp files of collection.json, and a store without
 * segment, delete or dictionary files (its WAL, if any, is checked by opening it: see createCollection).
 */
export async function strayContents(dir: string, entries: string[]): Promise<string | null> {
  const foreign = entries.filter((e) => e !== 'store' && !e.startsWith(`${COLLECTION_FILE}.tmp-`));
  if (foreign.length > 0) return `it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}`;
  if (!entries.includes('store')) return null;
  const store = (await readDirOrNull(path.join(dir, 'store'))) ?? [];
  const files = store.filter((e) => /^(seg-|del-|dict-)/.test(e));
  return files.length > 0 ? `its store holds ${files.length} segment files` : null;
}

/** Renames `<dataDir>/<name>` out of the collection namespace (atomic); returns the new path to remove. */
export async function moveToTrash(dataDir: string, name: string): Promise<string> {
  const trash = path.join(dataDir, `${TRASH_PREFIX}${name}-${process.pid}-${Date.now()}`);
  await fs.rename(path.join(dataDir, name), trash);
  return trash;
}

/** Removes what deletions interrupted by a crash left behind (only `.trash-*` entries, which this service made). */
export async function removeLeftoverTrash(dataDir: string, entries: string[]): Promise<void> {
  for (const e of entries) if (e.startsWith(TRASH_PREFIX)) await fs.rm(path.join(dataDir, e), { recursive: true, force: true });
}

/** `message` with `<dataDir>/` removed (absolute and as given), so errors name files relative to the data dir. */
export function relativeToDataDir(message: string, dataDir: string): string {
  const abs = path.resolve(dataDir);
  return message.split(`${abs}${path.sep}`).join('').split(`${dataDir}${path.sep}`).join('');
}
