import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SparseVector } from '../src/core/sparse-vector.js';
import { fromIndicesValues } from '../src/core/sparse-vector.js';
import { IndexBuildConfigSchema, type IndexBuildConfig } from '../src/config/index-config.js';
import { buildForwardIndex, type ForwardIndex } from '../src/index/forward-index.js';
import { buildSeismicIndex } from '../src/seismic/build.js';
import { buildSeismicIndexParallel } from '../src/seismic/build-parallel.js';
import { SeismicSearcher } from '../src/seismic/searcher.js';
import { bruteForceBatch, bruteForceSearch, buildExactInvertedIndex, ExactTaatSearcher } from '../src/seismic/exact.js';
import { seismicFromSections, seismicToSections } from '../src/seismic/seismic-index.js';
import { Rng } from '../src/core/rng.js';
import { buildPrunedLists, kthLargest } from '../src/seismic/pruning.js';
import { energyCut } from '../src/seismic/summaries.js';
import { calibrate, DEFAULT_CALIBRATION_TARGETS, recallOf, withCalibration } from '../src/seismic/calibrate.js';
import { buildSyntheticForwardIndex, createSyntheticModel, generateQueries, generateQuery } from '../src/eval/synthetic.js';
import { randomSparseVectors } from './support/random-vectors.js';

const cfg = (o: Partial<IndexBuildConfig>): IndexBuildConfig => IndexBuildConfigSchema.parse(o);

/** Random collection: weights in [0.05, 1], `dim` terms, 1..maxTerms terms per doc. */
function randomVectors(seed: number, n: number, dim: number, maxTerms: number): SparseVector[] {
  return randomSparseVectors(seed, n, dim, maxTerms, (rng) => 0.05 + 0.95 * rng.next());
}

function bits(n: number, ords: Iterable<number>): Uint32Array {
  const b = new Uint32Array((n + 31) >>> 5);
  for (const d of ords) b[d >>> 5] |= 1 << (d & 31);
  return b;
}

const noSkip = { heapFactor: 1e-6, nKnn: 0 };

