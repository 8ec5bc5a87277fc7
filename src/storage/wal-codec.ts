/**
 * Binary payloads of write-ahead-log records (framing and files are in wal.ts). Vectors are the bulk of the
 * bytes, so they are copied as raw little-endian u32/f32 runs (4-byte aligned inside the payload) instead of JSON.
 *
 * Payload layout (little-endian, every field 4-byte aligned; strings are UTF-8 zero-padded to 4 bytes):
 *
 *   u8 kind (1 = upsert batch, 2 = delete batch), 3 bytes zero
 *   upsert:
 *     u32 dictFirstId   id of the first dictionary term added since the previous record
 *     u32 dictCount     number of such terms
 *     u32 numDocs
 *     dictCount × (u32 byteLength, bytes)
 *     numDocs × doc:
 *       u32 flags (bit0 title, bit1 text, bit2 metadata, bit3 dense)
 *       u32 idBytes, u32 titleBytes, u32 textBytes, u32 metadataBytes, u32 nnz, u32 denseLength
 *       id, title, text, metadata JSON (each padded to 4)
 *       u32[nnz] term ids, f32[nnz] values, f32[denseLength] dense
 *   delete:
 *     u32 count, count × (u32 byteLength, bytes)
 *
 * Replay is idempotent: upserts replace by id, deletes by id, and dictionary terms whose ids already exist are
 * skipped (dictFirstId tells where they start).
 */
import type { StoreDocument } from './store-types.js';
import { assert } from '../core/assert.js';

export type WalRecord = { kind: 'upsert'; dictFirstId: number; terms: string[]; docs: StoreDocument[] } | { kind: 'delete'; ids: string[] };

const KIND_UPSERT = 1;
const KIND_DELETE = 2;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Upper bound of a string's UTF-8 length (so the payload can be allocated before encoding). */
/** Writes each string as `u32 byte length, UTF-8 bytes`, padded to 4 bytes; returns the offset after them. */
function writeStrings(buf: Buffer, off: number, strings: readonly string[]): number {
  for (const str of strings) {
    const n = buf.write(str, off + 4, 'utf8');
    buf.writeUInt32LE(n, off);
    off = pad4(off + 4 + n);
  }
  return off;
}

/** Reads `count` strings written by `writeStrings`; `need` throws when a range runs past the record. */
function readStrings(buf: Buffer, off: number, count: number, need: (at: number, n: number) => void): { strings: string[]; off: number } {
  const strings: string[] = [];
  for (let i = 0; i < count; i++) {
    need(off, 4);
    const n = buf.readUInt32LE(off);
    need(off + 4, n);
    strings.push(buf.toString('utf8', off + 4, off + 4 + n));
    off = pad4(off + 4 + n);
  }
  return { strings, off };
}

function maxUtf8(s: string | undefined): number {
  return s === undefined ? 0 : pad4(s.length * 3);
}

/** Encodes an upsert batch; `terms` are dictionary terms `dictFirstId, dictFirstId+1, …` added since the last record. */
export function encodeUpsertRecord(docs: readonly StoreDocument[], dictFirstId: number, terms: readonly string[]): Buffer {
  let cap = 16;
  for (const t of terms) cap += 4 + maxUtf8(t);
  const metas: (string | undefined)[] = new Array(docs.length);
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i];
    const meta = d.metadata === undefined ? undefined : JSON.stringify(d.metadata);
    metas[i] = meta;
    cap += 28 + maxUtf8(d.id) + maxUtf8(d.title) + maxUtf8(d.text) + maxUtf8(meta);
    cap += 8 * d.vector.indices.length + 4 * (d.dense?.length ?? 0);
  }
  // A fresh ArrayBuffer: byteOffset 0, so 4-aligned payload offsets are 4-aligned in memory for typed views.
  const buf = Buffer.from(new ArrayBuffer(cap));
  buf[0] = KIND_UPSERT;
  buf.writeUInt32LE(dictFirstId, 4);
  buf.writeUInt32LE(terms.length, 8);
  buf.writeUInt32LE(docs.length, 12);
  let off = writeStrings(buf, 16, terms);
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i];
    const meta = metas[i];
    const nnz = d.vector.indices.length;
    const denseLen = d.dense?.length ?? 0;
    const head = off;
    off += 28;
    const idN = buf.write(d.id, off, 'utf8');
    off = pad4(off + idN);
    const titleN = d.title === undefined ? 0 : buf.write(d.title, off, 'utf8');
    off = pad4(off + titleN);
    const textN = d.text === undefined ? 0 : buf.write(d.text, off, 'utf8');
    off = pad4(off + textN);
    const metaN = meta === undefined ? 0 : buf.write(meta, off, 'utf8');
    off = pad4(off + metaN);
    new Uint32Array(buf.buffer, off, nnz).set(d.vector.indices);
    off += 4 * nnz;
    new Float32Array(buf.buffer, off, nnz).set(d.vector.values);
    off += 4 * nnz;
    if (d.dense !== undefined) new Float32Array(buf.buffer, off, denseLen).set(d.dense);
    off += 4 * denseLen;
    const flags =
      (d.title !== undefined ? 1 : 0) | (d.text !== undefined ? 2 : 0) | (meta !== undefined ? 4 : 0) | (d.dense !== undefined ? 8 : 0);
    buf.writeUInt32LE(flags, head);
    buf.writeUInt32LE(idN, head + 4);
    buf.writeUInt32LE(titleN, head + 8);
    buf.writeUInt32LE(textN, head + 12);
    buf.writeUInt32LE(metaN, head + 16);
    buf.writeUInt32LE(nnz, head + 20);
    buf.writeUInt32LE(denseLen, head + 24);
  }
  assert(off <= cap, 'wal record overflow');
  return buf.subarray(0, off);
}

