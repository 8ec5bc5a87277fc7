/**
 * Bounded top-k over (score, external id) pairs with the API's tie rule: score descending, then id ascending
 * (JavaScript string order, i.e. UTF-16 code units — the same order segments use to assign ords). Used where
 * keys are not ords in id order: the memtable (slots are in arrival order) and the merge of per-source results.
 * Scores are rounded to float32 like TopK's, so equal scores compare equal wherever they were computed.
 * `setAfter(score, id)` keeps only candidates ranking strictly after (score, id), for cursor pages (TopK has the
 * same gate over ords).
 */

/** Min-heap on (score, id); the root is the worst kept entry. */
export class IdTopK {
  private readonly k: number;
  private readonly scores: number[] = [];
  private readonly ids: string[] = [];
  private readonly payloads: number[] = [];

  /** Gate: null = none. */
  private afterScore = Number.POSITIVE_INFINITY;
  private afterId: string | null = null;

  constructor(k: number) {
    this.k = k;
  }

  /** Keeps only candidates ranking strictly after (score, id): score lower, or equal with a larger id. */
  setAfter(score: number, id: string): void {
    this.afterScore = Math.fround(score);
    this.afterId = id;
  }

  get length(): number {
    return this.ids.length;
  }

  /** The k-th best score when full, else -Infinity. */
  threshold(): number {
    return this.ids.length >= this.k ? this.scores[0] : -Infinity;
  }

  /** Offers a candidate with an integer payload (e.g. a slot); returns true when kept. */
  push(id: string, score: number, payload = 0): boolean {
    if (this.k <= 0) return false;
    const s = Math.fround(score);
    if (this.afterId !== null && (s > this.afterScore || (s === this.afterScore && id <= this.afterId))) return false;
    const n = this.ids.length;
    if (n < this.k) {
      this.scores.push(s);
      this.ids.push(id);
      this.payloads.push(payload);
      let i = n;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(this.scores[i], this.ids[i], this.scores[p], this.ids[p])) break;
        this.swap(i, p);
        i = p;
      }
      return true;
    }
    if (!worse(this.scores[0], this.ids[0], s, id)) return false;
    this.scores[0] = s;
    this.ids[0] = id;
    this.payloads[0] = payload;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && worse(this.scores[r], this.ids[r], this.scores[l], this.ids[l])) c = r;
      if (!worse(this.scores[c], this.ids[c], this.scores[i], this.ids[i])) break;
      this.swap(i, c);
      i = c;
    }
    return true;
  }

  private swap(a: number, b: number): void {
    const s = this.scores[a];
    this.scores[a] = this.scores[b];
    this.scores[b] = s;
    const id = this.ids[a];
    this.ids[a] = this.ids[b];
    this.ids[b] = id;
    const p = this.payloads[a];
    this.payloads[a] = this.payloads[b];
    this.payloads[b] = p;
  }

  /** The kept entries, best first. */
  sorted(): { id: string; score: number; payload: number }[] {
    const out = this.ids.map((id, i) => ({ id, score: this.scores[i], payload: this.payloads[i] }));
    out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return out;
  }
}

/** True when (sa, ia) ranks below (sb, ib). */
function worse(sa: number, ia: string, sb: number, ib: string): boolean {
  return sa < sb || (sa === sb && ia > ib);
}
