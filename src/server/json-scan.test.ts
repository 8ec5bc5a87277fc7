/**
 * json-scan.ts: the chunked parse equals JSON.parse (random JSON with hostile strings, and random corruptions of
 * it: rejected exactly when JSON.parse rejects), the per-object key limit names its path, `__proto__` keys are
 * refused in every spelling, and a large body yields to the event loop while it is parsed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpladexError } from '../core/errors.js';
import { parseJsonChunked, scanJson } from './json-scan.js';
import { TimeSlicer } from '../core/time-slice.js';

const LIMITS = { maxKeysPerObject: 1_000_000, maxKeysName: 'test' };

// Strings full of what a naive scanner trips on: quotes, backslashes, brackets, separators, unicode, controls.
const hostileString = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', 'a', 'é', '😀', '\n', '\u2028', '\u0000', ' ') }),
  fc.string({ unit: 'grapheme' }),
);
const { value: jsonValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    // biome-ignore lint/correctness/noPrecisionLoss: a literal JSON.parse rounds, on purpose (the scan must agree)
    fc.constantFrom(null, true, false, 0, -0, 1e21, -1.5e-7, 12345678901234567890),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    hostileString,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
}));
// Top-level objects like request bodies: a few plain members and one or two big arrays.
const body = fc.dictionary(
  fc.oneof(fc.constantFrom('documents', 'searches', 'k'), hostileString),
  fc.oneof(jsonValue, fc.array(jsonValue, { maxLength: 30 })),
  { maxKeys: 5 },
);
const indent = fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 2, '\t', ' \n '.replace('\n', '')));

function hasProtoKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasProtoKey);
  if (v !== null && typeof v === 'object')
    return Object.keys(v).some((k) => k === '__proto__' || hasProtoKey((v as Record<string, unknown>)[k]));
  return false;
}

/** Runs the chunked parser on every size (chunkMinChars 0) and checks it against JSON.parse. */
async function expectSameAsJsonParse(text: string): Promise<void> {
  let expected: unknown;
  let jsonError = false;
  try {
    expected = JSON.parse(text);
  } catch {
    jsonError = true;
  }
  let got: unknown;
  let error: unknown;
  try {
    got = await parseJsonChunked(text, { ...LIMITS, where: 'body', chunkMinChars: 0 });
  } catch (e) {
    error = e;
  }
  if (!jsonError && hasProtoKey(expected)) {
    expect((error as Error).message).toBe('body: must not contain a "__proto__" key');
  } else if (jsonError) {
    // A corrupted text may also trip the __proto__ check first; either way a 400 INVALID_ARGUMENT.
    expect(error).toBeInstanceOf(SpladexError);
    expect((error as SpladexError).code).toBe('INVALID_ARGUMENT');
  } else {
    expect(error).toBeUndefined();
    expect(got).toEqual(expected);
    expect(JSON.stringify(got)).toBe(JSON.stringify(expected)); // key order too
  }
}

