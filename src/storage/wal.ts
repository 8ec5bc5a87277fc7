/**
 * Write-ahead log files: append-only, one file per generation (`wal-<gen>.log`, gen zero-padded to 8 digits).
 * `WalWriter` appends records with group commit: every `append` resolves only after an fdatasync that covers its
 * record, and appends that arrive while a sync is in flight share the next one. Each record's `apply` callback
 * runs in log order right after that sync, so the in-memory state is changed in exactly the order of the log.
 * Every append writes all its bytes at the writer's known end of file (`writeAll`: a short write is an error,
 * never acknowledged). When a write or sync fails, the file is truncated back to the end of the last good
 * record before anything else is appended, so no half record stays visible. ENOSPC/EDQUOT then reject that
 * batch with STORAGE_FULL and the writer keeps working (the next append succeeds once space is free); any other
 * failure poisons the writer. `replayWal` reads a generation back, truncating a torn tail.
 *
 * File layout (little-endian):
 *   0   8  magic "SPLXWAL\0"
 *   8   4  u32 version (1)
 *   12  4  u32 generation
 *   16  …  records: u32 payload length, u32 CRC32 (zlib.crc32) of the payload, payload (wal-codec.ts)
 *
 * Torn tail rule: a crash can only damage the last write (one group commit), and a failed append is truncated
 * away. A bad record at offset p (partial header, zero length, length past the end, CRC mismatch) is a torn tail
 * — truncated away with a warn log — only when no valid record (a layout that fits, a matching CRC) starts at
 * any offset after p. Otherwise the damage is in the middle of the log, and truncating it would silently drop
 * acknowledged records: CORRUPT_INDEX naming the file and both offsets. (Missing generations are checked by
 * `checkWalGenerations` at the store's open: they must run without a gap from the manifest's generation.)
 */
