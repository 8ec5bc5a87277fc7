/**
 * `POST /v1/encode` and `spladex encode`: texts → vectors with their tokens, without touching any index.
 * Lexical with a collection uses its dictionary and live statistics (terms the collection has never seen are
 * left out: they have no id); lexical without one numbers the terms of each text locally, weights documents
 * with BM25 saturation at avgdl = dl, and gives every query term its count as weight (no statistics to compute
 * IDF from; repeats count as in search).
 */
import type { EncodeRequest } from '../config/request-schemas.js';
import { analyze, bm25DocWeight } from '../encoders/lexical/lexical-encoder.js';
import type { Collection } from './collection.js';
import { TimeSlicer } from '../core/time-slice.js';
import { toTokenMap } from './vector-input.js';

export interface EncodedVector {
  indices: number[];
  values: number[];
  tokens: Record<string, number>;
}

export async function encodeTexts(req: EncodeRequest, collection: Collection | undefined): Promise<EncodedVector[]> {
  const out: EncodedVector[] = [];
  const slicer = new TimeSlicer();
  for (const text of req.texts) {
    if (slicer.due()) await slicer.yield();
    if (collection) {
      const vocab = collection.binding.vocab;
      if (req.kind === 'query') {
        const v = await collection.binding.encodeQuery(text);
        out.push({ indices: Array.from(v.indices), values: Array.from(v.values), tokens: toTokenMap(v, vocab) });
      } else {
        const stats = collection.store.termStats();
        const tf = analyze(text);
        let dl = 0;
        for (const n of tf.values()) dl += n;
        const entries: [number, string, number][] = [];
        for (const [term, n] of tf) {
          const id = vocab.lookup(term);
          if (id !== undefined) entries.push([id, term, bm25DocWeight(n, dl, stats.avgdl || dl)]);
        }
        out.push(render(entries));
      }
    } else if (req.kind === 'query') {
      out.push(render([...analyze(text)].map(([t, n], i) => [i, t, n] as [number, string, number])));
    } else {
      const tf = analyze(text);
      let dl = 0;
      for (const n of tf.values()) dl += n;
      out.push(render([...tf].map(([t, n], i) => [i, t, bm25DocWeight(n, dl, dl)] as [number, string, number])));
    }
  }
  return out;
}

function render(entries: [number, string, number][]): EncodedVector {
  entries.sort((a, b) => a[0] - b[0]);
  const tokens: Record<string, number> = {};
  for (const [, t, w] of entries) tokens[t] = w;
  return { indices: entries.map((e) => e[0]), values: entries.map((e) => e[2]), tokens };
}
