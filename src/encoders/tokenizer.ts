/**
 * The one file that imports the Hugging Face tokenizer library (`@huggingface/tokenizers`, pure JS, so it
 * installs offline with no native binary). Loads a `tokenizer.json` (WordPiece, byte-level BPE, SentencePiece-style
 * Metaspace BPE with byte fallback, …) and exposes what the encoders need: content ids without special tokens, the
 * special tokens the post-processor wraps a single sequence in, special ids, vocabulary size, id ↔ token.
 *
 * Truncation is done by the caller (src/encoders/sequences.ts) on content ids, then the prefix/suffix specials are
 * added: this equals HF's `truncation=True, max_length=N` for single sequences and lets chunking and the echo
 * prompt reuse the same pieces. Used by the encode pipeline (worker thread) and by encoders on the main thread
 * (decode/lookup, idf queries).
 */
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { SpladexError } from '../core/errors.js';

/** A loaded tokenizer. All ids are in `[0, vocabSize)`. */
export interface TextTokenizer {
  /** max id + 1 over the vocabulary and added tokens. */
  readonly vocabSize: number;
  /** Sorted ids of tokens marked `special` in tokenizer.json (e.g. [PAD] [UNK] [CLS] [SEP] [MASK], <s>). */
  readonly specialIds: Uint32Array;
  /** Special ids the post-processor puts before / after a single sequence (BERT: [CLS] / [SEP]; Mistral: <s> / none). */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  /** Id used for padding (tokenizer.json padding.pad_id, else [PAD]/<pad>, else 0). */
  readonly padId: number;
  /** Token ids of `text` without special tokens, untruncated. */
  encodeContent(text: string): number[];
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  padding?: { pad_id?: number } | null;
  model?: { vocab?: Record<string, number> | [string, number][] };
}

/**
 * Builds a tokenizer from a parsed tokenizer.json object. Throws INVALID_ARGUMENT (prefixed with `label`) when
 * the library rejects it.
 */
export function buildTokenizer(json: unknown, label: string): TextTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json as object, {});
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `${label}: unsupported tokenizer.json (${(e as Error).message})`, { cause: e });
  }
  const j = json as TokenizerJson;
  const vocab = tok.get_vocab(true);
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;
  for (const a of j.added_tokens ?? []) if (a.id > maxId) maxId = a.id;
  const specialIds = Uint32Array.from(
    [...new Set((j.added_tokens ?? []).filter((a) => a.special === true).map((a) => a.id))].sort((a, b) => a - b),
  );
  const encodeContent = (text: string): number[] => tok.encode(text, { add_special_tokens: false }).ids;
  const { prefixIds, suffixIds } = findSpecialLayout((t) => tok.encode(t, { add_special_tokens: true }).ids, encodeContent);
  const padId = j.padding?.pad_id ?? tok.token_to_id('[PAD]') ?? tok.token_to_id('<pad>') ?? tok.token_to_id('<|pad|>') ?? 0;
  return {
    vocabSize: maxId + 1,
    specialIds,
    prefixIds,
    suffixIds,
    padId,
    encodeContent,
    idToToken: (id) => tok.id_to_token(id),
    tokenToId: (token) => tok.token_to_id(token),
  };
}

/** Reads and parses `file` as a tokenizer.json. Throws INVALID_ARGUMENT naming `label` and the file. */
export async function loadTokenizer(file: string, label: string): Promise<TextTokenizer> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `${label}: cannot read tokenizer (${(e as Error).message})`, { cause: e });
  }
  return buildTokenizer(json, label);
}

/**
 * Locates the content of a probe text inside its with-specials encoding: what comes before is the prefix, after
 * is the suffix. Works for TemplateProcessing, BertProcessing, RobertaProcessing and no post-processor alike.
 */
function findSpecialLayout(
  withSpecials: (t: string) => number[],
  content: (t: string) => number[],
): { prefixIds: number[]; suffixIds: number[] } {
  for (const probe of ['hello', 'a', 'x', '1']) {
    const all = withSpecials(probe);
    const c = content(probe);
    if (c.length === 0) continue;
    for (let start = 0; start + c.length <= all.length; start++) {
      let same = true;
      for (let k = 0; k < c.length && same; k++) same = all[start + k] === c[k];
      if (same) return { prefixIds: all.slice(0, start), suffixIds: all.slice(start + c.length) };
    }
  }
  return { prefixIds: [], suffixIds: [] };
}
