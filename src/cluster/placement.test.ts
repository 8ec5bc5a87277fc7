import { describe, expect, it } from 'vitest';
import { fnv1a32 } from '../core/id-hash.js';
import { placeReplicas, replaceGone, shardOf } from './placement.js';

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
  it('replaces a member gone for good only where a live member can take its slot, moving nothing else', () => {
    const p = placeReplicas('col', 6, 2, ['a', 'b', 'c', 'd']);
    const gone = new Set(['d']);
    for (let s = 0; s < 6; s++) {
      const next = replaceGone('col', s, p[s], ['a', 'b', 'c'], gone);
      if (!p[s].includes('d')) {
        expect(next).toBe(p[s]);
        continue;
      }
      expect(next).toHaveLength(2);
      expect(next).not.toContain('d');
      expect(new Set(next).size).toBe(2);
      // The surviving replica keeps its slot; the new one is the best remaining by rendezvous weight.
      const kept = p[s].findIndex((n) => n !== 'd');
      expect(next[kept]).toBe(p[s][kept]);
      expect(next[1 - kept]).toBe(placeReplicas('col', 6, 3, ['a', 'b', 'c'])[s].find((n) => n !== p[s][kept]));
    }
    // No live member without the shard: the gone one stays placed.
    expect(replaceGone('col', 0, ['a', 'd'], ['a'], gone)).toEqual(['a', 'd']);
  });
});