/** Encodes a delete batch. */
export function encodeDeleteRecord(ids: readonly string[]): Buffer {
  let cap = 8;
  for (const id of ids) cap += 4 + maxUtf8(id);
  const buf = Buffer.alloc(cap);
  buf[0] = KIND_DELETE;
  buf.writeUInt32LE(ids.length, 4);
  return buf.subarray(0, writeStrings(buf, 8, ids));
}

/** Copies `n` 4-byte elements at `off` out of a possibly unaligned buffer. */
function copyU32(buf: Buffer, off: number, n: number): Uint32Array {
  const out = new Uint32Array(n);
  new Uint8Array(out.buffer).set(buf.subarray(off, off + 4 * n));
  return out;
}

function copyF32(buf: Buffer, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf.subarray(off, off + 4 * n));
  return out;
}

/**
 * Decodes a payload whose CRC already matched. Throws a plain Error on an impossible layout (the caller turns it
 * into CORRUPT_INDEX naming the file).
 */
export function decodeRecord(buf: Buffer): WalRecord {
  const need = (off: number, n: number) => {
    if (off + n > buf.length) throw new Error(`record field at ${off}+${n} overruns payload of ${buf.length} bytes`);
  };
  need(0, 8);
  const kind = buf[0];
  if (kind === KIND_DELETE) {
    return { kind: 'delete', ids: readStrings(buf, 8, buf.readUInt32LE(4), need).strings };
  }
  if (kind !== KIND_UPSERT) throw new Error(`unknown record kind ${kind}`);
  need(0, 16);
  const dictFirstId = buf.readUInt32LE(4);
  const dictCount = buf.readUInt32LE(8);
  const numDocs = buf.readUInt32LE(12);
  const read = readStrings(buf, 16, dictCount, need);
  const terms = read.strings;
  let off = read.off;
  const docs: StoreDocument[] = [];
  for (let i = 0; i < numDocs; i++) {
    need(off, 28);
    const flags = buf.readUInt32LE(off);
    const idN = buf.readUInt32LE(off + 4);
    const titleN = buf.readUInt32LE(off + 8);
    const textN = buf.readUInt32LE(off + 12);
    const metaN = buf.readUInt32LE(off + 16);
    const nnz = buf.readUInt32LE(off + 20);
    const denseLen = buf.readUInt32LE(off + 24);
    off += 28;
    const str = (n: number): string => {
      need(off, n);
      const s = buf.toString('utf8', off, off + n);
      off = pad4(off + n);
      return s;
    };
    const id = str(idN);
    const title = str(titleN);
    const text = str(textN);
    const meta = str(metaN);
    need(off, 8 * nnz + 4 * denseLen);
    const indices = copyU32(buf, off, nnz);
    off += 4 * nnz;
    const values = copyF32(buf, off, nnz);
    off += 4 * nnz;
    const dense = flags & 8 ? copyF32(buf, off, denseLen) : undefined;
    off += 4 * denseLen;
    const doc: StoreDocument = { id, vector: { indices, values } };
    if (flags & 1) doc.title = title;
    if (flags & 2) doc.text = text;
    if (flags & 4) doc.metadata = JSON.parse(meta) as Record<string, unknown>;
    if (dense !== undefined) doc.dense = dense;
    docs.push(doc);
  }
  return { kind: 'upsert', dictFirstId, terms, docs };
}

/**
 * True when `buf[off, off+len)` has the exact layout of an encoded payload (kind, padding, every length field
 * within bounds, ending exactly at `len`; `off` need not be aligned), without allocating. Replay uses it to look for valid records after a
 * bad one cheaply: nearly every offset inside other data fails here before its CRC would be computed.
 */
export function payloadLayoutFits(buf: Buffer, off: number, len: number): boolean {
  const end = off + len;
  if (len < 8 || end > buf.length || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) return false;
  const strings = (at: number, count: number): number => {
    for (let i = 0; i < count; i++) {
      if (at + 4 > end) return -1;
      at = off + pad4(at - off + 4 + buf.readUInt32LE(at));
      if (at > end) return -1;
    }
    return at;
  };
  const kind = buf[off];
  if (kind === KIND_DELETE) return strings(off + 8, buf.readUInt32LE(off + 4)) === end;
  if (kind !== KIND_UPSERT || len < 16) return false;
  const numDocs = buf.readUInt32LE(off + 12);
  let at = strings(off + 16, buf.readUInt32LE(off + 8));
  for (let i = 0; i < numDocs && at >= 0; i++) {
    if (at + 28 > end) return false;
    let next = at + 28;
    for (let f = 4; f <= 16; f += 4) next = off + pad4(next - off + buf.readUInt32LE(at + f));
    next += 8 * buf.readUInt32LE(at + 20) + 4 * buf.readUInt32LE(at + 24);
    at = next > end ? -1 : next;
  }
  return at === end;
}