describe('Seismic search vs the exact oracle', () => {
  it('returns exactly the brute-force top-k when pruning is off and nothing is skipped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 3, max: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0.05, 0.3, 1),
        fc.integer({ min: 0, max: 3 }),
        (seed, n, dim, k, centroidFraction, minClusterSize) => {
          const docs = randomVectors(seed, n, dim, 10);
          const fwd = buildForwardIndex(docs, dim);
          const index = buildSeismicIndex(fwd, cfg({ nPostings: 1_000_000, summaryEnergy: 1, centroidFraction, minClusterSize, seed }));
          // f32 scoring throughout: the half-float ranking (the default) is checked against its own brute force in
          // src/seismic/half-rows.test.ts.
          const s = new SeismicSearcher(fwd, index, { halfRows: false });
          for (const q of randomVectors(seed + 1, 5, dim, 8)) {
            const got = s.search(q, { k, queryCut: dim, excluded: null, ...noSkip });
            const want = bruteForceSearch(fwd, q, k);
            expect(Array.from(got.ords)).toEqual(Array.from(want.ords));
            expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
            expect(got.blocksSkipped).toBe(0);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it('never returns excluded docs, and equals brute force with the same exclusions when nothing is skipped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 2, max: 120 }), (seed, n) => {
        const dim = 40;
        const docs = randomVectors(seed, n, dim, 12);
        const fwd = buildForwardIndex(docs, dim);
        const rng = new Rng(seed ^ 77);
        const ex = [...Array(n).keys()].filter(() => rng.next() < 0.3);
        const excluded = bits(n, ex);
        const exSet = new Set(ex);
        const exact = buildSeismicIndex(fwd, cfg({ nPostings: 1_000_000, summaryEnergy: 1, seed }));
        const pruned = buildSeismicIndex(fwd, cfg({ nPostings: 2, maxFraction: 1.5, seed }));
        for (const q of randomVectors(seed + 3, 4, dim, 8)) {
          const a = new SeismicSearcher(fwd, exact, { halfRows: false }).search(q, { k: 7, queryCut: dim, excluded, ...noSkip });
          const b = bruteForceSearch(fwd, q, 7, excluded);
          expect(Array.from(a.ords)).toEqual(Array.from(b.ords));
          // Ranked by the half-float rows (the default): no excluded doc either, and as many hits.
          const h = new SeismicSearcher(fwd, exact).search(q, { k: 7, queryCut: dim, excluded, ...noSkip });
          for (const o of h.ords) expect(exSet.has(o)).toBe(false);
          expect(h.ords.length).toBe(b.ords.length);
          const c = new SeismicSearcher(fwd, pruned).search(q, { k: 7, queryCut: 3, heapFactor: 0.9, nKnn: 0, excluded });
          for (const o of c.ords) expect(exSet.has(o)).toBe(false);
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('handles an empty collection, a single doc and queries with out-of-range or unmatched terms', () => {
    const empty = buildForwardIndex([], 10);
    const e = buildSeismicIndex(empty, cfg({ nKnn: 2 }));
    expect(
      new SeismicSearcher(empty, e).search(fromIndicesValues([1], [1], 10), { k: 3, queryCut: 5, heapFactor: 0.9, nKnn: 2, excluded: null })
        .ords.length,
    ).toBe(0);
    const one = buildForwardIndex([fromIndicesValues([2, 7], [0.5, 1], 10)], 10);
    const o = buildSeismicIndex(one, cfg({ nKnn: 2 }));
    const s = new SeismicSearcher(one, o);
    expect(
      Array.from(s.search(fromIndicesValues([7], [2], 10), { k: 3, queryCut: 5, heapFactor: 0.9, nKnn: 2, excluded: null }).ords),
    ).toEqual([0]);
    expect(
      s.search(fromIndicesValues([3, 40], [1, 1], 100), { k: 3, queryCut: 5, heapFactor: 0.9, nKnn: 0, excluded: null }).ords.length,
    ).toBe(0);
    expect(
      s.search(fromIndicesValues([7], [2], 10), { k: 3, queryCut: 5, heapFactor: 0.9, nKnn: 0, excluded: bits(1, [0]) }).ords.length,
    ).toBe(0);
  });

  it('batched brute force equals per-query brute force, exclusions included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 150 }), (seed, n) => {
        const fwd = buildForwardIndex(randomVectors(seed, n, 30, 10), 30);
        const qs = randomVectors(seed + 9, 7, 30, 8);
        const ex = qs.map((_, i) => (i % 2 === 0 ? (seed + i) % n : -1));
        const batch = bruteForceBatch(fwd, qs, 5, ex);
        qs.forEach((q, i) => {
          const one = bruteForceSearch(fwd, q, 5, ex[i] >= 0 ? bits(n, [ex[i]]) : null);
          expect(Array.from(batch[i].ords)).toEqual(Array.from(one.ords));
          expect(Array.from(batch[i].scores)).toEqual(Array.from(one.scores));
        });
      }),
      { numRuns: 40 },
    );
  });

  it('is deterministic for a seed: byte-identical sections', () => {
    const fwd = buildForwardIndex(randomVectors(5, 400, 200, 30), 200);
    const c = cfg({ nPostings: 1_000_000, centroidFraction: 0.2, seed: 9 });
    const a = seismicToSections(buildSeismicIndex(fwd, c));
    const b = seismicToSections(buildSeismicIndex(fwd, c));
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const name of Object.keys(a)) {
      expect(
        Buffer.from(a[name].buffer, a[name].byteOffset, a[name].byteLength).equals(
          Buffer.from(b[name].buffer, b[name].byteOffset, b[name].byteLength),
        ),
      ).toBe(true);
    }
    const other = seismicToSections(buildSeismicIndex(fwd, { ...c, seed: 10 }));
    expect(Buffer.from(other['seismic.postingDocs'].buffer).equals(Buffer.from(a['seismic.postingDocs'].buffer))).toBe(false);
  });

  it('parallel build (2 worker threads) is byte-identical to the serial build', async () => {
    const fwd = buildForwardIndex(randomVectors(31, 1500, 300, 40), 300);
    const c = cfg({ nPostings: 1_000_000, seed: 4 });
    const a = seismicToSections(buildSeismicIndex(fwd, c));
    const b = seismicToSections(await buildSeismicIndexParallel(fwd, c, { threads: 2 }));
    for (const name of Object.keys(a)) {
      expect(
        Buffer.from(b[name].buffer, b[name].byteOffset, b[name].byteLength).equals(
          Buffer.from(a[name].buffer, a[name].byteOffset, a[name].byteLength),
        ),
      ).toBe(true);
    }
  }, 60_000);

  it('round-trips through sections (unaligned copies too) and rejects damaged sections', () => {
    const fwd = buildForwardIndex(randomVectors(11, 300, 100, 20), 100);
    const index = buildSeismicIndex(fwd, cfg({ nPostings: 5, nKnn: 3 }));
    const sections = seismicToSections(index);
    // Simulate a segment reader handing back byte views at odd offsets.
    const moved: Record<string, ArrayBufferView> = {};
    for (const [k, v] of Object.entries(sections)) {
      const buf = new Uint8Array(v.byteLength + 1);
      buf.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), 1);
      moved[k] = buf.subarray(1);
    }
    const back = seismicFromSections(moved);
    const q = randomVectors(12, 1, 100, 10)[0];
    const opts = { k: 5, queryCut: 5, heapFactor: 0.9, nKnn: 3, excluded: null };
    expect(new SeismicSearcher(fwd, back).search(q, opts)).toEqual(new SeismicSearcher(fwd, index).search(q, opts));
    expect(() => seismicFromSections({ ...sections, 'seismic.postingDocs': new Uint32Array(3) })).toThrow(/CORRUPT|corrupt/);
    expect(() => seismicFromSections({ ...sections, 'seismic.meta': new Uint32Array([99, 0, 0, 0, 0]) })).toThrow(/version/);
    const { ['seismic.entryCodes']: _drop, ...missing } = sections;
    expect(() => seismicFromSections(missing)).toThrow(/missing section seismic.entryCodes/);
  });

  it('κ-NN expansion never lowers recall and the graph has no self-loops', () => {
    const model = createSyntheticModel({ seed: 3, nTopics: 50 });
    const fwd = buildSyntheticForwardIndex(model, 600);
    const index = buildSeismicIndex(fwd, cfg({ nPostings: 20, nKnn: 5 }));
    expect(index.knn.length).toBe(600 * 5);
    for (let d = 0; d < 600; d++) for (let j = 0; j < 5; j++) expect(index.knn[d * 5 + j]).not.toBe(d);
    const s = new SeismicSearcher(fwd, index);
    let without = 0;
    let withKnn = 0;
    for (const q of generateQueries(model, 40)) {
      const truth = bruteForceSearch(fwd, q, 10);
      const set = new Set(truth.ords);
      const a = s.search(q, { k: 10, queryCut: 2, heapFactor: 1, nKnn: 0, excluded: null });
      const b = s.search(q, { k: 10, queryCut: 2, heapFactor: 1, nKnn: 5, excluded: null });
      const ra = recallOf(a.ords, set, truth.ords.length, 10);
      const rb = recallOf(b.ords, set, truth.ords.length, 10);
      expect(rb).toBeGreaterThanOrEqual(ra);
      without += ra;
      withKnn += rb;
    }
    expect(withKnn).toBeGreaterThanOrEqual(without);
  }, 60_000);
});

