// Tokenizer edge cases against Lucene StandardTokenizer (UAX #29) behaviour.
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_LENGTH, tokenize } from './tokenizer.js';

describe('tokenize', () => {
  it('splits on spaces and punctuation, keeps case', () => {
    expect(tokenize('Hello, World! (BM25) test-case')).toEqual(['Hello', 'World', 'BM25', 'test', 'case']);
  });
  it('keeps decimal numbers and thousands separators together', () => {
    expect(tokenize('pi is 3.14, not 1,000.5; 2.')).toEqual(['pi', 'is', '3.14', 'not', '1,000.5', '2']);
  });
  it('joins letters and digits, and underscores', () => {
    expect(tokenize('covid19 3d IL-6 foo_bar _x_')).toEqual(['covid19', '3d', 'IL', '6', 'foo_bar', '_x_']);
  });
  it('keeps letter.letter and apostrophes inside words, not at the edges', () => {
    expect(tokenize("U.S.A. e.g. don't 'quoted' O'Neil's John’s")).toEqual(['U.S.A', 'e.g', "don't", 'quoted', "O'Neil's", 'John’s']);
  });
  it('does not join a letter and a digit across a period', () => {
    expect(tokenize('a.1 1.a v1.2')).toEqual(['a', '1', '1', 'a', 'v1.2']);
  });
  it('handles accents, combining marks and non-Latin scripts', () => {
    expect(tokenize('café naïve cafe\u0301 Ελληνικά русский')).toEqual(['café', 'naïve', 'cafe\u0301', 'Ελληνικά', 'русский']);
  });
  it('makes one token per Han ideograph and keeps Katakana runs', () => {
    expect(tokenize('中文字 カタカナ')).toEqual(['中', '文', '字', 'カタカナ']);
  });
  it('drops symbols, emoji and lone underscores', () => {
    expect(tokenize('α+β = γ 😀 ___ ±5%')).toEqual(['α', 'β', 'γ', '5']);
  });
  it('handles astral-plane letters as letters', () => {
    expect(tokenize('𝐀𝐁 x')).toEqual(['𝐀𝐁', 'x']);
  });
  it('splits tokens longer than 255 code units', () => {
    const long = 'a'.repeat(MAX_TOKEN_LENGTH * 2 + 3);
    expect(tokenize(long).map((t) => t.length)).toEqual([255, 255, 3]);
  });
  it('returns nothing for empty or separator-only input', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' \n\t.,;:!?')).toEqual([]);
  });
});
