/**
 * Lucene's English stopword list (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`, 33 words), the list Anserini's
 * default analyzer removes. Matched against lower-cased tokens after possessive removal, before stemming.
 */

/** The 33 stopwords of Lucene's EnglishAnalyzer. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'but',
  'by',
  'for',
  'if',
  'in',
  'into',
  'is',
  'it',
  'no',
  'not',
  'of',
  'on',
  'or',
  'such',
  'that',
  'the',
  'their',
  'then',
  'there',
  'these',
  'they',
  'this',
  'to',
  'was',
  'will',
  'with',
]);
