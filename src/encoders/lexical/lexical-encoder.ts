/**
 * The `lexical` encoder (default, model-free): text analysis modelled on Anserini's DefaultEnglishAnalyzer:
 * StandardTokenizer-like split (tokenizer.ts) → remove English possessive `'s` → lower-case → drop Lucene's 33
 * English stopwords → Porter stem (porter-stemmer.ts, Lucene's variant). Documents are `title + " " + text`
 * (the caller joins them, see `documentText`).
 *
 * Output is term strings with their counts; mapping to term ids (the collection's growable dictionary) and BM25
 * weighting (bm25.ts, re-exported here) happen in the collection/service. Queries are analyzed like documents
 * and keep their counts: Lucene/Anserini turn a query into one SHOULD clause per token, so a term written q
 * times scores q times (issue 11: binary presence cost 0.07 nDCG@10 on verbose queries). Callers: the search service (documents and
 * queries), the CLI's `encode`, the BEIR runner. `analyze`/`analyzeQuery` are pure functions of their input; they
 * share one bounded memo of stems and character classes (a cache only: results never depend on it).
 */
import { tokenize } from './tokenizer.js';
import { ENGLISH_STOP_WORDS } from './stopwords.js';
import { porterStem } from './porter-stemmer.js';

export { K1, B, bm25DocWeight, bm25Idf } from './bm25.js';

/** Text a document is analyzed from: title and text joined by one space (either may be absent). */
export function documentText(title: string | undefined, text: string | undefined): string {
  if (title === undefined || title === '') return text ?? '';
  if (text === undefined || text === '') return title;
  return `${title} ${text}`;
}

/** Lucene's EnglishPossessiveFilter: drops a trailing `'s` / `’s` / `＇s` (either case of s). */
export function stripPossessive(token: string): string {
  const n = token.length;
  if (n >= 2) {
    const s = token.charCodeAt(n - 1);
    const q = token.charCodeAt(n - 2);
    if ((s === 115 || s === 83) && (q === 0x27 || q === 0x2019 || q === 0xff07)) return token.slice(0, n - 2);
  }
  return token;
}

/** Default bound on cached stems; SciFact has ~30k distinct words, MS MARCO a few million. */
const DEFAULT_STEM_CACHE = 200_000;

/**
 * Analyzer with reusable caches (non-ASCII character classes, stems). Not shared across threads; cheap to create.
 * The stem cache is cleared when it reaches `maxCachedStems`, so memory stays bounded.
 */
export class LexicalAnalyzer {
  private readonly classCache = new Map<number, number>();
  private readonly stems = new Map<string, string>();

  constructor(private readonly maxCachedStems = DEFAULT_STEM_CACHE) {}

  /** Analyzed terms in text order, stopwords removed (repeats kept). */
  terms(text: string): string[] {
    // Lower-casing the whole text once instead of each token saves an allocation per token (~15% of analysis
    // time on SciFact). Equivalent: no lower-case mapping changes a character's word-break class, and the
    // possessive filter accepts both cases of `s`.
    const raw = tokenize(text.toLowerCase(), this.classCache);
    const out: string[] = [];
    for (let i = 0; i < raw.length; i++) {
      const word = stripPossessive(raw[i]);
      if (word.length === 0 || ENGLISH_STOP_WORDS.has(word)) continue;
      out.push(this.stem(word));
    }
    return out;
  }

  /** Stemmed term → term frequency (≥ 1). Insertion order = first occurrence. */
  analyze(text: string): Map<string, number> {
    return this.countTerms(text, Infinity) as Map<string, number>;
  }

  /**
   * Query term → count (≥ 1), first-seen order; null as soon as more than `maxTerms` distinct terms are seen
   * (the rest of the text is not stemmed: a 1 MB query of 176k distinct words took 200–440 ms to analyze whole).
   */
  analyzeQuery(text: string, maxTerms: number): Map<string, number> | null {
    return this.countTerms(text, maxTerms);
  }

  /** The steps of `terms` (same lower-casing shortcut), counted into a map instead of listed. */
  private countTerms(text: string, maxTerms: number): Map<string, number> | null {
    const raw = tokenize(text.toLowerCase(), this.classCache);
    const tf = new Map<string, number>();
    for (let i = 0; i < raw.length; i++) {
      const word = stripPossessive(raw[i]);
      if (word.length === 0 || ENGLISH_STOP_WORDS.has(word)) continue;
      const stem = this.stem(word);
      const n = tf.get(stem);
      if (n !== undefined) tf.set(stem, n + 1);
      else if (tf.size >= maxTerms) return null;
      else tf.set(stem, 1);
    }
    return tf;
  }

  private stem(word: string): string {
    let stem = this.stems.get(word);
    if (stem === undefined) {
      stem = porterStem(word);
      if (this.stems.size >= this.maxCachedStems) this.stems.clear();
      this.stems.set(word, stem);
    }
    return stem;
  }
}

// Memo shared by the module-level functions: the class memo saves a regex test per non-ASCII character; the stem
// memo saves little on SciFact (whole corpus 0.84 s with it, 0.83 s without, noisy machine). Both are bounded
// (stems cleared at DEFAULT_STEM_CACHE words) and invisible to callers: results never depend on them.
const shared = new LexicalAnalyzer();

/** Stemmed term → term frequency (≥ 1) of `text`, in first-occurrence order. */
export function analyze(text: string): Map<string, number> {
  return shared.analyze(text);
}

/**
 * Query term → count of `text` (repeats counted, as Lucene does), first-seen order; null when it has more than
 * `maxTerms` distinct terms (the caller answers INVALID_ARGUMENT naming its field).
 */
export function analyzeQuery(text: string, maxTerms = Infinity): Map<string, number> | null {
  return shared.analyzeQuery(text, maxTerms);
}
