/**
 * Generic "named typed-array sections" file: the on-disk container for every binary index file (segment forward
 * index, postings, id map, stored fields, dense vectors, optional Seismic parts, delete bitmaps, dictionary).
 * Callers hand in `Record<string, ArrayBufferView>` and get typed arrays back, viewing the file's bytes without
 * copies. Every file is checked end to end (length, magics, CRC32) before any section is handed out; a failed
 * check throws `CORRUPT_INDEX` naming the file.
 *
 * Byte layout (little-endian; every section starts on an 8-byte boundary; the file length is a multiple of 8):
 *
 *   offset  size  field
 *   0       8     magic "SPLXSEC\0"
 *   8       4     u32 format version (FORMAT_VERSION)
 *   12      4     u32 number of sections N
 *   16      16    kind: ASCII, NUL-padded (e.g. "forward", "postings", "deletes")
 *   32      56·N  section table, per section:
 *                   32  name, ASCII, NUL-padded (≤ 31 bytes)
 *                    4  u32 dtype: 0 u8, 1 u16, 2 u32, 3 i32, 4 f32, 5 f64, 6 i8, 7 i16
 *                    4  u32 reserved (0)
 *                    8  byte offset from file start (u32 low, u32 high)
 *                    8  byte length (u32 low, u32 high)
 *   ...           section bytes, each zero-padded to 8
 *   L-16    8     body length L-16 (u32 low, u32 high)
 *   L-8     4     u32 CRC32 (zlib.crc32) of bytes [0, L-16)
 *   L-4     4     footer magic "SEC\0"
 *
 * Writes go to `<name>.tmp`, are fsynced, renamed over the final name, and the directory is fsynced
 * (`writeSectionFileAtomic`); inside a segment's temp directory `writeSectionFile` only fsyncs, since the whole
 * directory is renamed at the end. Callers: segment-writer.ts, segment-reader.ts, collection-store.ts
 * (deletes, dictionary) and src/seismic/ (its `seismic` file).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { basename } from 'node:path';
import { asStorageError, corruptIndex, unreadableFile } from './errors.js';
import { assert } from './assert.js';
import { Wasm, type WasmMemory } from './wasm-api.js';
import { writeAll } from './atomic-file.js';

export const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('SPLXSEC\0', 'latin1');
const FOOTER_MAGIC = Buffer.from('SEC\0', 'latin1');
const HEADER_BYTES = 32;
const ENTRY_BYTES = 56;
const FOOTER_BYTES = 16;
const NAME_BYTES = 32;

/** A typed array that can live in a section. */
export type SectionArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array | Int8Array | Int16Array;

const CTORS = [Uint8Array, Uint16Array, Uint32Array, Int32Array, Float32Array, Float64Array, Int8Array, Int16Array] as const;

function dtypeOf(v: ArrayBufferView): number {
  for (let i = 0; i < CTORS.length; i++) if (v instanceof CTORS[i]) return i;
  // Buffers and DataViews are stored as raw bytes.
  return 0;
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v % 0x100000000, off);
  buf.writeUInt32LE(Math.floor(v / 0x100000000), off + 4);
}

function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 0x100000000;
}

/** Encodes sections into the list of buffers that make up the file (views, no copies of section bytes). */
export function encodeSectionFile(kind: string, sections: Record<string, ArrayBufferView>): Buffer[] {
  const names = Object.keys(sections);
  assert(Buffer.byteLength(kind, 'latin1') <= 16, `kind ${kind} too long`);
  const header = Buffer.alloc(HEADER_BYTES + ENTRY_BYTES * names.length);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.writeUInt32LE(names.length, 12);
  header.write(kind, 16, 'latin1');
  const parts: Buffer[] = [header];
  let off = pad8(header.length);
  const zeros = Buffer.alloc(8);
  if (off > header.length) parts.push(zeros.subarray(0, off - header.length));
  names.forEach((name, i) => {
    assert(Buffer.byteLength(name, 'latin1') < NAME_BYTES, `section name ${name} too long`);
    const v = sections[name];
    const e = HEADER_BYTES + ENTRY_BYTES * i;
    header.write(name, e, 'latin1');
    header.writeUInt32LE(dtypeOf(v), e + NAME_BYTES);
    writeU64(header, e + NAME_BYTES + 8, off);
    writeU64(header, e + NAME_BYTES + 16, v.byteLength);
    if (v.byteLength > 0) parts.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    const padded = pad8(v.byteLength);
    if (padded > v.byteLength) parts.push(zeros.subarray(0, padded - v.byteLength));
    off += padded;
  });
  let crc = 0;
  // zlib.crc32(empty, value) returns 0 for some values on Node 20.20 instead of `value`: skip empty parts.
  for (const p of parts) if (p.length > 0) crc = crc32(p, crc);
  const footer = Buffer.alloc(FOOTER_BYTES);
  writeU64(footer, 0, off);
  footer.writeUInt32LE(crc >>> 0, 8);
  FOOTER_MAGIC.copy(footer, 12);
  parts.push(footer);
  return parts;
}