import { open, rm, truncate, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { corruptIndex, isOutOfSpace, SpladexError, storageFull } from '../core/errors.js';
import { writeAll } from '../core/atomic-file.js';
import { decodeRecord, payloadLayoutFits, type WalRecord } from './wal-codec.js';
import { fsyncDir } from '../core/section-file.js';

const MAGIC = Buffer.from('SPLXWAL\0', 'latin1');
const HEADER_BYTES = 16;
const VERSION = 1;

/** Path of WAL generation `gen` inside `dir`. */
export function walPath(dir: string, gen: number): string {
  return join(dir, `wal-${String(gen).padStart(8, '0')}.log`);
}

/** Parses a WAL file name; undefined when it is not one. */
export function parseWalName(name: string): number | undefined {
  const m = /^wal-(\d{8,})\.log$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/**
 * WAL generations on disk must run from the manifest's `walGeneration` without a gap: everything acknowledged
 * since the last manifest is in them, so a missing one (deleted, or lost) would silently drop acknowledged
 * writes. CORRUPT_INDEX naming the missing file.
 */
export function checkWalGenerations(dir: string, first: number, gens: readonly number[]): void {
  if (gens.length === 0 || gens[0] !== first) {
    throw corruptIndex(
      walPath(dir, first),
      'missing: the manifest names this write-ahead log generation as current, and acknowledged writes may be in it',
    );
  }
  for (let i = 1; i < gens.length; i++) {
    if (gens[i] !== gens[i - 1] + 1) {
      throw corruptIndex(
        walPath(dir, gens[i - 1] + 1),
        `missing: write-ahead log generations ${gens[i - 1]} and ${gens[i]} exist, with a gap between them`,
      );
    }
  }
}

type QueueItem =
  | {
      kind: 'record';
      payload: Buffer | (() => Buffer);
      apply: () => unknown;
      rollback: (() => void) | undefined;
      resolve: (v: unknown) => void;
      reject: (e: unknown) => void;
    }
  | { kind: 'rotate'; gen: number; onRotated: () => void; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/** Appends records to the current generation; see the file comment for ordering guarantees. */
export class WalWriter {
  private fh: FileHandle;
  private readonly dir: string;
  private gen: number;
  private queue: QueueItem[] = [];
  private flushing = false;
  private failed: unknown = null;
  private sizeBytes: number;
  /** Called with each group commit's write + fdatasync time, seconds (metrics; set by the store). */
  onSync: ((seconds: number) => void) | null = null;

  private constructor(dir: string, gen: number, fh: FileHandle, sizeBytes: number) {
    this.dir = dir;
    this.gen = gen;
    this.fh = fh;
    this.sizeBytes = sizeBytes;
  }

  /** Creates (or reopens for append, when `existingBytes` is given) generation `gen` in `dir`. */
  static async open(dir: string, gen: number, existingBytes?: number): Promise<WalWriter> {
    if (existingBytes !== undefined) {
      // Not 'a' (O_APPEND): writes go to explicit offsets, so a failed append can be truncated and rewritten.
      const fh = await open(walPath(dir, gen), 'r+');
      return new WalWriter(dir, gen, fh, existingBytes);
    }
    const fh = await createWalFile(dir, gen);
    return new WalWriter(dir, gen, fh, HEADER_BYTES);
  }

  get generation(): number {
    return this.gen;
  }

  /** Bytes in the current generation's file. */
  get bytes(): number {
    return this.sizeBytes;
  }

  /**
   * Appends one record; resolves with `apply()`'s result after the record is fsynced and `apply` ran.
   * `payload` may be a function: it is then encoded when its batch is written, in log order (the store encodes
   * dictionary terms that way). When the write fails the file is cut back, `rollback` runs (newest record first)
   * before any later record is encoded, and the append rejects: STORAGE_FULL when the volume is full (the
   * writer stays usable), otherwise an error that poisons the writer (later appends reject too).
   */
  append<T>(payload: Buffer | (() => Buffer), apply: () => T, rollback?: () => void): Promise<T> {
    if (this.failed !== null) return Promise.reject(this.writerFailed());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind: 'record', payload, apply, rollback, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushing) void this.flushLoop();
    });
  }

  /**
   * Switches to generation `gen` after every record appended before this call is durable and applied;
   * `onRotated` runs synchronously at the switch, before any later record is applied.
   */
  rotate(gen: number, onRotated: () => void): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.writerFailed());
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'rotate', gen, onRotated, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushing) void this.flushLoop();
    });
  }

  /** Waits for queued work, then closes the file. */
  async close(): Promise<void> {
    // Items run in queue order, so once the barrier resolves every earlier append is durable and applied.
    if (this.failed === null) await this.rotateBarrier();
    this.failed ??= new SpladexError('INTERNAL', 'closed');
    await this.fh.close();
  }

  private rotateBarrier(): Promise<void> {
    // A rotate to the same generation is a no-op switch used as a queue barrier.
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'rotate', gen: this.gen, onRotated: () => {}, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushing) void this.flushLoop();
    });
  }

  private writerFailed(): SpladexError {
    return new SpladexError('INTERNAL', `write-ahead log ${walPath(this.dir, this.gen)} failed earlier; reopen the collection`, {
      cause: this.failed,
    });
  }

  /**
   * Processes the queue in order. Applying a synced batch (memtable inserts: CPU) overlaps with the write and
   * sync of the next batch (I/O): the next write is started before the previous batch is applied. Applies still
   * run strictly in log order, and a rotation runs only after every earlier batch is applied.
   */
  private async flushLoop(): Promise<void> {
    this.flushing = true;
    let synced: RecordItem[] | null = null;
    try {
      for (;;) {
        let writing: Promise<boolean> | null = null;
        let batch: RecordItem[] | null = null;
        if (this.queue.length > 0 && this.queue[0].kind === 'record' && this.failed === null) {
          let n = 0;
          while (n < this.queue.length && this.queue[n].kind === 'record') n++;
          batch = this.queue.splice(0, n) as RecordItem[];
          writing = this.writeBatch(batch);
        }
        if (synced !== null) {
          applyAll(synced);
          synced = null;
        }
        if (writing !== null) {
          if (await writing) synced = batch;
          continue;
        }
        const head = this.queue[0];
        if (head === undefined) break;
        this.queue.shift();
        if (this.failed !== null) head.reject(this.writerFailed());
        else if (head.kind === 'rotate') await this.switchTo(head);
      }
    } finally {
      if (synced !== null) applyAll(synced);
      this.flushing = false;
    }
  }

  /**
   * Writes and syncs a batch at the end of the last good record. On failure cuts the file back to that end; a
   * full volume rejects only this batch (STORAGE_FULL), anything else (or a failed cut) poisons the writer and
   * rejects everything queued.
   */
  private async writeBatch(batch: RecordItem[]): Promise<boolean> {
    const parts: Buffer[] = [];
    const written: RecordItem[] = [];
    for (const item of batch) {
      let payload: Buffer;
      try {
        payload = typeof item.payload === 'function' ? item.payload() : item.payload;
      } catch (err) {
        item.reject(err);
        continue;
      }
      const head = Buffer.allocUnsafe(8);
      head.writeUInt32LE(payload.length, 0);
      head.writeUInt32LE(crc32(payload) >>> 0, 4);
      parts.push(head, payload);
      written.push(item);
    }
    batch.length = 0;
    batch.push(...written);
    if (batch.length === 0) return false;
    const start = this.sizeBytes;
    try {
      const t0 = performance.now();
      const bytes = await writeAll(this.fh, parts, start);
      await this.fh.datasync();
      this.onSync?.((performance.now() - t0) / 1000);
      this.sizeBytes = start + bytes;
      return true;
    } catch (err) {
      for (let i = batch.length - 1; i >= 0; i--) batch[i].rollback?.();
      let cut = false;
      try {
        await this.fh.truncate(start);
        await this.fh.datasync();
        cut = true;
      } catch {
        // Leaves a record that may be half written: the writer must not append after it.
      }
      if (cut && isOutOfSpace(err)) {
        const full = storageFull(`the write-ahead log (${basename(walPath(this.dir, this.gen))})`, err);
        for (const item of batch) item.reject(full);
        return false;
      }
      this.failed = err;
      for (const item of batch) item.reject(this.writerFailed());
      for (const item of this.queue.splice(0)) item.reject(this.writerFailed());
      return false;
    }
  }

  private async switchTo(item: Extract<QueueItem, { kind: 'rotate' }>): Promise<void> {
    if (item.gen === this.gen) {
      item.onRotated();
      item.resolve(undefined);
      return;
    }
    try {
      const fh = await createWalFile(this.dir, item.gen);
      await this.fh.close();
      this.fh = fh;
      this.gen = item.gen;
      this.sizeBytes = HEADER_BYTES;
      item.onRotated();
      item.resolve(undefined);
    } catch (err) {
      item.reject(err);
    }
  }
}

