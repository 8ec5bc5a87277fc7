/**
 * Chunked JSON body parsing, so a 32 MiB body neither holds the event loop for one long JSON.parse nor spends
 * seconds building an object that validation will refuse anyway.
 *
 * Two steps, both yielding to the event loop (TimeSlicer, ~8 ms slices):
 * 1. `scanJson`: one pass over the raw text that skips strings with indexOf, counts the keys of every object and
 *    refuses one with more than `maxKeysPerObject` keys (400 naming its path and the limit), refuses a key that
 *    decodes to `__proto__` (prototype poisoning), and records the layout of a top-level object: where each
 *    member's key and value lie, and, for a member whose value is an array, where its elements lie.
 * 2. `parseJsonChunked`: for a large top-level object, JSON.parses each member (and each element of an array
 *    member, e.g. `documents`, `searches`) on its own with yields between them and assembles the object; small
 *    bodies go to one JSON.parse. The result equals JSON.parse's (json-scan.test.ts checks it on random JSON and on
 *    random corruptions of it): the text is cut only at separators the grammar puts there, and each piece is a
 *    complete JSON value parsed by JSON.parse, so the text is valid exactly when every piece is. Duplicate keys
 *    keep the first key's position and the last value, as JSON.parse does; `__proto__` never reaches assignment.
 *
 * Measured (32 MiB bodies, this 2-core machine): JSON.parse of 11,554 `{indices, values}` docs 172–293 ms in one
 * piece; a 2.3 M-key token map 1.7–1.9 s in one piece. Callers: body-parsers.ts, lazy-batch.ts (`scanSingleArrayMember`: a
 * batch search body scanned, its searches parsed one at a time later).
 */
import { SpladexError } from '../core/errors.js';
import { TimeSlicer } from '../core/time-slice.js';

/** What the scanner enforces. */
export interface JsonScanLimits {
  /** The most keys any one object may have (the largest that any request schema allows). */
  maxKeysPerObject: number;
  /** How the limit is named in the refusal, e.g. `maxDocTerms`. */
  maxKeysName: string;
}

/** Bodies shorter than this (UTF-16 units) are parsed by one JSON.parse after the scan: < ~5 ms. */
export const CHUNKED_PARSE_MIN_CHARS = 1 << 20;

