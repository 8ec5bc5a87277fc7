/**
 * The dense part of a collection, search side: exact similarities, and a `DenseTable` holding every live
 * document's dense vector as rows of one growable Float32Array (id ↔ row maps), answering dense top-k by an
 * exact scan, or through an HNSW graph (dense-hnsw.ts) once the table holds `hnswMinDocs` rows.
 *
 * Similarity (larger is better): cosine = a·b / (|a||b|) (0 when either norm is 0), dot = a·b, l2 = −|a − b|.
 * Results are sorted by similarity descending, ties by id ascending (API.md).
 *
 * Invariants: a row's vector never changes (an update takes a new row; the old row is tombstoned), so the HNSW
 * graph only ever appends; `compact()` rebuilds both when tombstones pile up. The table is derived state: the
 * collection rebuilds it at open (store vectors, or LSA projections) and keeps it in step on writes.
 * Callers: collection.ts (hybrid and dense-only search), lsa-binding.ts.
 */
import { type DenseMetric, HnswGraph } from './dense-hnsw.js';
import { compareIds } from './fusion.js';

export type { DenseMetric };

/** Exact similarity of two vectors of equal length (see the file header). */
export function denseSimilarity(metric: DenseMetric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (metric === 'l2') {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = a[i] - b[i];
      s += d * d;
    }
    return -Math.sqrt(s);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (metric === 'dot') return dot;
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** One dense top-k result: id and exact similarity. */
export interface DenseHit {
  id: string;
  score: number;
}

/** Options of a DenseTable (dim and metric from the collection's dense config). */
export interface DenseTableOptions {
  dim: number;
  metric: DenseMetric;
  /** Use HNSW for unfiltered (and loosely filtered) top-k from this many live rows on (default 50,000). */
  hnswMinDocs?: number;
  /** HNSW beam width at search time (default max(100, 2k)). */
  hnswEf?: number;
  /** A filtered top-k whose allowed set is at most this large scans the allowed rows exactly (default 20,000). */
  exactFilterMaxDocs?: number;
}

/** Live dense vectors by id; see the file header. */
export class DenseTable {
  readonly dim: number;
  readonly metric: DenseMetric;
  private rows: Float32Array;
  /** Squared L2 norm of each row, accumulated like `denseSimilarity` does, so cosine scores match it bit for bit. */
  private norms2: Float64Array;
  private idOf: (string | null)[] = [];
  private readonly rowOf = new Map<string, number>();
  private graph: HnswGraph | null = null;
  private readonly hnswMinDocs: number;
  private readonly hnswEf: number;
  private readonly exactFilterMaxDocs: number;

  constructor(opts: DenseTableOptions) {
    this.dim = opts.dim;
    this.metric = opts.metric;
    this.hnswMinDocs = opts.hnswMinDocs ?? 50_000;
    this.hnswEf = opts.hnswEf ?? 100;
    this.exactFilterMaxDocs = opts.exactFilterMaxDocs ?? 20_000;
    this.rows = new Float32Array(this.dim * 1024);
    this.norms2 = new Float64Array(1024);
  }

  /** Live rows. */
  get size(): number {
    return this.rowOf.size;
  }

  /** Whether top-k currently goes through HNSW (for stats and tests). */
  get usesHnsw(): boolean {
    return this.graph !== null;
  }

  /** The vector of `id` (a view; do not modify), or undefined. */
  get(id: string): Float32Array | undefined {
    const r = this.rowOf.get(id);
    return r === undefined ? undefined : this.rows.subarray(r * this.dim, (r + 1) * this.dim);
  }

  /** Inserts or replaces the vector of `id` (copied). */
  set(id: string, v: Float32Array): void {
    if (v.length !== this.dim) throw new RangeError(`dense vector of length ${v.length}, table dim ${this.dim}`);
    this.delete(id);
    const r = this.idOf.length;
    if ((r + 1) * this.dim > this.rows.length) {
      const grown = new Float32Array(Math.max(this.rows.length * 2, (r + 1) * this.dim));
      grown.set(this.rows);
      this.rows = grown;
      const n2 = new Float64Array(this.rows.length / this.dim);
      n2.set(this.norms2);
      this.norms2 = n2;
    }
    this.rows.set(v, r * this.dim);
    let nb = 0;
    for (let i = 0; i < this.dim; i++) nb += this.rows[r * this.dim + i] * this.rows[r * this.dim + i];
    this.norms2[r] = nb;
    this.idOf.push(id);
    this.rowOf.set(id, r);
    this.graph?.add(r, v);
  }

  /** Removes `id` when present. */
  delete(id: string): void {
    const r = this.rowOf.get(id);
    if (r === undefined) return;
    this.rowOf.delete(id);
    this.idOf[r] = null;
    this.graph?.remove(r);
  }

  /** Drops tombstoned rows (and the HNSW graph, rebuilt on the next search that needs it). */
  compact(): void {
    const live = [...this.rowOf.entries()].sort((x, y) => x[1] - y[1]);
    const rows = new Float32Array(Math.max(1024, live.length) * this.dim);
    const norms2 = new Float64Array(Math.max(1024, live.length));
    this.idOf = [];
    this.rowOf.clear();
    live.forEach(([id, r], i) => {
      rows.set(this.rows.subarray(r * this.dim, (r + 1) * this.dim), i * this.dim);
      norms2[i] = this.norms2[r];
      this.idOf.push(id);
      this.rowOf.set(id, i);
    });
    this.rows = rows;
    this.norms2 = norms2;
    this.graph = null;
  }

  /** Exact similarity of `query` with the vector of `id`, or null when `id` has no vector here. */
  score(query: Float32Array, id: string): number | null {
    const v = this.get(id);
    return v === undefined ? null : denseSimilarity(this.metric, query, v);
  }

  /**
   * The `k` most similar live rows to `query`, restricted to `allowed` ids when given (the filter is applied
   * inside the search, never to a finished top-k). Exact scan for small tables and selective filters; HNSW
   * candidates rescored exactly otherwise.
   */
  topK(query: Float32Array, k: number, allowed: ReadonlySet<string> | null = null): DenseHit[] {
    if (k <= 0 || this.size === 0) return [];
    if (allowed !== null && allowed.size <= this.exactFilterMaxDocs) {
      const rows: number[] = [];
      for (const id of allowed) {
        const r = this.rowOf.get(id);
        if (r !== undefined) rows.push(r);
      }
      return this.exactRows(query, k, rows);
    }
    if (this.size >= this.hnswMinDocs) {
      this.ensureGraph();
      const g = this.graph as HnswGraph;
      const accept =
        allowed === null
          ? undefined
          : (r: number) => {
              const id = this.idOf[r];
              return id !== null && allowed.has(id);
            };
      const rows = g.search(query, k, Math.max(this.hnswEf, 2 * k), accept);
      return this.exactRows(query, k, rows);
    }
    const rows: number[] = [];
    for (let r = 0; r < this.idOf.length; r++) {
      const id = this.idOf[r];
      if (id !== null && (allowed === null || allowed.has(id))) rows.push(r);
    }
    return this.exactRows(query, k, rows);
  }

  private ensureGraph(): void {
    if (this.graph !== null) return;
    if (this.idOf.length > 2 * this.size) this.compact();
    const g = new HnswGraph(this.metric, this.dim, this.idOf.length + 1024);
    for (let r = 0; r < this.idOf.length; r++) {
      const v = this.rows.subarray(r * this.dim, (r + 1) * this.dim);
      g.add(r, v);
      if (this.idOf[r] === null) g.remove(r);
    }
    this.graph = g;
  }

  /** Exact top-k among `rows` (live rows only), ties by id. */
  private exactRows(query: Float32Array, k: number, rows: readonly number[]): DenseHit[] {
    const d = this.dim;
    const data = this.rows;
    const live = rows.filter((r) => this.idOf[r] !== null);
    const scores = new Float64Array(live.length);
    if (this.metric === 'l2') {
      for (let i = 0; i < live.length; i++) scores[i] = denseSimilarity('l2', query, data.subarray(live[i] * d, live[i] * d + d));
    } else {
      // Inline dot products over the flat rows (no per-row views); cosine uses the stored row norms. Same
      // accumulation order as denseSimilarity, so the scores are identical to it.
      let na = 0;
      for (let j = 0; j < d; j++) na += query[j] * query[j];
      const cosine = this.metric === 'cosine';
      for (let i = 0; i < live.length; i++) {
        const o = live[i] * d;
        let dot = 0;
        for (let j = 0; j < d; j++) dot += query[j] * data[o + j];
        if (!cosine) scores[i] = dot;
        else {
          const nb = this.norms2[live[i]];
          scores[i] = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
        }
      }
    }
    // Typed-array numeric sort finds the k-th score cheaply; only rows at or above it become objects.
    let threshold = -Infinity;
    if (live.length > k) threshold = Float64Array.from(scores).sort()[live.length - k];
    const hits: DenseHit[] = [];
    for (let i = 0; i < live.length; i++) if (scores[i] >= threshold) hits.push({ id: this.idOf[live[i]] as string, score: scores[i] });
    hits.sort((x, y) => y.score - x.score || compareIds(x.id, y.id));
    return hits.length > k ? hits.slice(0, k) : hits;
  }
}