type RecordItem = Extract<QueueItem, { kind: 'record' }>;

function applyAll(batch: RecordItem[]): void {
  for (const item of batch) {
    try {
      item.resolve(item.apply());
    } catch (err) {
      item.reject(err);
    }
  }
}

/** Creates generation `gen` with its header; on failure (ENOSPC) removes it, so a later rotation can retry. */
async function createWalFile(dir: string, gen: number): Promise<FileHandle> {
  const path = walPath(dir, gen);
  const fh = await open(path, 'wx');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(VERSION, 8);
    header.writeUInt32LE(gen, 12);
    await writeAll(fh, [header], 0);
    await fh.sync();
    await fsyncDir(dir);
    return fh;
  } catch (err) {
    await fh.close();
    await rm(path, { force: true });
    throw isOutOfSpace(err) ? storageFull(`the write-ahead log (${basename(path)})`, err) : err;
  }
}

/** Result of replaying one generation. */
export interface WalReplay {
  records: number;
  /** File size after any truncation (where appends continue). */
  sizeBytes: number;
  truncatedBytes: number;
}

/**
 * Reads generation file `path`, calling `onRecord` for each valid record in order. A torn tail is truncated
 * (warn log); other damage throws CORRUPT_INDEX naming the file. Reads in 16 MiB chunks.
 */
