/**
 * Document frequencies over live documents, maintained on every insert/delete and rebuilt on open by scanning
 * the forward indexes (deleted ords skipped). Term ids below DENSE_LIMIT are counted in a growable Int32Array
 * (the common case: BERT/Mistral vocabularies and growable dictionaries); larger ids (sparse `encoder: "none"`
 * id spaces up to 2^30) fall back to a Map so memory stays proportional to the terms actually used.
 * Callers: collection-store.ts.
 */

const DENSE_LIMIT = 1 << 22;

export class DfTable {
  private dense = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();

  /** Adds `delta` (±1) to the df of every term in `termIds`. */
  addAll(termIds: ArrayLike<number>, delta: number): void {
    for (let i = 0; i < termIds.length; i++) {
      const t = termIds[i];
      if (t < DENSE_LIMIT) {
        if (t >= this.dense.length) this.growTo(t + 1);
        this.dense[t] += delta;
      } else {
        const v = (this.sparse.get(t) ?? 0) + delta;
        if (v === 0) this.sparse.delete(t);
        else this.sparse.set(t, v);
      }
    }
  }

  df(termId: number): number {
    if (termId < DENSE_LIMIT) return termId < this.dense.length ? this.dense[termId] : 0;
    return this.sparse.get(termId) ?? 0;
  }

  private growTo(n: number): void {
    let cap = this.dense.length;
    while (cap < n) cap *= 2;
    const next = new Int32Array(Math.min(cap, DENSE_LIMIT));
    next.set(this.dense);
    this.dense = next;
  }
}
