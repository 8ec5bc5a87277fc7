/**
 * Where documents and shard replicas go, as pure functions (no I/O), so every node computes the same answer:
 * - a document goes to shard `fnv1a32(utf8(id)) mod shards` (FNV-1a over the UTF-8 bytes: stable across
 *   processes, versions and platforms, unlike a seeded or engine hash);
 * - a shard's replicas are the `replicas` members with the highest rendezvous weight `fnv1a32(collection/shard/node)`
 *   (highest-random-weight hashing: removing a member only moves the shards it held; adding one moves ~1/n).
 * Called by the cluster node at collection creation (the result is stored in the catalog, then kept) and by the
 * write path for every document.
 */
import { fnv1a32, partitionOf } from '../core/id-hash.js';

/** The shard (0 … shards-1) of a document id (core/id-hash.ts: the same function as a store's partitions). */
export function shardOf(id: string, shards: number): number {
  return partitionOf(id, shards);
}

/**
 * For each shard, the node ids hosting its replicas, best first: the `replicas` highest rendezvous weights among
 * `members` (fewer when there are fewer members). Ties (a 32-bit collision) break by node id.
 */
export function placeReplicas(collection: string, shards: number, replicas: number, members: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let s = 0; s < shards; s++) {
    const ranked = members
      .map((node) => ({ node, w: fnv1a32(`${collection}/${s}/${node}`) }))
      .sort((a, b) => b.w - a.w || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    out.push(ranked.slice(0, replicas).map((r) => r.node));
  }
  return out;
}