describe('Seismic on seeded synthetic data', () => {
  it('reaches recall@10 ≥ 0.95 at queryCut 10 / heapFactor 0.9 on 20k docs, and calibrate hits its target', () => {
    const model = createSyntheticModel({ seed: 2024 });
    const fwd = buildSyntheticForwardIndex(model, 20_000);
    // nPostings scaled to the collection (the paper's 4000 is for 8.8M docs): keeps ~12% of postings.
    const index = buildSeismicIndex(fwd, cfg({ nPostings: 10 }));
    const taat = new ExactTaatSearcher(buildExactInvertedIndex(fwd));
    const s = new SeismicSearcher(fwd, index);
    const queries = generateQueries(model, 100);
    let recall = 0;
    for (const q of queries) {
      const t = taat.search(q, 10);
      recall += recallOf(
        s.search(q, { k: 10, queryCut: 10, heapFactor: 0.9, nKnn: 0, excluded: null }).ords,
        new Set(t.ords),
        t.ords.length,
        10,
      );
    }
    expect(recall / queries.length).toBeGreaterThanOrEqual(0.95);

    const sample = Array.from({ length: 48 }, (_, i) => generateQuery(model, 1000 + i));
    const cal = calibrate(fwd, index, sample, 0.9);
    expect(cal.reached).toBe(true);
    expect(cal.estimatedRecall).toBeGreaterThanOrEqual(0.9);
    let measured = 0;
    for (const q of queries) {
      const t = taat.search(q, 10);
      measured += recallOf(
        s.search(q, { k: 10, queryCut: cal.queryCut, heapFactor: cal.heapFactor, nKnn: 0, excluded: null }).ords,
        new Set(t.ords),
        t.ords.length,
        10,
      );
    }
    expect(measured / queries.length).toBeGreaterThanOrEqual(0.86);
  }, 120_000);
});

