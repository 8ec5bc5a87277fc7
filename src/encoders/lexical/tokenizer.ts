/**
 * Word tokenizer close to Lucene's StandardTokenizer (Unicode UAX #29 word boundaries), as used by Anserini's
 * default English analyzer:
 * - runs of letters and digits form one token ("covid19", "3d"); `_` (ExtendNumLet) joins them ("foo_bar");
 * - letter (MidLetter | MidNumLet | ') letter stays together ("o'neil", "u.s", "john’s");
 * - digit (MidNum | MidNumLet | ') digit stays together ("3.14", "1,000");
 * - combining marks and format characters stick to the preceding character (WB4);
 * - each Han ideograph and each Hiragana character is a token of its own; Katakana runs stay together;
 * - everything else (spaces, punctuation, symbols, emoji) separates tokens;
 * - tokens longer than 255 UTF-16 units are split every 255 units (Lucene's default maxTokenLength).
 * Not modelled: Hebrew-letter quote rules, regional indicators, emoji tokens.
 *
 * Output preserves case; lower-casing, possessives and stopwords are the analyzer's job (lexical-analyzer.ts).
 * Hot path for bulk indexing: ASCII characters are classified through a table, others through cached regexes.
 */

/** Maximum token length in UTF-16 code units (Lucene StandardTokenizer default). */
export const MAX_TOKEN_LENGTH = 255;

// Word-break classes (subset of UAX #29 that matters for tokens).
const OTHER = 0;
const LETTER = 1;
const NUMERIC = 2;
const MID_LETTER = 3;
const MID_NUM_LET = 4;
const MID_NUM = 5;
const SINGLE_QUOTE = 6;
const EXTEND_NUM_LET = 7;
const EXTEND = 8;
const IDEOGRAPHIC = 9;
const KATAKANA = 10;

const ASCII_CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ASCII_CLASS[c] = NUMERIC;
for (let c = 65; c <= 90; c++) ASCII_CLASS[c] = LETTER;
for (let c = 97; c <= 122; c++) ASCII_CLASS[c] = LETTER;
ASCII_CLASS[0x3a] = MID_LETTER; // ':'
ASCII_CLASS[0x2e] = MID_NUM_LET; // '.'
ASCII_CLASS[0x27] = SINGLE_QUOTE; // "'"
ASCII_CLASS[0x2c] = MID_NUM; // ','
ASCII_CLASS[0x3b] = MID_NUM; // ';'
ASCII_CLASS[0x5f] = EXTEND_NUM_LET; // '_'

const MID_LETTER_CP = new Set([0xb7, 0x387, 0x5f4, 0x2027, 0xfe13, 0xfe55, 0xff1a]);
const MID_NUM_LET_CP = new Set([0x2018, 0x2019, 0x2024, 0xfe52, 0xff07, 0xff0e]);
const MID_NUM_CP = new Set([0x37e, 0x589, 0x60c, 0x60d, 0x66c, 0x7f8, 0x2044, 0xfe10, 0xfe14, 0xfe50, 0xfe54, 0xff0c, 0xff1b]);
const EXTEND_NUM_LET_CP = new Set([0x202f, 0x203f, 0x2040, 0x2054, 0xfe33, 0xfe34, 0xfe4d, 0xfe4e, 0xfe4f, 0xff3f]);

const RE_IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hiragana}]/u;
const RE_KATAKANA = /[\p{Script=Katakana}]/u;
const RE_LETTER = /[\p{L}\p{Nl}]/u;
const RE_NUMERIC = /\p{Nd}/u;
const RE_EXTEND = /[\p{M}\p{Cf}]/u;

function classifyNonAscii(cp: number): number {
  if (MID_NUM_LET_CP.has(cp)) return MID_NUM_LET;
  if (MID_LETTER_CP.has(cp)) return MID_LETTER;
  if (MID_NUM_CP.has(cp)) return MID_NUM;
  if (EXTEND_NUM_LET_CP.has(cp)) return EXTEND_NUM_LET;
  if (cp === 0x200b) return OTHER; // zero-width space separates words although it is Cf
  const ch = String.fromCodePoint(cp);
  if (RE_EXTEND.test(ch)) return EXTEND;
  if (RE_IDEOGRAPHIC.test(ch)) return IDEOGRAPHIC;
  if (RE_KATAKANA.test(ch)) return KATAKANA;
  if (RE_LETTER.test(ch)) return LETTER;
  if (RE_NUMERIC.test(ch)) return NUMERIC;
  return OTHER;
}

