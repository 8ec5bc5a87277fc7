/**
 * Property tests (fast-check) over the real service: arbitrary and near-valid request bodies for every write and
 * search route never produce a 5xx, and every non-2xx answer is the error envelope. Near-valid generators mix
 * good and bad values per field (negative and huge ids, out-of-range k, wrong types, huge exponents that parse
 * to Infinity) so validation paths deep inside the service are reached, not just the envelope check.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { errorOf, startTestServer, type TestServer } from './server-harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ limits: { maxDocsPerRequest: 20 } });
  await s.call('PUT', '/v1/collections/lex', {});
  await s.call('PUT', '/v1/collections/vec', { encoder: 'none', dim: 64 });
  await s.call('POST', '/v1/collections/lex/documents', {
    documents: [
      { id: 'a', text: 'alpha beta' },
      { id: 'b', text: 'beta gamma' },
    ],
  });
  await s.call('POST', '/v1/collections/vec/documents', { documents: [{ id: 'x', vector: { indices: [1, 2], values: [1, 2] } }] });
});
afterAll(() => s.close());

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

function expectWellFormed(res: { statusCode: number }, ok: number[]) {
  expect(res.statusCode).toBeLessThan(500);
  if (!ok.includes(res.statusCode)) errorOf(res as never);
}

const anyNumber = fc.oneof(fc.integer({ min: -5, max: 70 }), fc.double({ noNaN: true }), fc.constant(1e308), fc.integer());
const weird = fc.oneof(fc.string(), anyNumber, fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
const indicesValues = fc.record(
  {
    indices: fc.array(fc.oneof(fc.integer({ min: -2, max: 70 }), weird), { maxLength: 6 }),
    values: fc.array(fc.oneof(anyNumber, weird), { maxLength: 6 }),
  },
  { requiredKeys: [] },
);
const tokenMap = fc.dictionary(fc.oneof(fc.constantFrom('alpha', 'beta', 'zzz', ''), fc.string()), fc.oneof(anyNumber, weird), {
  maxKeys: 4,
});
const vector = fc.oneof(indicesValues, tokenMap, weird);
const searchBody = fc.record(
  {
    query: fc.oneof(fc.constantFrom('alpha', 'beta gamma', ''), weird),
    vector,
    k: fc.oneof(fc.integer({ min: -2, max: 1002 }), weird),
    params: fc.record(
      { queryCut: fc.oneof(fc.integer({ min: -1, max: 2000 }), weird), heapFactor: anyNumber, exact: fc.oneof(fc.boolean(), weird) },
      { requiredKeys: [] },
    ),
    filter: fc.oneof(
      fc.record(
        { must: fc.array(fc.record({ field: fc.string(), eq: weird }, { requiredKeys: [] }), { maxLength: 2 }) },
        { requiredKeys: [] },
      ),
      weird,
    ),
    explain: fc.oneof(fc.boolean(), weird),
    include: fc.oneof(fc.array(fc.constantFrom('title', 'text', 'metadata', 'vector')), weird),
    prf: fc.oneof(fc.record({ docs: anyNumber, terms: anyNumber }, { requiredKeys: [] }), weird),
  },
  { requiredKeys: [] },
);
const documentBody = fc.record(
  {
    id: fc.oneof(fc.constantFrom('d1', 'd2', '', 'é'.repeat(300)), weird),
    title: fc.oneof(fc.string(), weird),
    text: fc.oneof(fc.constantFrom('alpha text', ''), weird),
    vector,
    dense: fc.oneof(fc.array(anyNumber, { maxLength: 3 }), weird),
    metadata: fc.oneof(fc.dictionary(fc.string(), weird, { maxKeys: 3 }), weird),
  },
  { requiredKeys: [] },
);

/** JSON text in which some finite numbers are rewritten as 1e999 (parses to Infinity). */
const withInfinities = (v: unknown, bits: number) => {
  let i = 0;
  return JSON.stringify(v).replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, (m) => ((bits >> (i++ % 16)) & 1 ? '1e999' : m));
};

it('search bodies never cause a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(searchBody, fc.constantFrom('lex', 'vec', 'ghost'), fc.nat(0xffff), async (body, name, bits) => {
      const res = await s.call('POST', `/v1/collections/${name}/search`, withInfinities(body, bits));
      expectWellFormed(res, [200]);
    }),
    { numRuns: RUNS },
  );
});

it('batch search bodies never cause a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(searchBody, { maxLength: 3 }), async (searches) => {
      const res = await s.call('POST', '/v1/collections/vec/search/batch', { searches });
      expectWellFormed(res, [200]);
      if (res.statusCode === 200) expect(res.json().results).toHaveLength(searches.length);
    }),
    { numRuns: RUNS },
  );
});

it('upsert bodies never cause a 5xx; per-document errors are well-formed', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(documentBody, weird), { maxLength: 5 }),
      fc.constantFrom('lex', 'vec'),
      fc.nat(0xffff),
      async (documents, name, bits) => {
        const res = await s.call('POST', `/v1/collections/${name}/documents`, withInfinities({ documents }, bits));
        expectWellFormed(res, [200]);
        if (res.statusCode === 200) {
          const body = res.json();
          expect(body.indexed + body.errors.length).toBe(documents.length);
          for (const e of body.errors) {
            expect(e.code).toBe('INVALID_ARGUMENT');
            expect(e.message).toMatch(new RegExp(`^documents\\[${e.index}\\]`));
          }
        }
      },
    ),
    { numRuns: RUNS },
  );
});

it('arbitrary JSON on every body route never causes a 5xx', async () => {
  const routes: [string, string][] = [
    ['PUT', '/v1/collections/fuzz'],
    ['POST', '/v1/collections/lex/documents'],
    ['POST', '/v1/collections/lex/search'],
    ['POST', '/v1/collections/lex/search/batch'],
    ['POST', '/v1/encode'],
    ['POST', '/v1/collections/lex/optimize'],
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue(), async ([method, url], body) => {
      const res = await s.call(method, url, JSON.stringify(body));
      expectWellFormed(res, [200, 201, 409]);
    }),
    { numRuns: RUNS * 2 },
  );
});
