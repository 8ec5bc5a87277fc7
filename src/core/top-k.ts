/**
 * Bounded top-k collector over parallel typed arrays (no object per candidate), used by every search kernel.
 * Order: score descending, ties by integer key ascending. Segments assign doc ords in external-id order, so
 * "ord ascending" equals "id ascending" inside a segment and the global tie rule of API.md holds exactly.
 *
 * The heap root is the worst kept entry (lowest score; among equal scores the largest key), so `threshold()` is
 * the k-th best score once the heap is full. Reuse one instance per query via `reset(k)`.
 *
 * `setAfter(score, key)` gates the heap for cursor pages (API.md "Paging"): only candidates ranking strictly after
 * (score, key) are kept, so a kernel returns the next k of its ranking without collecting the pages before. The
 * gate survives `reset` (kernels reset internally); the caller clears it with `clearAfter`.
 */

export class TopK {
  private keys: Int32Array;
  private scores: Float32Array;
  private size = 0;
  private k: number;
  /** Gate (see the file comment): +Infinity = none, since no float32 score exceeds it. */
  private afterScore = Number.POSITIVE_INFINITY;
  private afterKey = -1;

  constructor(k: number) {
    this.k = k;
    this.keys = new Int32Array(Math.max(1, k));
    this.scores = new Float32Array(Math.max(1, k));
  }

  /** Empties the heap and sets a new capacity (grows the arrays only when needed). */
  reset(k: number): void {
    this.k = k;
    this.size = 0;
    if (this.keys.length < k) {
      this.keys = new Int32Array(k);
      this.scores = new Float32Array(k);
    }
  }

  get length(): number {
    return this.size;
  }

  /** Keeps only candidates ranking strictly after (score, key): score lower, or equal with a larger key. */
  setAfter(score: number, key: number): void {
    this.afterScore = Math.fround(score);
    this.afterKey = key;
  }

  clearAfter(): void {
    this.afterScore = Number.POSITIVE_INFINITY;
    this.afterKey = -1;
  }

  get capacity(): number {
    return this.k;
  }

  isFull(): boolean {
    return this.size >= this.k;
  }

  /** The k-th best score when full, else -Infinity. */
  threshold(): number {
    return this.size >= this.k ? this.scores[0] : -Infinity;
  }

  /** Offers a candidate; returns true when it was kept. Scores are compared after float32 rounding. */
  push(key: number, score: number): boolean {
    if (this.k === 0) return false;
    const s = Math.fround(score);
    if (s > this.afterScore || (s === this.afterScore && key <= this.afterKey)) return false;
    if (this.size < this.k) {
      let i = this.size++;
      // sift up
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(s, key, this.scores[p], this.keys[p])) break;
        this.scores[i] = this.scores[p];
        this.keys[i] = this.keys[p];
        i = p;
      }
      this.scores[i] = s;
      this.keys[i] = key;
      return true;
    }
    // Full: keep only if strictly better than the root.
    if (!worse(this.scores[0], this.keys[0], s, key)) return false;
    this.siftDown(key, s);
    return true;
  }

  private siftDown(key: number, s: number): void {
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && worse(this.scores[r], this.keys[r], this.scores[l], this.keys[l])) c = r;
      if (!worse(this.scores[c], this.keys[c], s, key)) break;
      this.scores[i] = this.scores[c];
      this.keys[i] = this.keys[c];
      i = c;
    }
    this.scores[i] = s;
    this.keys[i] = key;
  }

  /**
   * Returns the kept entries best first and empties the heap: the root (the worst kept) is popped into the last
   * free slot until none is left, so the order is the heap's own (score descending, key ascending) with no sort,
   * no comparator closure and no index array (a k = 10 drain was ~2–3 µs of a 40 µs query with them).
   */
  drain(): { keys: Int32Array; scores: Float32Array } {
    const n = this.size;
    const keys = new Int32Array(n);
    const scores = new Float32Array(n);
    for (let j = n - 1; j >= 0; j--) {
      keys[j] = this.keys[0];
      scores[j] = this.scores[0];
      this.size = j;
      if (j > 0) this.siftDown(this.keys[j], this.scores[j]);
    }
    this.size = 0;
    return { keys, scores };
  }
}

/** True when (sa, ka) ranks below (sb, kb). */
function worse(sa: number, ka: number, sb: number, kb: number): boolean {
  return sa < sb || (sa === sb && ka > kb);
}