describe('seal-time calibration table', () => {
  it('stores tuned parameters per target that survive the sections round trip', () => {
    const model = createSyntheticModel({ seed: 8, nTopics: 100 });
    const fwd = buildSyntheticForwardIndex(model, 3000);
    const index = withCalibration(fwd, buildSeismicIndex(fwd, cfg({ nPostings: 10 })), { seed: 3 });
    const t = index.calibration as Float64Array;
    expect(t.length).toBe(DEFAULT_CALIBRATION_TARGETS.length * 4);
    const back = seismicFromSections(seismicToSections(index));
    const s = new SeismicSearcher(fwd, back);
    for (let i = 0; i < DEFAULT_CALIBRATION_TARGETS.length; i++) {
      const target = DEFAULT_CALIBRATION_TARGETS[i];
      const tuned = s.tuned(target);
      expect(tuned).toEqual({ queryCut: t[i * 4 + 1], heapFactor: t[i * 4 + 2], estimatedRecall: t[i * 4 + 3] });
      // A stricter target never gets a cheaper-looking setting with lower estimated recall.
      if (i > 0) expect(t[i * 4 + 3]).toBeGreaterThanOrEqual(t[(i - 1) * 4 + 3]);
    }
    expect(s.tuned(0.93)).toEqual(s.tuned(0.95));
    expect(s.tuned(1)).toEqual(s.tuned(0.99));
    expect(new SeismicSearcher(fwd, buildSeismicIndex(fwd, cfg({ nPostings: 10 }))).tuned(0.9)).toBeNull();
  }, 60_000);
});

describe('Seismic on real SPLADE vectors (../shared/data/seismic-toy)', () => {
  const dir = join(process.cwd(), '..', 'shared', 'data', 'seismic-toy');
  const present = existsSync(join(dir, 'documents.jsonl'));
  it.skipIf(!present)('approximate search (all query terms, heapFactor 0.9) equals exact on the toy queries', () => {
    const vocab = new Map<string, number>();
    const load = (file: string): SparseVector[] =>
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => {
          const vec = (JSON.parse(l) as { vector: Record<string, number> }).vector;
          const toks = Object.keys(vec);
          const ids = toks.map((t) => vocab.get(t) ?? (vocab.set(t, vocab.size), vocab.size - 1));
          return fromIndicesValues(
            ids,
            toks.map((t) => vec[t]),
            1 << 20,
          );
        });
    const docs = load('documents.jsonl');
    const queries = load('queries.jsonl');
    expect(docs.length).toBe(20);
    expect(queries.length).toBe(5);
    const fwd = buildForwardIndex(docs, vocab.size);
    const index = buildSeismicIndex(fwd, cfg({}));
    const s = new SeismicSearcher(fwd, index);
    for (const q of queries) {
      // queryCut covers every query term: with 20 docs most matches come only from low-weight terms.
      const got = s.search(q, { k: 10, queryCut: 1024, heapFactor: 0.9, nKnn: 0, excluded: null });
      const want = bruteForceSearch(fwd, q, 10);
      expect(Array.from(got.ords)).toEqual(Array.from(want.ords));
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
    }
  });
  if (!present) it.skip(`../shared/data/seismic-toy is absent: real-vector test skipped`, () => {});
});