export async function replayWal(path: string, logger: Logger, onRecord: (r: WalRecord) => void): Promise<WalReplay> {
  const fh = await open(path, 'r');
  let size: number;
  let records = 0;
  let badAt = -1;
  let badWhy = '';
  try {
    size = (await fh.stat()).size;
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(header, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES || !header.subarray(0, 8).equals(MAGIC)) {
      // A crash between create and the header's fsync leaves an empty/partial header: nothing was logged yet.
      if (size < HEADER_BYTES && header.subarray(0, bytesRead).every((b, i) => b === MAGIC[i] || b === 0)) {
        badAt = 0;
        badWhy = 'incomplete header';
      } else throw corruptIndex(path, 'bad WAL header');
    } else if (header.readUInt32LE(8) !== VERSION) throw corruptIndex(path, `unsupported WAL version ${header.readUInt32LE(8)}`);
    let pos = badAt === 0 ? size : HEADER_BYTES;
    const chunk = { buf: Buffer.alloc(0), start: 0 };
    const readAt = async (at: number, n: number): Promise<Buffer> => {
      if (at >= chunk.start && at + n <= chunk.start + chunk.buf.length) return chunk.buf.subarray(at - chunk.start, at - chunk.start + n);
      const len = Math.max(n, 16 << 20);
      const buf = Buffer.allocUnsafe(Math.min(len, size - at));
      const r = await fh.read(buf, 0, buf.length, at);
      chunk.buf = buf.subarray(0, r.bytesRead);
      chunk.start = at;
      return chunk.buf.subarray(0, Math.min(n, r.bytesRead));
    };
    while (pos < size) {
      if (size - pos < 8) {
        badAt = pos;
        badWhy = 'partial record header';
        break;
      }
      const head = await readAt(pos, 8);
      const len = head.readUInt32LE(0);
      const crc = head.readUInt32LE(4);
      if (len === 0 || pos + 8 + len > size) {
        badAt = pos;
        badWhy = len === 0 ? 'zero-length record' : 'record runs past end of file';
        break;
      }
      const payload = await readAt(pos + 8, len);
      if (crc32(payload) >>> 0 !== crc) {
        badAt = pos;
        badWhy = 'checksum mismatch';
        break;
      }
      let rec: WalRecord;
      try {
        rec = decodeRecord(payload);
      } catch (err) {
        throw corruptIndex(path, `undecodable record at offset ${pos}: ${(err as Error).message}`);
      }
      onRecord(rec);
      records++;
      pos += 8 + len;
    }
    if (badAt > 0) {
      const next = await findValidRecord(fh, badAt + 1, size);
      if (next >= 0) {
        throw corruptIndex(path, `${badWhy} at offset ${badAt}, but a valid record follows at offset ${next} (not a torn tail)`);
      }
    }
  } finally {
    await fh.close();
  }
  if (badAt >= 0) {
    logger.warn({ file: path, offset: badAt, droppedBytes: size - badAt, why: badWhy }, 'discarding torn tail of write-ahead log');
    await truncate(path, badAt);
    const t = await open(path, 'r+');
    try {
      if (badAt === 0) {
        const header = Buffer.alloc(HEADER_BYTES);
        MAGIC.copy(header, 0);
        header.writeUInt32LE(VERSION, 8);
        const gen = parseWalName(path.slice(path.lastIndexOf('/') + 1)) ?? 0;
        header.writeUInt32LE(gen, 12);
        await writeAll(t, [header], 0);
      }
      await t.sync();
    } finally {
      await t.close();
    }
    const newSize = badAt === 0 ? HEADER_BYTES : badAt;
    return { records, sizeBytes: newSize, truncatedBytes: size - badAt };
  }
  return { records, sizeBytes: size, truncatedBytes: 0 };
}

/**
 * Offset of the first valid record (its layout fits, its CRC matches, it decodes) starting at or after `from`,
 * or -1. Tries every byte offset: the damage before it may have any length. Reads the tail at once (a WAL
 * generation is bounded by the memtable); `payloadLayoutFits` rejects nearly every offset before a CRC is run.
 */
async function findValidRecord(fh: FileHandle, from: number, size: number): Promise<number> {
  if (size - from < 16) return -1;
  const tail = Buffer.allocUnsafe(size - from);
  let got = 0;
  while (got < tail.length) {
    const { bytesRead } = await fh.read(tail, got, tail.length - got, from + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  for (let k = 0; k + 16 <= got; k++) {
    const len = tail.readUInt32LE(k);
    if (len < 8 || k + 8 + len > got || !payloadLayoutFits(tail, k + 8, len)) continue;
    const payload = tail.subarray(k + 8, k + 8 + len);
    if (crc32(payload) >>> 0 !== tail.readUInt32LE(k + 4)) continue;
    try {
      decodeRecord(payload);
      return from + k;
    } catch {
      // a layout that fits by chance but does not decode: keep looking
    }
  }
  return -1;
}
