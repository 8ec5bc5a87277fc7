/**
 * The one hash of document ids that decides where a document goes: a cluster's shard (src/cluster/placement.ts)
 * and a single store's partition at optimize (src/storage/collection-store.ts, `index.partitions`). FNV-1a over
 * the UTF-8 bytes is fixed by its definition, so every process, version and platform agrees (a seeded or engine
 * hash would not), and a single process with `partitions = S` groups documents exactly as an S-shard cluster.
 */

/** 32-bit FNV-1a over the UTF-8 bytes of `s`, as an unsigned integer. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The partition (0 … count-1) of a document id: `fnv1a32(utf8(id)) mod count`; count ≥ 1. */
export function partitionOf(id: string, count: number): number {
  return fnv1a32(id) % count;
}
