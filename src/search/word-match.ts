/**
 * Which words of a stored text match a query, for highlighting (highlight.ts): a word matches when one of the
 * terms it is indexed as carries weight in the searched query vector (after PRF, if any). Per binding kind:
 * - `lexical`: the word's analyzed term (lower-cased, possessive stripped, stopwords dropped, Porter stem) is a
 *   query term (`Quakes` matches a query for `quake`);
 * - `model` (a vocabulary of word pieces): the word is split as WordPiece does — longest known prefix, then
 *   `##` continuations, on the folded word; SentencePiece/BPE spellings `▁word` and `Ġword` are tried first —
 *   and matches when its first piece carries weight, or all its pieces do (a shared suffix piece such as `##s`
 *   alone does not make `clouds` match `volcanoes`); a word that is itself a token matches when that token does;
 * - `none` (vectors only): the folded word is one of the query's tokens.
 * Callers: collection.ts.
 */
import type { SparseVector } from '../core/sparse-vector.js';
import { analyze } from '../encoders/lexical/lexical-encoder.js';
import { foldWord } from './highlight.js';
import type { TextBinding } from './text-binding.js';

/** Longest word the WordPiece split looks at (BERT's max_input_chars_per_word). */
const MAX_PIECE_WORD = 100;

/** A predicate over words (see the file comment). */
export function wordMatcher(binding: TextBinding, query: SparseVector): (word: string) => boolean {
  const ids = new Set<number>();
  for (let i = 0; i < query.indices.length; i++) if (query.values[i] > 0) ids.add(query.indices[i]);
  const vocab = binding.vocab;
  if (binding.kind === 'lexical') {
    const terms = new Set([...ids].map((id) => vocab.decode(id)));
    return (word) => {
      for (const t of analyze(word).keys()) if (terms.has(t)) return true;
      return false;
    };
  }
  if (binding.kind === 'none') {
    const tokens = new Set([...ids].map((id) => foldWord(vocab.decode(id))));
    return (word) => tokens.has(foldWord(word));
  }
  const has = (token: string) => {
    const id = vocab.lookup(token);
    return id !== undefined && ids.has(id);
  };
  return (word) => {
    const w = foldWord(word);
    for (const whole of [`\u2581${w}`, `\u0120${w}`, word, w]) if (vocab.lookup(whole) !== undefined) return has(whole);
    const pieces = wordPieces(w, (t) => vocab.lookup(t) !== undefined);
    return pieces !== null && (has(pieces[0]) || pieces.every(has));
  };
}

/** WordPiece's greedy longest-match-first split of `word`, or null when some part is not in the vocabulary. */
function wordPieces(word: string, known: (token: string) => boolean): string[] | null {
  if (word.length > MAX_PIECE_WORD) return null;
  const out: string[] = [];
  let start = 0;
  while (start < word.length) {
    let end = word.length;
    let piece: string | null = null;
    while (end > start) {
      const sub = (start > 0 ? '##' : '') + word.slice(start, end);
      if (known(sub)) {
        piece = sub;
        break;
      }
      end--;
    }
    if (piece === null) return null;
    out.push(piece);
    start = end;
  }
  return out;
}