/** Layout of a top-level object, as offsets into the text. */
interface TopLayout {
  open: number;
  close: number;
  /** Per member: the separator before its key (`{` or `,`), its colon, the separator after its value. */
  memberStart: number[];
  colon: number[];
  memberEnd: number[];
  /** Per member: index into arrays of `arrayOpen`, or -1 when its value is not an array. */
  arrayOf: number[];
  /** Per array member: `[` offset, and the separators of its elements (commas, then `]`) in `elemSeps`. */
  arrayOpen: number[];
  sepFrom: number[];
  sepTo: number[];
  elemSeps: number[];
  /** False when the top-level grammar was broken in a way the pieces alone would not show. */
  wellFormed: boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJ = 123;
const CLOSE_OBJ = 125;
const OPEN_ARR = 91;
const CLOSE_ARR = 93;
const COMMA = 44;
const COLON = 58;

/** 1 for the characters the scanner acts on (`"{}[],:`), 0 for the rest. */
const STRUCTURAL = new Uint8Array(128);
for (const c of [QUOTE, OPEN_OBJ, CLOSE_OBJ, OPEN_ARR, CLOSE_ARR, COMMA, COLON]) STRUCTURAL[c] = 1;

/**
 * A run of number characters, blanks and commas: the inside of a numeric array (`indices`, `values`, `dense`).
 * Sticky, so `test` matches at `lastIndex` only; it runs in the regexp engine at a fraction of the loop's cost per
 * character. At most 65,536 characters per call, so one call never holds the event loop long (a longer array is
 * scanned by the loop).
 */
const NUMERIC_RUN = /[0-9eE.+\-\s,]{0,65536}/y;

/** Steps between clock reads; one step costs ~5–20 ns. */
const STEPS_PER_CHECK = 4096;

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

function isProtoKey(text: string, start: number, end: number): boolean {
  const len = end - start;
  if (len === 11) return text.startsWith('"__proto__"', start);
  // Escaped spellings (`\u005f_proto__`) are at most 9 × 6 + 2 characters long.
  if (len > 56 || len < 11) return false;
  let escaped = false;
  for (let i = start + 1; i < end - 1 && !escaped; i++) escaped = text.charCodeAt(i) === BACKSLASH;
  if (!escaped) return false;
  try {
    return JSON.parse(text.slice(start, end)) === '__proto__';
  } catch {
    return false;
  }
}

/** The path of the container at `depth` (1 = the top level), like `documents[3].vector`; `body` for the top. */
function pathOf(text: string, depth: number, kinds: number[], counts: number[], keyStart: number[], keyEnd: number[]): string {
  let path = '';
  for (let d = 1; d < depth; d++) {
    if (kinds[d] === 1) {
      path += `[${counts[d]}]`;
    } else {
      let key: string;
      try {
        key = String(JSON.parse(text.slice(keyStart[d], keyEnd[d])));
      } catch {
        key = '?';
      }
      path += path === '' ? key : `.${key}`;
    }
  }
  return path === '' ? 'body' : path;
}

/**
 * Scans `text` (see the header); returns the top-level layout, or null when the top level is not an object.
 * Does not validate JSON: JSON.parse of the pieces does. Yields through `slicer`.
 * @throws SpladexError INVALID_ARGUMENT `<where>: must not contain a "__proto__" key`, or
 *   `<path>: at most N keys in one object (maxName); this one has M` (`where` replaces `body` in paths).
 */
export async function scanJson(text: string, limits: JsonScanLimits, where: string, slicer: TimeSlicer): Promise<TopLayout | null> {
  const n = text.length;
  // Per depth (1 = top level): kind 0 object / 1 array, keys (objects) or commas (arrays) so far, current key.
  const kinds: number[] = [0];
  const counts: number[] = [0];
  const keyStart: number[] = [0];
  const keyEnd: number[] = [0];
  let depth = 0;
  let lastStrStart = -1;
  let lastStrEnd = -1;
  let overflowDepth = 0;
  let overflowPath = '';
  let top: TopLayout | null = null;
  let colonSinceSep = false;
  let steps = 0;
  let i = 0;
  while (i < n) {
    if (++steps === STEPS_PER_CHECK) {
      steps = 0;
      if (slicer.due()) await slicer.yield();
    }
    const c = text.charCodeAt(i);
    // Digits, letters, blanks and `.-+` are most of a number-heavy body: one table load skips them.
    if (c >= 128 || STRUCTURAL[c] === 0) {
      i++;
      continue;
    }
    if (c === QUOTE) {
      // A quote ends the string unless an odd number of backslashes precede it.
      let j = i + 1;
      for (;;) {
        if (++steps === STEPS_PER_CHECK) {
          steps = 0;
          if (slicer.due()) await slicer.yield();
        }
        const q = text.indexOf('"', j);
        if (q < 0) {
          j = n;
          break;
        }
        let b = q - 1;
        while (b > i && text.charCodeAt(b) === BACKSLASH) b--;
        if (((q - 1 - b) & 1) === 0) {
          j = q;
          break;
        }
        j = q + 1;
      }
      lastStrStart = i;
      lastStrEnd = j + 1;
      i = j + 1;
      continue;
    }
    if (c === OPEN_ARR && depth >= 2) {
      // An array of numbers only (the run reaches its `]`) holds nothing the scan acts on but its commas, which
      // count its elements for error paths only inside it: jump to the `]` and let the loop close it.
      NUMERIC_RUN.lastIndex = i + 1;
      NUMERIC_RUN.test(text);
      const end = NUMERIC_RUN.lastIndex;
      if (end < n && text.charCodeAt(end) === CLOSE_ARR && end > i + 1) {
        depth++;
        kinds[depth] = 1;
        counts[depth] = 0;
        i = end;
        continue;
      }
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      depth++;
      const kind = c === OPEN_OBJ ? 0 : 1;
      kinds[depth] = kind;
      counts[depth] = 0;
      if (depth === 1 && kind === 0) {
        top = {
          open: i,
          close: -1,
          memberStart: [],
          colon: [],
          memberEnd: [],
          arrayOf: [],
          arrayOpen: [],
          sepFrom: [],
          sepTo: [],
          elemSeps: [],
          wellFormed: isBlank(text, 0, i),
        };
        top.memberStart.push(i);
        colonSinceSep = false;
      } else if (depth === 2 && kind === 1 && top !== null && kinds[1] === 0 && top.colon.length === top.memberStart.length) {
        const m = top.colon.length - 1;
        if (top.arrayOf[m] === -1) {
          top.arrayOf[m] = top.arrayOpen.length;
          top.arrayOpen.push(i);
          top.sepFrom.push(top.elemSeps.length);
          top.sepTo.push(top.elemSeps.length);
        } else {
          top.wellFormed = false;
        }
      }
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (depth === 0) {
        if (top !== null) top.wellFormed = false;
      } else {
        if (depth === overflowDepth) {
          throw new SpladexError(
            'INVALID_ARGUMENT',
            `${overflowPath}: at most ${limits.maxKeysPerObject} keys in one object (${limits.maxKeysName}, the most any field allows); this one has ${counts[depth]}`,
          );
        }
        if (depth === 1 && top !== null) {
          if (c !== CLOSE_OBJ) top.wellFormed = false;
          top.close = i;
          top.memberEnd.push(i);
          if (top.memberEnd.length !== top.colon.length && !(top.colon.length === 0 && isBlank(text, top.open + 1, i)))
            top.wellFormed = false;
        } else if (depth === 2 && top !== null && kinds[1] === 0 && kinds[2] === 1) {
          const a = top.arrayOf[top.colon.length - 1];
          if (a !== undefined && a >= 0 && top.sepTo[a] === top.elemSeps.length) {
            top.elemSeps.push(i);
            top.sepTo[a] = top.elemSeps.length;
          }
        }
        depth--;
        if (depth === 0 && top !== null && top.close >= 0 && !isBlank(text, i + 1, n)) top.wellFormed = false;
      }
    } else if (c === COMMA) {
      if (kinds[depth] === 1) counts[depth]++;
      if (top !== null && depth === 1) {
        top.memberEnd.push(i);
        top.memberStart.push(i);
        if (!colonSinceSep) top.wellFormed = false;
        colonSinceSep = false;
      } else if (depth === 2 && top !== null && kinds[1] === 0 && kinds[2] === 1) {
        const a = top.arrayOf[top.colon.length - 1];
        if (a !== undefined && a >= 0 && top.sepTo[a] === top.elemSeps.length) {
          top.elemSeps.push(i);
          top.sepTo[a] = top.elemSeps.length;
        }
      }
    } else if (c === COLON && depth > 0 && kinds[depth] === 0) {
      const k = ++counts[depth];
      keyStart[depth] = lastStrStart;
      keyEnd[depth] = lastStrEnd;
      if (lastStrStart >= 0 && isProtoKey(text, lastStrStart, lastStrEnd))
        throw new SpladexError('INVALID_ARGUMENT', `${where}: must not contain a "__proto__" key`);
      if (k > limits.maxKeysPerObject && overflowDepth === 0) {
        overflowDepth = depth;
        overflowPath = pathOf(text, depth, kinds, counts, keyStart, keyEnd);
        if (overflowPath === 'body') overflowPath = where;
      }
      if (depth === 1 && top !== null) {
        if (colonSinceSep) top.wellFormed = false;
        colonSinceSep = true;
        top.colon.push(i);
        top.arrayOf.push(-1);
      }
    }
    i++;
  }
  if (overflowDepth !== 0) {
    // The object never closed (invalid JSON); still refuse on the count seen.
    throw new SpladexError(
      'INVALID_ARGUMENT',
      `${overflowPath}: at most ${limits.maxKeysPerObject} keys in one object (${limits.maxKeysName}, the most any field allows); this one has ${counts[overflowDepth]}`,
    );
  }
  if (top !== null && top.close < 0) top.wellFormed = false;
  return top;
}

function parsePiece(text: string, from: number, to: number, where: string, what: string): unknown {
  try {
    return JSON.parse(text.slice(from, to));
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `${where}: not valid JSON (${what}: ${(e as Error).message})`);
  }
}

