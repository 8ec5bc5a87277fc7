/**
 * Crash-safe small-file replacement: write to a temp name, fsync it, rename over the target, fsync the
 * directory. After a crash the target holds either the old or the new bytes, never a mix.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** fsync a directory so a rename or create inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
