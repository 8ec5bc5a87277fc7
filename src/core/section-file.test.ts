import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSection, readSectionFile, writeSectionFileAtomic } from './section-file.js';
import { acquireDirLock, readLockHolder } from '../storage/lock.js';
import { OrdBitmap } from '../filter/bitmap.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'spladex-fmt-'));
  dirs.push(d);
  return d;
}

describe('section files', () => {
  it('round-trips every dtype, 8-byte aligned, and rejects a wrong kind or any flipped byte', async () => {
    const path = join(tmp(), 'x.bin');
    const sections = {
      a: Uint8Array.of(1, 2, 3),
      b: Uint16Array.of(65535, 7),
      c: Uint32Array.of(4294967295),
      d: Int32Array.of(-5),
      e: Float32Array.of(1.5, -0),
      f: Float64Array.of(Math.PI),
      g: Int8Array.of(-1),
      h: Int16Array.of(-300),
      empty: new Uint32Array(0),
    };
    const size = await writeSectionFileAtomic(path, 'test', sections);
    expect(size % 8).toBe(0);
    const f = await readSectionFile(path, 'test');
    for (const [name, arr] of Object.entries(sections)) {
      const got = f.sections.get(name)!;
      expect(got.constructor).toBe(arr.constructor);
      expect(Array.from(got as ArrayLike<number>)).toEqual(Array.from(arr as ArrayLike<number>));
      expect(got.byteOffset % 8).toBe(0);
    }
    expect(getSection(f, 'f', Float64Array)[0]).toBe(Math.PI);
    expect(() => getSection(f, 'f', Float32Array)).toThrow(/x\.bin.*section f has type Float64Array/);
    await expect(readSectionFile(path, 'other')).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    const bytes = readFileSync(path);
    for (let at = 0; at < bytes.length; at += 7) {
      const copy = Buffer.from(bytes);
      copy[at] ^= 0x10;
      writeFileSync(path, copy);
      await expect(readSectionFile(path, 'test'), `byte ${at}`).rejects.toMatchObject({
        code: 'CORRUPT_INDEX',
        message: expect.stringContaining('x.bin'),
      });
    }
  });
});

describe('bitmap', () => {
  it('serialises, and converts to a dense bitset', () => {
    const b = OrdBitmap.fromOrds([0, 31, 32, 1000]);
    expect(b.add(5)).toBe(true);
    expect(b.add(5)).toBe(false);
    const c = OrdBitmap.deserialize(b.serialize());
    expect(Array.from(c.toArray())).toEqual([0, 5, 31, 32, 1000]);
    const dense = c.toDenseBitset(40);
    expect(Array.from(dense)).toEqual([(1 | (1 << 5) | (1 << 31)) >>> 0, 1]);
  });
});

describe('data-dir lock', () => {
  it('is exclusive while held, released on release, and a dead pid is taken over', async () => {
    const dir = tmp();
    const lock = await acquireDirLock(dir);
    await expect(acquireDirLock(dir)).rejects.toMatchObject({ code: 'BUSY', message: expect.stringContaining(String(process.pid)) });
    await lock.release();
    writeFileSync(join(dir, 'LOCK'), '2147483646\n'); // no such process
    const again = await acquireDirLock(dir);
    expect(readLockHolder(readFileSync(join(dir, 'LOCK'), 'utf8'))?.pid).toBe(process.pid);
    await again.release();
  });
});