function parseWhole(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `${where}: not valid JSON (${(e as Error).message})`);
  }
}

/** Options of `parseJsonChunked`. */
export interface ParseJsonOptions extends JsonScanLimits {
  /** Name of the body in messages (`body`, `body line 3`). */
  where: string;
  /** Texts at least this long are parsed piecewise; default CHUNKED_PARSE_MIN_CHARS (tests lower it). */
  chunkMinChars?: number;
  /** Slicer shared with the caller (NDJSON lines share one); default a new one. */
  slicer?: TimeSlicer;
}

/**
 * Parses JSON text like JSON.parse, after `scanJson`'s checks, yielding between pieces of a large top-level
 * object (see the header).
 * @throws SpladexError INVALID_ARGUMENT `<where>: not valid JSON (...)`, or one of `scanJson`'s refusals.
 */
export async function parseJsonChunked(text: string, options: ParseJsonOptions): Promise<unknown> {
  const slicer = options.slicer ?? new TimeSlicer();
  const where = options.where;
  const top = await scanJson(text, options, where, slicer);
  if (top === null || text.length < (options.chunkMinChars ?? CHUNKED_PARSE_MIN_CHARS)) return parseWhole(text, where);
  if (!top.wellFormed)
    throw new SpladexError(
      'INVALID_ARGUMENT',
      `${where}: not valid JSON (a separator or bracket of the top-level object is missing or misplaced)`,
    );
  const result: Record<string, unknown> = {};
  for (let m = 0; m < top.colon.length; m++) {
    if (slicer.due()) await slicer.yield();
    const key = memberKey(text, top, m, where);
    const a = top.arrayOf[m];
    let value: unknown;
    if (a < 0) {
      value = parsePiece(text, top.colon[m] + 1, top.memberEnd[m], where, key);
    } else {
      const items: unknown[] = [];
      const { starts, ends } = arrayElements(text, top, m, where, key);
      for (let e = 0; e < starts.length; e++) {
        if (slicer.due()) await slicer.yield();
        items.push(parsePiece(text, starts[e], ends[e], where, `${key}[${e}]`));
      }
      value = items;
    }
    result[key] = value;
  }
  return result;
}

