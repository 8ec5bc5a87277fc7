/**
 * Where documents and shard replicas go, as pure functions (no I/O), so every node computes the same answer:
 * - a document goes to shard `fnv1a32(utf8(id)) mod shards` (FNV-1a over the UTF-8 bytes: stable across
 *   processes, versions and platforms, unlike a seeded or engine hash);
 * - a shard's replicas are the `replicas` members with the highest rendezvous weight `fnv1a32(collection/shard/node)`
 *   (highest-random-weight hashing: removing a member only moves the shards it held; adding one moves ~1/n).
 * Called by the cluster node at collection creation (the result is stored in the catalog, then kept), when a
 * member is gone for good (`replaceGone`: only its replicas move), and by the write path for every document.
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
  for (let s = 0; s < shards; s++) out.push(rankNodes(collection, s, members).slice(0, replicas));
  return out;
}

/** `members` by rendezvous weight for one shard, highest first (ties by node id). */
function rankNodes(collection: string, shard: number, members: readonly string[]): string[] {
  return members
    .map((node) => ({ node, w: fnv1a32(`${collection}/${shard}/${node}`) }))
    .sort((a, b) => b.w - a.w || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((r) => r.node);
}

/**
 * A shard's placement with the nodes in `gone` (dead for good) replaced, each in its slot, by the live members of
 * highest rendezvous weight that do not hold the shard yet; a gone node stays placed when no such member is left
 * (its replica waits for it, as before). Returns `placed` itself when nothing changes.
 */
export function replaceGone(
  collection: string,
  shard: number,
  placed: readonly string[],
  live: readonly string[],
  gone: ReadonlySet<string>,
): readonly string[] {
  if (!placed.some((n) => gone.has(n))) return placed;
  const fill = rankNodes(collection, shard, live).filter((n) => !placed.includes(n) && !gone.has(n));
  let changed = false;
  const out = placed.map((n) => {
    if (!gone.has(n) || fill.length === 0) return n;
    changed = true;
    return fill.shift() as string;
  });
  return changed ? out : placed;
}
