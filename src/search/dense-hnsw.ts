/**
 * The only file that imports `hnswlib-node` (a native addon; builds offline with node-gyp): an HNSW graph over
 * the rows of a DenseTable, used for dense top-k over large collections. Labels are table rows. Distances are
 * hnswlib's (`ip`: 1 − dot, `cosine`: 1 − cos, `l2`: squared distance); callers rescore the returned rows
 * exactly with `denseSimilarity`, so only the candidate set is approximate.
 * Callers: dense.ts.
 */
import hnswlib from 'hnswlib-node';

/** Similarity of a collection's dense part (config `dense.metric`); dense.ts re-exports it. */
export type DenseMetric = 'cosine' | 'dot' | 'l2';

const { HierarchicalNSW } = hnswlib;

/** Build parameters (hnswlib defaults are M 16, efConstruction 200). */
export interface HnswOptions {
  m?: number;
  efConstruction?: number;
  seed?: number;
}

/** An HNSW graph over row labels; grows as rows are added. */
export class HnswGraph {
  private readonly index: InstanceType<typeof HierarchicalNSW>;
  private capacity: number;
  private count = 0;

  constructor(metric: DenseMetric, dim: number, initialCapacity: number, opts: HnswOptions = {}) {
    this.index = new HierarchicalNSW(metric === 'dot' ? 'ip' : metric, dim);
    this.capacity = Math.max(16, initialCapacity);
    this.index.initIndex({
      maxElements: this.capacity,
      m: opts.m ?? 16,
      efConstruction: opts.efConstruction ?? 200,
      randomSeed: opts.seed ?? 42,
    });
  }

  /** Number of rows added (deleted ones included). */
  get size(): number {
    return this.count;
  }

  /** Adds row `label` with vector `v` (grows the graph's capacity geometrically). */
  add(label: number, v: Float32Array): void {
    if (this.count >= this.capacity) {
      this.capacity *= 2;
      this.index.resizeIndex(this.capacity);
    }
    this.index.addPoint(Array.from(v), label);
    this.count++;
  }

  /** Hides a row from future searches. */
  remove(label: number): void {
    this.index.markDelete(label);
  }

  /**
   * Up to `k` row labels near `query`, best first, searched with beam width `ef`; `accept` (optional) restricts
   * the result to accepted rows inside the graph walk (no post-filtering of a top-k).
   */
  search(query: Float32Array, k: number, ef: number, accept?: (label: number) => boolean): number[] {
    if (this.count === 0 || k <= 0) return [];
    this.index.setEf(Math.max(ef, k));
    const r = this.index.searchKnn(Array.from(query), Math.min(k, this.count), accept);
    return r.neighbors;
  }
}