/** The key of member `m` of a top-level layout (JSON.parse of its piece). */
function memberKey(text: string, top: TopLayout, m: number, where: string): string {
  const key = parsePiece(text, top.memberStart[m] + 1, top.colon[m], where, `key of member ${m + 1}`);
  if (typeof key !== 'string') throw new SpladexError('INVALID_ARGUMENT', `${where}: not valid JSON (member ${m + 1} has no string key)`);
  return key;
}

/**
 * Where the elements of array member `m` (key `key`) lie: `text.slice(starts[e], ends[e])` is element e, a piece
 * for JSON.parse; none for `[]`. Throws when the array itself is not well formed (blanks only around it, closed by
 * its own `]`).
 */
function arrayElements(text: string, top: TopLayout, m: number, where: string, key: string): { starts: number[]; ends: number[] } {
  const a = top.arrayOf[m];
  const open = top.arrayOpen[a];
  const from = top.sepFrom[a];
  const to = top.sepTo[a];
  const close = top.elemSeps[to - 1];
  if (
    to === from ||
    text.charCodeAt(close) !== CLOSE_ARR ||
    !isBlank(text, top.colon[m] + 1, open) ||
    !isBlank(text, close + 1, top.memberEnd[m])
  ) {
    throw new SpladexError('INVALID_ARGUMENT', `${where}: not valid JSON (${key}: the array is not well formed)`);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  if (to - from === 1 && isBlank(text, open + 1, close)) return { starts, ends };
  let start = open + 1;
  for (let s = from; s < to; s++) {
    starts.push(start);
    ends.push(top.elemSeps[s]);
    start = top.elemSeps[s] + 1;
  }
  return { starts, ends };
}

/**
 * For a body that is exactly one member `key` holding an array (`{"searches": [...]}`), after `scanJson`'s checks:
 * where its elements lie (see `arrayElements`), so a caller can parse and use them one at a time, each by
 * JSON.parse of its piece (lazy-batch.ts). Null for any other body (no such member, other members, a broken
 * top level), which the caller then parses whole with `parseJsonChunked` for the same answer or error as before.
 * The pieces are valid JSON exactly when the body is (see the header).
 */
export async function scanSingleArrayMember(
  text: string,
  options: ParseJsonOptions,
  key: string,
): Promise<{ starts: number[]; ends: number[] } | null> {
  const slicer = options.slicer ?? new TimeSlicer();
  const top = await scanJson(text, options, options.where, slicer);
  if (top === null || !top.wellFormed || top.colon.length !== 1 || top.arrayOf[0] < 0) return null;
  try {
    if (memberKey(text, top, 0, options.where) !== key) return null;
    return arrayElements(text, top, 0, options.where, key);
  } catch {
    return null;
  }
}
