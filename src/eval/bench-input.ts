/**
 * User data for `npm run bench -- --input FILE --queries FILE --gt FILE`, in the shapes Seismic's users have:
 * - documents and queries: JSONL, one object per line with an `id` (string or number) and a `vector`, either a
 *   token map `{"token": weight}` (Seismic's JSONL input, also `"content"` beside it, ignored) or
 *   `{"indices": [...], "values": [...]}` (src/eval/synthetic.ts `readVectorsJsonl`). Tokens get ids in order of
 *   first appearance over the documents; query tokens no document has are dropped (they match nothing).
 * - ground truth (`--gt`), one of: JSONL `{"id": queryId, "neighbors": [docId, ...]}` (best first; also
 *   `"ids"`); TREC run lines `qid Q0 docid rank score [tag]`; or `qid docid ...` pairs (tab or space separated,
 *   e.g. Seismic's result TSV `qid\tdocid\trank\tscore`), kept in file order per query (re-sorted by rank when a
 *   rank column is present).
 * Ids are compared as strings. A ground-truth doc id absent from the documents counts as missed, never skipped.
 * Callers: bench-runner.ts.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SparseVector } from '../core/sparse-vector.js';
import { invalidArgument } from '../core/errors.js';
import { buildForwardIndex, type ForwardIndex } from '../index/forward-index.js';
import { readVectorsJsonl } from './synthetic.js';

/** Documents read from JSONL: the forward index, ids by ord, and the token dictionary for the queries. */
export interface BenchDocs {
  forward: ForwardIndex;
  ids: string[];
  /** Token → id (empty for `indices`/`values` files). */
  dict: Map<string, number>;
}

/** Reads at most `maxDocs` documents (0 = all). */
export async function readBenchDocs(path: string, maxDocs: number, log: (l: string) => void): Promise<BenchDocs> {
  const dict = new Map<string, number>();
  const vecs: SparseVector[] = [];
  const ids: string[] = [];
  const lookup = (tok: string): number => {
    let id = dict.get(tok);
    if (id === undefined) dict.set(tok, (id = dict.size));
    return id;
  };
  for await (const item of readVectorsJsonl(path, { dim: 1 << 30, lookup })) {
    vecs.push(item.vector);
    ids.push(item.id);
    if (vecs.length % 100_000 === 0) log(`  read ${vecs.length} docs`);
    if (maxDocs > 0 && vecs.length >= maxDocs) break;
  }
  let dim = dict.size;
  for (const v of vecs) if (v.indices.length > 0) dim = Math.max(dim, v.indices[v.indices.length - 1] + 1);
  return { forward: buildForwardIndex(vecs, dim), ids, dict };
}

/** Reads query vectors in the documents' id space; ids beyond the documents' dim are dropped. */
export async function readBenchQueries(path: string, docs: BenchDocs): Promise<{ ids: string[]; vectors: SparseVector[] }> {
  const ids: string[] = [];
  const vectors: SparseVector[] = [];
  const dim = docs.forward.dim;
  for await (const item of readVectorsJsonl(path, { dim: 1 << 30, lookup: (t) => docs.dict.get(t) })) {
    const v = item.vector;
    let m = 0;
    while (m < v.indices.length && v.indices[m] < dim) m++;
    ids.push(item.id);
    vectors.push(m === v.indices.length ? v : { indices: v.indices.slice(0, m), values: v.values.slice(0, m) });
  }
  return { ids, vectors };
}

/** Ground truth: query id → doc ids, best first (see the file header for the accepted formats). */
export async function readGroundTruth(path: string): Promise<Map<string, string[]>> {
  const out = new Map<string, { doc: string; rank: number }[]>();
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    const s = text.trim();
    if (s === '' || s.startsWith('#')) continue;
    const add = (q: string, doc: string, rank: number) => {
      let l = out.get(q);
      if (!l) out.set(q, (l = []));
      l.push({ doc, rank });
    };
    if (s.startsWith('{')) {
      let o: { id?: unknown; neighbors?: unknown; ids?: unknown };
      try {
        o = JSON.parse(s) as typeof o;
      } catch (e) {
        throw invalidArgument(`${path}:${line}`, `not valid JSON (${(e as Error).message})`);
      }
      const list = o.neighbors ?? o.ids;
      if ((typeof o.id !== 'string' && typeof o.id !== 'number') || !Array.isArray(list)) {
        throw invalidArgument(`${path}:${line}`, 'expected {"id": queryId, "neighbors": [docId, ...]}');
      }
      list.forEach((d, i) => add(String(o.id), String(d), i));
      continue;
    }
    const f = s.split(/\s+/);
    if (f.length < 2) throw invalidArgument(`${path}:${line}`, 'expected "qid docid ..." or a TREC run line');
    const trec = f.length >= 4 && f[1] === 'Q0';
    const doc = trec ? f[2] : f[1];
    const rankField = trec ? f[3] : f[2];
    const rank = rankField !== undefined && /^\d+$/.test(rankField) ? Number(rankField) : Number.MAX_SAFE_INTEGER;
    add(f[0], doc, rank);
  }
  const gt = new Map<string, string[]>();
  for (const [q, l] of out) {
    // Stable: equal (or absent) ranks keep file order.
    gt.set(
      q,
      l
        .map((x, i) => ({ ...x, i }))
        .sort((a, b) => a.rank - b.rank || a.i - b.i)
        .map((x) => x.doc),
    );
  }
  return gt;
}

/**
 * The top-`k` ground-truth ords of each query (doc ids absent from the documents map to -1, which no search
 * returns, so they count as missed). Throws INVALID_ARGUMENT naming the first query without ground truth.
 */
export function truthOrds(queryIds: readonly string[], gt: Map<string, string[]>, docIds: readonly string[], k: number): Int32Array[] {
  const ordOf = new Map<string, number>();
  docIds.forEach((id, o) => ordOf.set(id, o));
  return queryIds.map((q) => {
    const l = gt.get(q);
    if (!l) throw invalidArgument('--gt', `no ground truth for query "${q}"`);
    return Int32Array.from(l.slice(0, k), (d) => ordOf.get(d) ?? -1);
  });
}