/**
 * Class and width of the character at `pos`, packed as `class | width << 4` (width 1 or 2 UTF-16 units), so the
 * scanning loop needs no closure or allocation (a closure-based version took 1.0 s for SciFact's 1.15 M tokens).
 */
function charInfo(text: string, pos: number, cache: Map<number, number>): number {
  const c = text.charCodeAt(pos);
  if (c < 128) return ASCII_CLASS[c] | 16;
  let cp = c;
  let width = 1;
  if (c >= 0xd800 && c <= 0xdbff && pos + 1 < text.length) {
    const d = text.charCodeAt(pos + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      cp = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
      width = 2;
    }
  }
  let k = cache.get(cp);
  if (k === undefined) {
    k = classifyNonAscii(cp);
    cache.set(cp, k);
  }
  return k | (width << 4);
}

/** Index just past any Extend/Format characters starting at `pos` (WB4: they belong to the previous char). */
function skipExtend(text: string, pos: number, cache: Map<number, number>): number {
  const n = text.length;
  while (pos < n) {
    const c = text.charCodeAt(pos);
    if (c < 128) return pos; // no ASCII character is Extend/Format
    const info = charInfo(text, pos, cache);
    if ((info & 15) !== EXTEND) break;
    pos += info >> 4;
  }
  return pos;
}

/**
 * Splits text into word tokens (original case), in order. Pure; `cache` memoises the class of non-ASCII code
 * points across calls (pass one Map per analyzer; it grows to at most the number of distinct code points seen).
 */
export function tokenize(text: string, cache: Map<number, number> = new Map()): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const info0 = charInfo(text, i, cache);
    const k0 = info0 & 15;
    if (k0 === IDEOGRAPHIC) {
      const end = skipExtend(text, i + (info0 >> 4), cache);
      out.push(text.slice(i, end));
      i = end;
      continue;
    }
    if (k0 !== LETTER && k0 !== NUMERIC && k0 !== KATAKANA && k0 !== EXTEND_NUM_LET) {
      i += info0 >> 4;
      continue;
    }
    const start = i;
    let last = k0;
    let hasWord = k0 !== EXTEND_NUM_LET;
    i = skipExtend(text, i + (info0 >> 4), cache);
    while (i < n) {
      const info = charInfo(text, i, cache);
      const k = info & 15;
      if (joins(last, k)) {
        last = k;
        if (k !== EXTEND_NUM_LET) hasWord = true;
        i = skipExtend(text, i + (info >> 4), cache);
        continue;
      }
      // Mid characters join only when the same kind of character follows (WB6/7, WB11/12).
      const midForLetter = k === MID_LETTER || k === MID_NUM_LET || k === SINGLE_QUOTE;
      const midForNumber = k === MID_NUM || k === MID_NUM_LET || k === SINGLE_QUOTE;
      if ((last === LETTER && midForLetter) || (last === NUMERIC && midForNumber)) {
        const after = skipExtend(text, i + (info >> 4), cache);
        if (after < n) {
          const infoAfter = charInfo(text, after, cache);
          if ((infoAfter & 15) === last) {
            i = skipExtend(text, after + (infoAfter >> 4), cache);
            continue;
          }
        }
      }
      break;
    }
    if (hasWord) pushToken(out, text, start, i);
  }
  return out;
}

/** Adjacency joins (WB5, WB8–10, WB13, WB13a, WB13b). */
function joins(prev: number, next: number): boolean {
  if (next === LETTER || next === NUMERIC) return prev === LETTER || prev === NUMERIC || prev === EXTEND_NUM_LET;
  if (next === KATAKANA) return prev === KATAKANA || prev === EXTEND_NUM_LET;
  if (next === EXTEND_NUM_LET) return prev === LETTER || prev === NUMERIC || prev === KATAKANA || prev === EXTEND_NUM_LET;
  return false;
}

function pushToken(out: string[], text: string, start: number, end: number): void {
  if (end - start <= MAX_TOKEN_LENGTH) {
    out.push(text.slice(start, end));
    return;
  }
  for (let s = start; s < end; s += MAX_TOKEN_LENGTH) out.push(text.slice(s, Math.min(end, s + MAX_TOKEN_LENGTH)));
}
