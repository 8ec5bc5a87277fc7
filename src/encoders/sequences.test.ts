/** Unit tests of token windows (truncation, chunking, echo prompt) and length-sorted batching. */
import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import { planBatches, pushWindows, windowRoom, type TokenWindow } from './sequences.js';
import type { TextTokenizer } from './tokenizer.js';

// A fake tokenizer: content ids are given directly; [CLS]=1 before, [SEP]=2 after.
const tok: TextTokenizer = {
  vocabSize: 100,
  specialIds: Uint32Array.from([0, 1, 2]),
  prefixIds: [1],
  suffixIds: [2],
  padId: 0,
  encodeContent: (t) => (t === '' ? [] : t.split(' ').map(Number)),
  idToToken: (id) => String(id),
  tokenToId: (s) => Number(s),
};
const base = { dim: 100, files: { model: 'm.onnx', tokenizer: 't.json' } };
const content = Array.from({ length: 10 }, (_, i) => 10 + i);

describe('pushWindows', () => {
  it('truncates at maxLength including specials', () => {
    const m = parseManifest({ ...base, kind: 'splade', maxLength: 6 }, 't');
    const out: TokenWindow[] = [];
    pushWindows(content, 3, m, tok, { prefix: [], separator: [] }, windowRoom(m, tok, { prefix: [], separator: [] }), out);
    expect(out).toEqual([{ ids: [1, 10, 11, 12, 13, 2], poolStart: 0, poolEnd: 6, text: 3 }]);
  });

  it('chunking cuts content into windows of maxLength (at least one, at most maxChunks)', () => {
    const m = parseManifest({ ...base, kind: 'splade', maxLength: 6, chunking: true, maxChunks: 2 }, 't');
    const out: TokenWindow[] = [];
    pushWindows(content, 0, m, tok, { prefix: [], separator: [] }, 4, out);
    expect(out.map((w) => w.ids)).toEqual([
      [1, 10, 11, 12, 13, 2],
      [1, 14, 15, 16, 17, 2],
    ]);
    const empty: TokenWindow[] = [];
    pushWindows([], 0, m, tok, { prefix: [], separator: [] }, 4, empty);
    expect(empty.map((w) => w.ids)).toEqual([[1, 2]]);
  });

  it('echo repeats the (truncated) text after the prompt and pools over the second copy only', () => {
    const m = parseManifest({ ...base, kind: 'echo', maxLength: 12, echo: { prefix: 'p', separator: 's' } }, 't');
    const echo = { prefix: [50], separator: [60, 61] };
    const room = windowRoom(m, tok, echo); // (12 - 2 - 1 - 2) / 2 = 3
    expect(room).toBe(3);
    const out: TokenWindow[] = [];
    pushWindows(content, 0, m, tok, echo, room, out);
    expect(out[0].ids).toEqual([1, 50, 10, 11, 12, 60, 61, 10, 11, 12, 2]);
    expect(out[0].ids.slice(out[0].poolStart, out[0].poolEnd)).toEqual([10, 11, 12]);
  });

  it('refuses a maxLength that leaves no room for text', () => {
    const m = parseManifest({ ...base, kind: 'echo', maxLength: 4, echo: { prefix: 'p' } }, 't');
    expect(() => windowRoom(m, tok, { prefix: [5, 6], separator: [] })).toThrow(/leaves no room/);
  });
});

describe('planBatches', () => {
  it('groups by length and bounds padded tokens per batch', () => {
    const lens = [5, 100, 6, 50, 7, 100, 49];
    const windows = lens.map((n, i) => ({ ids: new Array<number>(n).fill(3), poolStart: 0, poolEnd: n, text: i }));
    const batches = planBatches(windows, 200);
    expect(batches.flat().sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const b of batches) {
      const longest = Math.max(...b.map((i) => lens[i]));
      expect(b.length === 1 || b.length * longest <= 200).toBe(true);
    }
    expect(batches).toEqual([[0, 2, 4, 6], [3, 1], [5]]); // 4 x 49 = 196 and 2 x 100 = 200 tokens
  });
});