/** Writes a section file at `path` and fsyncs it (no rename: for files inside a temp directory). */
export async function writeSectionFile(path: string, kind: string, sections: Record<string, ArrayBufferView>): Promise<number> {
  const parts = encodeSectionFile(kind, sections);
  let bytes = 0;
  try {
    const fh = await open(path, 'w');
    try {
      // A short write (ENOSPC) must fail, not leave a truncated file that is fsynced and renamed into place.
      bytes = await writeAll(fh, parts, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw asStorageError(err, basename(path));
  }
  return bytes;
}

/** Writes `path` atomically: temp file, fsync, rename, directory fsync. Returns the file size in bytes. */
export async function writeSectionFileAtomic(path: string, kind: string, sections: Record<string, ArrayBufferView>): Promise<number> {
  const tmp = `${path}.tmp`;
  let bytes: number;
  try {
    bytes = await writeSectionFile(tmp, kind, sections);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirnameOf(path));
  return bytes;
}

function dirnameOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : p.slice(0, i);
}

/** fsyncs a directory so a rename or create inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A parsed section file: typed-array views over its bytes, by section name. */
export interface SectionFile {
  readonly path: string;
  readonly kind: string;
  readonly sizeBytes: number;
  readonly sections: Map<string, SectionArray>;
  /** The shared WebAssembly memory every section is a view of (read with `wasm`), else absent. */
  readonly memory?: WasmMemory;
}

/** Options of `readSectionFile`. */
export interface ReadSectionOptions {
  /**
   * Read the bytes into a `SharedArrayBuffer`, so every section is a view other threads can be handed without a
   * copy (segment files: the search workers of src/segment/search-pool.ts view the same memory).
   */
  shared?: boolean;
  /**
   * With `shared`: read the bytes into a shared WebAssembly memory (its buffer is a SharedArrayBuffer), so wasm
   * kernels can read the sections in place (src/index/wasm-kernels.ts: forward.bin, seismic.bin). The memory is
   * `WASM_SCRATCH_PAGES` longer than it needs, for the kernels' scratch. A file past 32-bit addressing is read
   * into a plain SharedArrayBuffer instead (no `memory`).
   */
  wasm?: boolean;
}

/** 64 KiB pages a wasm-read file's memory can grow by (kernel scratch: ~2 pages per searcher of a 30k vocab). */
export const WASM_SCRATCH_PAGES = 1024;
/** The largest file read into a wasm memory (4 GiB of 32-bit addresses, less the scratch). */
const WASM_MAX_FILE = (65536 - WASM_SCRATCH_PAGES) * 65536;

/** Reads and verifies a section file. Throws CORRUPT_INDEX naming the file on any failed check or a wrong kind. */
export async function readSectionFile(path: string, expectedKind: string, options: ReadSectionOptions = {}): Promise<SectionFile> {
  let buf: Buffer;
  try {
    buf = options.shared === true ? await readShared(path, options.wasm === true) : await readFile(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  return withMemory(parseSectionFile(buf, path, expectedKind), buf);
}

/**
 * readSectionFile, blocking: for a parked segment opened on first use inside a synchronous search or get
 * (live-segment.ts). Same checks and errors.
 */
export function readSectionFileSync(path: string, expectedKind: string, options: ReadSectionOptions = {}): SectionFile {
  let buf: Buffer;
  try {
    buf = options.shared === true ? readSharedSync(path, options.wasm === true) : readFileSync(path);
  } catch (err) {
    throw unreadableFile(path, err);
  }
  return withMemory(parseSectionFile(buf, path, expectedKind), buf);
}

/** The memories of the buffers `sharedBytes` made, so the parsed file can carry its memory. */
const memoryOfBuffer = new WeakMap<ArrayBufferLike, WasmMemory>();

/**
 * `size` zeroed shared bytes at offset 0 (so every 8-aligned section stays aligned): a wasm memory's when `wasm`
 * and the file fits 32-bit addressing, else a plain SharedArrayBuffer.
 */
function sharedBytes(size: number, wasm: boolean): Buffer {
  if (wasm && size <= WASM_MAX_FILE) {
    const pages = Math.max(1, Math.ceil(size / 65536));
    let memory: WasmMemory | null = null;
    try {
      memory = new Wasm.Memory({ initial: pages, maximum: pages + WASM_SCRATCH_PAGES, shared: true });
    } catch (err) {
      // V8 reserves ~10 GiB of address space per wasm memory; past ~12k of them (the 128 TiB of user address
      // space) it refuses with a RangeError, and the file is read as plain shared bytes (JavaScript scoring).
      if (!(err instanceof RangeError)) throw err;
    }
    if (memory !== null) {
      memoryOfBuffer.set(memory.buffer, memory);
      return Buffer.from(memory.buffer, 0, size);
    }
  }
  return Buffer.from(new SharedArrayBuffer(size));
}

/** `file` with the memory its bytes `buf` live in, when they live in one (and the sections are views of it). */
function withMemory(file: SectionFile, buf: Buffer): SectionFile {
  const memory = memoryOfBuffer.get(buf.buffer);
  if (memory === undefined) return file;
  for (const v of file.sections.values()) if (v.buffer !== buf.buffer) return file;
  return { ...file, memory };
}

/** The whole file in fresh shared bytes (`sharedBytes`). */
async function readShared(path: string, wasm: boolean): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = sharedBytes(size, wasm);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    // A file cut short while being read parses as truncated.
    return buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

function readSharedSync(path: string, wasm: boolean): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = sharedBytes(size, wasm);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** Verifies and parses a section file's bytes. `path` is only used in error messages. */
export function parseSectionFile(input: Buffer, path: string, expectedKind: string): SectionFile {
  // Typed-array views need aligned offsets: readFile gives a fresh ArrayBuffer, but copy when it does not.
  let buf = input;
  if (input.byteOffset % 8 !== 0) {
    const copy = new Uint8Array(input.length);
    copy.set(input);
    buf = Buffer.from(copy.buffer);
  }
  const len = buf.length;
  const bad = (why: string) => corruptIndex(path, why);
  if (len < HEADER_BYTES + FOOTER_BYTES || len % 8 !== 0) throw bad(`truncated or wrong size (${len} bytes)`);
  if (!buf.subarray(len - 4).equals(FOOTER_MAGIC)) throw bad('bad footer magic (truncated?)');
  const body = readU64(buf, len - 16);
  if (body !== len - FOOTER_BYTES) throw bad(`footer length ${body} does not match file size ${len}`);
  const want = buf.readUInt32LE(len - 8);
  const got = crc32(buf.subarray(0, body)) >>> 0;
  if (want !== got) throw bad(`checksum mismatch (stored ${want.toString(16)}, computed ${got.toString(16)})`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw bad('bad magic');
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) throw bad(`unsupported format version ${version}`);
  const n = buf.readUInt32LE(12);
  const kind = cString(buf, 16, 16);
  if (kind !== expectedKind) throw bad(`kind is "${kind}", expected "${expectedKind}"`);
  if (HEADER_BYTES + ENTRY_BYTES * n > body) throw bad(`section table of ${n} entries overruns the file`);
  const sections = new Map<string, SectionArray>();
  for (let i = 0; i < n; i++) {
    const e = HEADER_BYTES + ENTRY_BYTES * i;
    const name = cString(buf, e, NAME_BYTES);
    const dtype = buf.readUInt32LE(e + NAME_BYTES);
    const off = readU64(buf, e + NAME_BYTES + 8);
    const bytes = readU64(buf, e + NAME_BYTES + 16);
    const Ctor = CTORS[dtype];
    if (Ctor === undefined) throw bad(`section ${name} has unknown dtype ${dtype}`);
    if (off % 8 !== 0 || off + bytes > body || bytes % Ctor.BYTES_PER_ELEMENT !== 0) {
      throw bad(`section ${name} is out of bounds or misaligned`);
    }
    sections.set(name, new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset + off, bytes / Ctor.BYTES_PER_ELEMENT));
  }
  return { path, kind, sizeBytes: len, sections };
}

function cString(buf: Buffer, off: number, max: number): string {
  let end = off;
  while (end < off + max && buf[end] !== 0) end++;
  return buf.toString('latin1', off, end);
}

type CtorOf<T> = { new (...args: never[]): T; readonly BYTES_PER_ELEMENT: number };

/** The section `name` as an array of type `ctor`; CORRUPT_INDEX naming the file when missing or of another type. */
export function getSection<T extends SectionArray>(file: SectionFile, name: string, ctor: CtorOf<T>): T {
  const s = file.sections.get(name);
  if (s === undefined) throw corruptIndex(file.path, `missing section ${name}`);
  if (!(s instanceof (ctor as unknown as typeof Uint8Array))) {
    throw corruptIndex(file.path, `section ${name} has type ${s.constructor.name}, expected ${ctor.name}`);
  }
  return s as T;
}

/** Like getSection, but undefined when absent. */
export function getOptionalSection<T extends SectionArray>(file: SectionFile, name: string, ctor: CtorOf<T>): T | undefined {
  return file.sections.has(name) ? getSection(file, name, ctor) : undefined;
}

/** The file's base name (for logs). */
export function fileLabel(path: string): string {
  return basename(path);
}