describe('pruning and summary helpers', () => {
  it('kthLargest matches a sort', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 1000, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.nat(), (xs, r) => {
        const a = Float32Array.from(xs);
        const k = 1 + (r % a.length);
        const sorted = Float32Array.from(a).sort().reverse();
        expect(kthLargest(a, a.length, k)).toBe(sorted[k - 1]);
      }),
    );
  });

  it('global threshold keeps the largest entries and caps every list', () => {
    const docs = randomVectors(21, 500, 50, 20);
    const fwd = buildForwardIndex(docs, 50);
    const lists = buildPrunedLists(fwd, 4, 1.5);
    const all = Array.from(fwd.values).sort((a, b) => b - a);
    const thr = all[4 * 50 - 1];
    for (let t = 0; t < 50; t++) {
      const n = lists.offsets[t + 1] - lists.offsets[t];
      expect(n).toBeLessThanOrEqual(6);
      const inList = new Set(lists.docs.subarray(lists.offsets[t], lists.offsets[t + 1]));
      // Every kept posting is at or above the global threshold; a list below its cap kept every such entry.
      let above = 0;
      for (let d = 0; d < 500; d++) {
        const v = weightOf(fwd, d, t);
        if (inList.has(d)) expect(v).toBeGreaterThanOrEqual(thr);
        if (v >= thr) above++;
      }
      expect(n).toBe(Math.min(6, above));
    }
  });

  it('energyCut keeps the shortest prefix by weight reaching the target', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: Math.fround(0.01), max: 10, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (xs, alpha) => {
          const a = Float32Array.from(xs);
          let total = 0;
          for (const x of a) total += x;
          const cut = energyCut(Float32Array.from(a), a.length, alpha * total);
          const desc = Array.from(a).sort((x, y) => y - x);
          let acc = 0;
          let ref = desc[desc.length - 1];
          for (const x of desc) {
            acc += x;
            if (acc >= alpha * total) {
              ref = x;
              break;
            }
          }
          expect(cut).toBe(ref);
        },
      ),
    );
  });
});

function weightOf(f: ForwardIndex, d: number, t: number): number {
  for (let p = f.offsets[d]; p < f.offsets[d + 1]; p++) if (f.termIds[p] === t) return f.values[p];
  return 0;
}

describe('calibration confidence', () => {
  it('picks a setting whose one-sided 95% lower bound reaches the target and lies below the mean', () => {
    const model = createSyntheticModel({ seed: 77 });
    const fwd = buildSyntheticForwardIndex(model, 20_000);
    const index = buildSeismicIndex(fwd, cfg({ nPostings: 10 }));
    const sample = Array.from({ length: 40 }, (_, i) => generateQuery(model, 500 + i));
    for (const target of [0.8, 0.9, 0.95]) {
      const cal = calibrate(fwd, index, sample, target);
      expect(cal.reached).toBe(true);
      expect(cal.recallLowerBound).toBeGreaterThanOrEqual(target);
      expect(cal.recallLowerBound).toBeLessThanOrEqual(cal.estimatedRecall);
    }
    // With a sample of one query there is no spread to measure: the bound equals the mean.
    const one = calibrate(fwd, index, sample.slice(0, 1), 0.5);
    expect(one.recallLowerBound).toBe(one.estimatedRecall);
  }, 120_000);
});