describe('parseJsonChunked', () => {
  it('equals JSON.parse on random bodies (hostile strings, nested arrays, any whitespace)', async () => {
    await fc.assert(
      fc.asyncProperty(body, indent, async (value, space) => {
        await expectSameAsJsonParse(JSON.stringify(value, null, space));
      }),
      { numRuns: 600 },
    );
  });

  it('rejects exactly what JSON.parse rejects, on random corruptions of a valid body', async () => {
    const edit = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('delete', 'insert', 'replace'),
      ch: fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', ' ', '1', 'x'),
    });
    await fc.assert(
      fc.asyncProperty(body, fc.array(edit, { minLength: 1, maxLength: 3 }), async (value, edits) => {
        let text = JSON.stringify(value);
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          const tail = e.op === 'insert' ? text.slice(at) : text.slice(at + 1);
          text = text.slice(0, at) + (e.op === 'delete' ? '' : e.ch) + tail;
        }
        await expectSameAsJsonParse(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('pinned: empty arrays and objects, blanks, duplicate keys, top-level non-objects', async () => {
    for (const text of [
      '{}',
      ' { } ',
      '{"a":[]}',
      '{"a":[ ]}',
      '{"a": [ 1 , [2,[3]] , {"b":[]} ] }',
      '{"a":1,"b":2,"a":3}',
      '[1,2]',
      '"x"',
      '7',
      '{"a":[1,]}',
      '{"a":[1]]}',
      '{"a":[1] 2}',
      '{"a":1,}',
      '{,"a":1}',
      '{"a"::1}',
      '{"a":1}x',
      'x{"a":1}',
      '{"a":[1}',
      '{"a":1]',
      '{"a\\"":"]"}',
    ]) {
      await expectSameAsJsonParse(text);
    }
  });

  it('yields to the event loop while parsing a large body', async () => {
    const documents = Array.from({ length: 20_000 }, (_, i) => ({
      id: `d${i}`,
      vector: { indices: [i, i + 1, i + 2], values: [0.5, 0.25, 0.125] },
      text: 'quote " and \\ and ] }'.repeat(8),
    }));
    const text = JSON.stringify({ documents });
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const got = await parseJsonChunked(text, { ...LIMITS, where: 'body' });
    running = false;
    expect(got).toEqual({ documents });
    expect(text.length).toBeGreaterThan(4 * 1024 * 1024);
    expect(turns).toBeGreaterThan(2);
  });
});

describe('scanJson limits', () => {
  const limits = { maxKeysPerObject: 3, maxKeysName: 'maxDocTerms' };

  it('refuses an object with too many keys, naming its path and count', async () => {
    const text = JSON.stringify({ documents: [{ id: 'a' }, { id: 'b', vector: { a: 1, b: 2, c: 3, 'd"]': 4, e: 5 } }] });
    await expect(scanJson(text, limits, 'body', new TimeSlicer())).rejects.toThrow(
      'documents[1].vector: at most 3 keys in one object (maxDocTerms, the most any field allows); this one has 5',
    );
    await expect(scanJson('{"a":1,"b":2,"c":3,"d":4}', limits, 'body line 4', new TimeSlicer())).rejects.toThrow(
      /^body line 4: at most 3 keys/,
    );
    await expect(scanJson('{"a":{"x":1,"y":2,"z":3},"b":[{"p":1}]}', limits, 'body', new TimeSlicer())).resolves.not.toBeNull();
  });

  it('skips numeric arrays whole but still sees what follows them and what mixed arrays hold (element paths)', async () => {
    // A numeric array at depth ≥ 3 is jumped over (NUMERIC_RUN); a mixed one is scanned and counts its elements.
    const mixed =
      '{"searches":[{"vector":{"indices":[1, 2,3e-2 ,-4.5E+1],"values":[0.5,0.25,1,2]}},{"v":[1,2,{"a":1,"b":2,"c":3,"d":4}]}]}';
    await expect(scanJson(mixed, limits, 'body', new TimeSlicer())).rejects.toThrow(
      'searches[1].v[2]: at most 3 keys in one object (maxDocTerms, the most any field allows); this one has 4',
    );
    const after = '{"s":[{"x":[[1,2],[3,4]],"y":{"a":1,"b":2,"c":3,"d":4}}]}';
    await expect(scanJson(after, limits, 'body', new TimeSlicer())).rejects.toThrow(/^s\[0\]\.y: at most 3 keys/);
    await expect(scanJson('{"s":[{"x":[[1,2],[3,{"__proto__":1}]]}]}', LIMITS, 'body', new TimeSlicer())).rejects.toThrow(/__proto__/);
    const ok = '{"s":[{"x":[[],[ ],[1],[1,2,3]]}]}';
    await expect(parseJsonChunked(ok, { ...LIMITS, where: 'body' })).resolves.toEqual(JSON.parse(ok));
  });

  it('refuses __proto__ keys in every spelling, but not as a value or inside another key', async () => {
    for (const text of ['{"__proto__":1}', '{"a":[{"__proto__":{}}]}', '{"\\u005f_proto__":1}', '{"__pr\\u006fto\\u005F_" : 1}']) {
      await expect(scanJson(text, LIMITS, 'body', new TimeSlicer())).rejects.toThrow('body: must not contain a "__proto__" key');
    }
    for (const text of ['{"a":"__proto__"}', '{"x__proto__":1}', '{"a":["__proto__"]}']) {
      await expect(scanJson(text, LIMITS, 'body', new TimeSlicer())).resolves.not.toBeNull();
    }
  });
});
