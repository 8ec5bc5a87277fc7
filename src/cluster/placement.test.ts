import { describe, expect, it } from 'vitest';
import { fnv1a32 } from '../core/id-hash.js';
import { placeReplicas, shardOf } from './placement.js';

describe('placement', () => {
  it('hashes with FNV-1a 32 over UTF-8 (reference values)', () => {
    // Reference values of 32-bit FNV-1a (IETF draft-eastlake-fnv test vectors).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('spreads ids over shards roughly evenly and deterministically', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`doc-${i}`, 4)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(shardOf('doc-17', 4)).toBe(shardOf('doc-17', 4));
  });

  it('places distinct replicas per shard, independent of member order, and moves only the lost member’s shards', () => {
    const members = ['a', 'b', 'c', 'd'];
    const p = placeReplicas('col', 8, 2, members);
    expect(placeReplicas('col', 8, 2, [...members].reverse())).toEqual(p);
    for (const r of p) expect(new Set(r).size).toBe(2);
    const without = placeReplicas('col', 8, 2, ['a', 'b', 'c']);
    for (let s = 0; s < 8; s++) {
      if (!p[s].includes('d')) expect(without[s]).toEqual(p[s]);
    }
    expect(placeReplicas('col', 2, 3, ['a'])).toEqual([['a'], ['a']]);
  });
});
