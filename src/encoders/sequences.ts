/**
 * From texts to model inputs: token windows (truncation, chunking, the echo prompt) and length-sorted batches.
 * Pure; used by the encode pipeline inside a worker thread.
 *
 * Window layout (PyTorch references in scripts/make-fixtures.py use the same definition):
 * - splade / dense / idf: `prefix + content[:room] + suffix`, room = maxLength − #specials; with chunking, content is
 *   cut into consecutive windows of `room` tokens (at least one window, at most maxChunks), pooled over all positions.
 * - echo: `prefix + tok(echo.prefix) + c + tok(echo.separator) + c + suffix` with c = content[:L],
 *   L = ⌊(maxLength − #specials − |tok(prefix)| − |tok(separator)|) / 2⌋; pooling covers the second `c` only.
 *   Each piece is tokenised separately so the second copy's positions are known exactly.
 */
import { SpladexError } from '../core/errors.js';
import type { EncoderManifest } from './manifest.js';
import type { TextTokenizer } from './tokenizer.js';

/** One model input row. Pooling covers positions `[poolStart, poolEnd)`; `text` is the index of its source text. */
export interface TokenWindow {
  readonly ids: readonly number[];
  readonly poolStart: number;
  readonly poolEnd: number;
  readonly text: number;
}

/** Pre-tokenised echo prompt pieces (computed once per pipeline). */
export interface EchoPieces {
  readonly prefix: readonly number[];
  readonly separator: readonly number[];
}

/** Tokenises the echo prompt pieces of a manifest. */
export function echoPiecesOf(m: EncoderManifest, tok: TextTokenizer): EchoPieces {
  return {
    prefix: m.echo?.prefix ? tok.encodeContent(m.echo.prefix) : [],
    separator: m.echo?.separator ? tok.encodeContent(m.echo.separator) : [],
  };
}

/** Content tokens per window for a manifest (throws INVALID_ARGUMENT if maxLength leaves no room). */
export function windowRoom(m: EncoderManifest, tok: TextTokenizer, echo: EchoPieces): number {
  const specials = tok.prefixIds.length + tok.suffixIds.length;
  const room =
    m.kind === 'echo' ? Math.floor((m.maxLength - specials - echo.prefix.length - echo.separator.length) / 2) : m.maxLength - specials;
  if (room < 1) {
    throw new SpladexError('INVALID_ARGUMENT', `maxLength ${m.maxLength} leaves no room for text after special tokens and prompt`);
  }
  return room;
}

/** Appends the windows of text number `textIdx` to `out`. */
export function pushWindows(
  content: readonly number[],
  textIdx: number,
  m: EncoderManifest,
  tok: TextTokenizer,
  echo: EchoPieces,
  room: number,
  out: TokenWindow[],
): void {
  const chunking = m.chunking && m.kind !== 'dense';
  const nWindows = chunking ? Math.min(m.maxChunks, Math.max(1, Math.ceil(content.length / room))) : 1;
  for (let w = 0; w < nWindows; w++) {
    const c = content.slice(w * room, (w + 1) * room);
    if (m.kind === 'echo') {
      const head = [...tok.prefixIds, ...echo.prefix, ...c, ...echo.separator];
      const ids = [...head, ...c, ...tok.suffixIds];
      out.push({ ids, poolStart: head.length, poolEnd: head.length + c.length, text: textIdx });
    } else {
      const ids = [...tok.prefixIds, ...c, ...tok.suffixIds];
      out.push({ ids, poolStart: 0, poolEnd: ids.length, text: textIdx });
    }
  }
}

/**
 * Groups windows into batches of similar length: sorted by length, a batch grows while
 * `count × longest <= maxBatchTokens` (a single longer window still forms its own batch). Returns window indices.
 */
export function planBatches(windows: readonly TokenWindow[], maxBatchTokens: number, maxBatchRows = 256): number[][] {
  const order = windows.map((_, i) => i).sort((a, b) => windows[a].ids.length - windows[b].ids.length || a - b);
  const batches: number[][] = [];
  let cur: number[] = [];
  for (const i of order) {
    const len = windows[i].ids.length; // ascending, so this is the batch's longest
    if (cur.length > 0 && ((cur.length + 1) * len > maxBatchTokens || cur.length >= maxBatchRows)) {
      batches.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}
