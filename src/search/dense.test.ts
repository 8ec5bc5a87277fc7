import { describe, expect, it } from 'vitest';
import { DenseTable, denseSimilarity } from './dense.js';
import { Rng } from '../core/rng.js';

/** Seeded uniform [0, 1) numbers (mulberry32, shared with the hardening runs). */
const rng = (seed: number): (() => number) => {
  const g = new Rng(seed);
  return () => g.next();
};

function brute(table: DenseTable, vecs: Map<string, Float32Array>, q: Float32Array, k: number, allowed: Set<string> | null = null) {
  return [...vecs.entries()]
    .filter(([id]) => allowed === null || allowed.has(id))
    .map(([id, v]) => ({ id, score: denseSimilarity(table.metric, q, v) }))
    .sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : 1))
    .slice(0, k);
}

describe('denseSimilarity', () => {
  it('cosine, dot, l2 by hand', () => {
    const a = [3, 4];
    const b = [4, 3];
    expect(denseSimilarity('dot', a, b)).toBe(24);
    expect(denseSimilarity('cosine', a, b)).toBeCloseTo(24 / 25, 12);
    expect(denseSimilarity('l2', a, b)).toBeCloseTo(-Math.SQRT2, 12);
    expect(denseSimilarity('cosine', [0, 0], b)).toBe(0);
  });
});

describe('DenseTable', () => {
  it('exact top-k with ties by id, updates and deletes', () => {
    const t = new DenseTable({ dim: 2, metric: 'dot' });
    t.set('b', Float32Array.from([1, 0]));
    t.set('a', Float32Array.from([1, 0]));
    t.set('c', Float32Array.from([0, 1]));
    expect(t.topK(Float32Array.from([1, 0]), 2)).toEqual([
      { id: 'a', score: 1 },
      { id: 'b', score: 1 },
    ]);
    t.set('c', Float32Array.from([2, 0]));
    t.delete('a');
    expect(t.topK(Float32Array.from([1, 0]), 5).map((h) => h.id)).toEqual(['c', 'b']);
    expect(t.size).toBe(2);
    t.compact();
    expect(t.topK(Float32Array.from([1, 0]), 5).map((h) => h.id)).toEqual(['c', 'b']);
    expect(t.score(Float32Array.from([1, 1]), 'c')).toBe(2);
    expect(t.score(Float32Array.from([1, 1]), 'a')).toBeNull();
  });

  it('filtered exact top-k equals brute force over the allowed ids', () => {
    const r = rng(7);
    const t = new DenseTable({ dim: 8, metric: 'cosine' });
    const vecs = new Map<string, Float32Array>();
    for (let i = 0; i < 300; i++) {
      const v = Float32Array.from({ length: 8 }, () => r() - 0.5);
      vecs.set(`d${i}`, v);
      t.set(`d${i}`, v);
    }
    const allowed = new Set([...vecs.keys()].filter((_, i) => i % 7 === 0));
    const q = Float32Array.from({ length: 8 }, () => r() - 0.5);
    // toEqual on scores: bit-identical to denseSimilarity (stored norms, same accumulation order)
    expect(t.topK(q, 10, allowed)).toEqual(brute(t, vecs, q, 10, allowed));
    expect(t.topK(q, 10)).toEqual(brute(t, vecs, q, 10));
    const dot = new DenseTable({ dim: 8, metric: 'dot' });
    for (const [id, v] of vecs) dot.set(id, v);
    expect(dot.topK(q, 10)).toEqual(brute(dot, vecs, q, 10));
  });

  it('HNSW path: high recall, exact scores, honours deletes and filters', () => {
    const r = rng(11);
    const dim = 16;
    const t = new DenseTable({ dim, metric: 'cosine', hnswMinDocs: 500, exactFilterMaxDocs: 10 });
    const vecs = new Map<string, Float32Array>();
    for (let i = 0; i < 2000; i++) {
      const v = Float32Array.from({ length: dim }, () => r() - 0.5);
      vecs.set(`d${String(i).padStart(4, '0')}`, v);
      t.set(`d${String(i).padStart(4, '0')}`, v);
    }
    for (let i = 0; i < 2000; i += 10) {
      const id = `d${String(i).padStart(4, '0')}`;
      t.delete(id);
      vecs.delete(id);
    }
    let hit = 0;
    let total = 0;
    const allowed = new Set([...vecs.keys()].filter((_, i) => i % 2 === 0));
    for (let qn = 0; qn < 20; qn++) {
      const q = Float32Array.from({ length: dim }, () => r() - 0.5);
      const want = brute(t, vecs, q, 10, qn % 2 === 0 ? null : allowed);
      const got = t.topK(q, 10, qn % 2 === 0 ? null : allowed);
      expect(t.usesHnsw).toBe(true);
      for (const h of got) {
        expect(vecs.has(h.id)).toBe(true);
        if (qn % 2 === 1) expect(allowed.has(h.id)).toBe(true);
        expect(h.score).toBeCloseTo(denseSimilarity('cosine', q, vecs.get(h.id) as Float32Array), 12);
      }
      const ids = new Set(want.map((h) => h.id));
      hit += got.filter((h) => ids.has(h.id)).length;
      total += want.length;
    }
    expect(hit / total).toBeGreaterThanOrEqual(0.95);
  });
});
