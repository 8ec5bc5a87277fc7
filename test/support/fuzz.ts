/**
 * HTTP fuzzing of a running server (issue 6; `scripts/fuzz-api.ts`, test/hardening-fuzz.test.ts): fast-check
 * generates whole requests — method, path (known routes, odd collection names and ids, encoded and unicode
 * segments, random paths), query string, content type (JSON, NDJSON, wrong and malformed types, none), and body
 * (near-valid search/document/collection bodies, wrong types, huge/negative/NaN-ish numbers, lone surrogates,
 * deep nesting, truncated or spliced JSON, huge arrays, broken NDJSON) — and sends them over real sockets.
 * Property: no answer is a 5xx other than 503 BUSY (load shedding, counted apart), no connection fails, every
 * non-2xx JSON answer is the error envelope, and /health, /ready and a search still work afterwards.
 * test/api-fuzz.test.ts covers body shapes through `inject`; this file adds the transport and routing layer.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';

export interface FuzzRequest {
  method: string;
  path: string;
  contentType: string | null;
  body: string | null;
  headers: Record<string, string>;
}

export interface FuzzAnswer {
  status: number;
  body: string;
  error?: string;
  /** The answer arrived before the request body was fully written (sendOverSocket). */
  early?: boolean;
}

export interface FuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  /** 5xx answers other than 503, and connection failures, with the request that caused them (first 20). */
  failures: { request: FuzzRequest; answer: FuzzAnswer }[];
  failureCount: number;
  /** Non-2xx JSON answers that were not the error envelope. */
  badEnvelopes: number;
  busy: number;
  /** Answers (counted in byStatus) that arrived before the body was fully sent, by status. */
  earlyAnswers: Record<string, number>;
  /**
   * Connections closed with no answer received while sending a body larger than the server's body limit: the
   * server refuses those from Content-Length (413) and closes, and the reset that follows can discard the answer
   * in the client's receive buffer (TCP's lingering-close problem). Not failures; a closure on any other request is.
   */
  closedOverLimit: number;
  /** The same, on a body whose content type or charset the server refuses from the headers (415). Not failures. */
  closedRefusedType: number;
  tookMs: number;
}

/** Collections the fuzzer expects to exist (see `seedFuzzCollections`). */
export const FUZZ_COLLECTIONS = ['fz', 'fzv'] as const;

/** Bodies at least this large go over a raw socket (sendOverSocket) so an early answer is read, not lost. */
const RAW_SOCKET_MIN_BODY_BYTES = 256 * 1024;

/** Sends one raw request; resolves with status 0 and the error on a connection failure (never throws). */
export function sendRaw(base: string, req: FuzzRequest, timeoutMs = 30_000): Promise<FuzzAnswer> {
  if (req.body !== null && Buffer.byteLength(req.body) >= RAW_SOCKET_MIN_BODY_BYTES) return sendOverSocket(base, req, timeoutMs);
  const url = new URL(base);
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.contentType !== null) headers['content-type'] = req.contentType;
    if (req.body !== null) headers['content-length'] = Buffer.byteLength(req.body);
    const r = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
    if (req.body !== null) r.write(req.body);
    r.end();
  });
}

/**
 * Sends a large request over a plain TCP socket, reading while it writes, as a browser does: a server may
 * answer (413 from Content-Length) before the body is sent and then close, and Node's http client reports the
 * write's EPIPE/ECONNRESET and drops an answer already received. Here whatever response arrived is parsed and
 * is the answer (`early: true` when it came before the body was fully written); the body stops being written
 * once an answer has begun. Only when no response bytes arrived at all is it a connection failure (status 0).
 */
export function sendOverSocket(base: string, req: FuzzRequest, timeoutMs = 30_000): Promise<FuzzAnswer> {
  const url = new URL(base);
  const body = Buffer.from(req.body ?? '', 'utf8');
  const head = [`${req.method} ${req.path} HTTP/1.1`, `host: ${url.host}`, 'connection: close', `content-length: ${body.length}`];
  if (req.contentType !== null) head.push(`content-type: ${req.contentType}`);
  for (const [k, v] of Object.entries(req.headers)) head.push(`${k}: ${v}`);
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let sentAll = false;
    let writeError: string | undefined;
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', (err) => {
      writeError = err.message;
    });
    socket.on('close', () => {
      const answer = parseHttpResponse(Buffer.concat(received));
      if (answer === null) resolve({ status: 0, body: '', error: writeError ?? 'closed without an answer' });
      else resolve({ ...answer, early: !sentAll });
    });
    socket.on('connect', async () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      const chunk = 64 * 1024;
      for (let at = 0; at < body.length; at += chunk) {
        if (socket.destroyed) return;
        if (received.length > 0) {
          socket.end();
          return;
        }
        if (!socket.write(body.subarray(at, at + chunk))) {
          await new Promise<void>((r) => {
            const done = (): void => {
              socket.off('drain', done).off('close', done);
              r();
            };
            socket.on('drain', done).on('close', done);
          });
        }
      }
      sentAll = true;
    });
  });
}

/** Status and body of an HTTP/1.1 response in `bytes` (Content-Length or up to the close), or null without a head. */
function parseHttpResponse(bytes: Buffer): { status: number; body: string } | null {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const headText = bytes.subarray(0, end).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(headText);
  if (m === null) return null;
  const len = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
  const rest = bytes.subarray(end + 4);
  return { status: Number(m[1]), body: (len === null ? rest : rest.subarray(0, Number(len[1]))).toString('utf8') };
}

// ---------------------------------------------------------------- arbitraries

const hugeNumbers = fc.constantFrom(
  '1e999',
  '-1e999',
  '1e308',
  '-0',
  '4294967296',
  '9007199254740993',
  '123456789012345678901234567890',
  '0.0000000000000000000001',
  '-1',
  '2147483648',
);
const nanish = fc.constantFrom('"NaN"', '"Infinity"', '"-Infinity"', 'null', '"1e999"', '""', '"0x10"', 'true', '[]', '{}');
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    'é'.repeat(600),
    'a'.repeat(5000),
    '../../etc/passwd',
    '%00',
    '<script>',
    'DROP TABLE',
  ),
);
/** A JSON scalar written as raw text (so numbers like 1e999 and escapes like \ud800 survive). */
const rawScalar = fc.oneof(
  fc.integer({ min: -5, max: 2000 }).map(String),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '1e999')),
  hugeNumbers,
  nanish,
  oddString.map((s) => JSON.stringify(s)),
  fc.constantFrom('"\\ud800"', '"\\udc00x"', '"\\u0000"'),
);
type Raw = string;
const rawValue: fc.Arbitrary<Raw> = fc.letrec<{ v: Raw }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    rawScalar,
    fc.array(tie('v'), { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
    fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom('query', 'k', 'vector', 'indices', 'values', 'id', 'text', 'documents', 'searches', '__proto__', 'constructor'),
            fc.string({ maxLength: 8 }),
          ),
          tie('v'),
        ),
        { maxLength: 4 },
      )
      .map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).v;

const field = (name: string, value: fc.Arbitrary<Raw>) =>
  fc.option(
    value.map((v) => `${JSON.stringify(name)}:${v}`),
    { nil: undefined },
  );
const obj = (...fields: fc.Arbitrary<string | undefined>[]) =>
  fc.tuple(...fields).map((fs) => `{${fs.filter((f) => f !== undefined).join(',')}}`);
const intish = fc.oneof(fc.integer({ min: -3, max: 1100 }).map(String), rawScalar);
const vectorRaw = fc.oneof(
  fc
    .tuple(
      fc.array(fc.integer({ min: -2, max: 70 }), { maxLength: 8 }),
      fc.array(fc.oneof(fc.double({ min: -1, max: 10, noNaN: true }).map(String), hugeNumbers), { maxLength: 8 }),
    )
    .map(([i, v]) => `{"indices":[${i.join(',')}],"values":[${v.join(',')}]}`),
  fc
    .dictionary(
      fc.oneof(fc.constantFrom('alpha', 'beta', 'zzz', ''), fc.string({ maxLength: 5 })),
      fc.double({ noNaN: true }).map((d) => (Number.isFinite(d) ? String(d) : '1e999')),
      { maxKeys: 4 },
    )
    .map(
      (d) =>
        `{${Object.entries(d)
          .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
          .join(',')}}`,
    ),
  rawValue,
);
const filterRaw = fc.oneof(
  fc
    .tuple(fc.constantFrom('lang', 'year', 'tags', 'nope', ''), fc.oneof(rawScalar, fc.constantFrom('"en"', '2020')))
    .map(([f, v]) => `{"must":[{"field":"${f}","eq":${v}}],"mustNot":[{"field":"year","gte":${v}}]}`),
  rawValue,
);
const searchRaw = obj(
  field(
    'query',
    fc.oneof(
      fc.constantFrom('"alpha"', '"beta gamma"', '""'),
      oddString.map((s) => JSON.stringify(s)),
      rawScalar,
    ),
  ),
  field('vector', vectorRaw),
  field('k', intish),
  field(
    'params',
    obj(
      field('queryCut', intish),
      field('heapFactor', rawScalar),
      field('exact', fc.oneof(fc.constantFrom('true', 'false'), rawScalar)),
      field('targetRecall', rawScalar),
      field('nKnn', intish),
    ),
  ),
  field('filter', filterRaw),
  field(
    'hybrid',
    obj(field('method', fc.constantFrom('"convex"', '"rrf"', '"x"')), field('alpha', rawScalar), field('candidates', intish)),
  ),
  field('prf', obj(field('docs', intish), field('terms', intish), field('weight', rawScalar))),
  field('explain', fc.oneof(fc.constantFrom('true', 'false'), rawScalar)),
  field('include', fc.oneof(fc.constantFrom('["title","text","metadata"]', '["vector"]', '[]'), rawValue)),
  field('dense', fc.oneof(fc.constantFrom('[0.1,0.2]', '[]'), rawValue)),
);
const docRaw = obj(
  field(
    'id',
    fc.oneof(
      fc.constantFrom('"d1"', '"d2"', '""', '"x/y"', '"%2F"'),
      oddString.map((s) => JSON.stringify(s)),
      rawScalar,
    ),
  ),
  field(
    'title',
    fc.oneof(
      oddString.map((s) => JSON.stringify(s)),
      rawScalar,
    ),
  ),
  field(
    'text',
    fc.oneof(
      fc.constantFrom('"alpha text"', '""'),
      oddString.map((s) => JSON.stringify(s)),
      rawScalar,
    ),
  ),
  field('vector', vectorRaw),
  field('metadata', fc.oneof(fc.constantFrom('{"lang":"en","year":2020,"tags":["a"]}', '{"year":"x"}', '{"__proto__":{"a":1}}'), rawValue)),
  field('dense', rawValue),
);
const collectionRaw = obj(
  field('encoder', fc.oneof(fc.constantFrom('"lexical"', '"none"', '"nope"', '"../x"'), rawScalar)),
  field('dim', intish),
  field('index', obj(field('nPostings', intish), field('approximateThreshold', intish), field('summaryEnergy', rawScalar))),
  field('metadata', fc.oneof(fc.constantFrom('{"lang":"keyword","year":"number"}', '{"x":"bad"}'), rawValue)),
  field('dense', obj(field('dim', intish), field('metric', fc.constantFrom('"cosine"', '"dot"', '"x"')))),
);

/** Structurally broken text: truncations, splices, deep nesting, huge arrays, non-JSON. */
const brokenBody = fc.oneof(
  fc.tuple(searchRaw, fc.nat()).map(([s, n]) => s.slice(0, n % Math.max(1, s.length))),
  fc.tuple(docRaw, fc.nat(), oddString).map(([s, n, x]) => s.slice(0, n % (s.length + 1)) + x + s.slice(n % (s.length + 1))),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 100_000 }).map((n) => `{"documents":${'['.repeat(n)}`),
  fc
    .integer({ min: 1, max: 5_000 })
    .map((n) => `{"query":"a","filter":{"must":[${Array(n).fill('{"field":"lang","eq":"en"}').join(',')}]}}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `{"documents":[${Array(n).fill('{"id":"x","text":"a"}').join(',')}]}`),
  fc
    .integer({ min: 1, max: 3_000 })
    .map((n) => `{"vector":{"indices":[${Array.from({ length: n }, (_, i) => i).join(',')}],"values":[${Array(n).fill(1).join(',')}]}}`),
  fc.constantFrom(
    '',
    ' ',
    'null',
    'nul',
    '{',
    '}',
    '{"a":1,}',
    "{'a':1}",
    '\u0000',
    '\ufeff{}',
    '{"documents":[]}\n{"x"',
    '[]',
    '"str"',
    '0',
    'NaN',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
);
const ndjsonBody = fc.array(fc.oneof(docRaw, rawValue, fc.constantFrom('', '{', '   ')), { maxLength: 6 }).map((lines) => lines.join('\n'));

const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FUZZ_COLLECTIONS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'ghost',
      'A',
      '-x',
      'a'.repeat(65),
      '..',
      '%2e%2e',
      '%00',
      'fz%2Fsearch',
      'ü',
      '%F0%9F%98%80',
      '%ZZ',
      'fz;x',
      'fz?x',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)) },
);
const docId = fc.oneof(
  fc.constantFrom('a', 'b', 'x', 'd1', '%2F', '%00', '..%2F..', 'a'.repeat(2000), '%F0%9F%98%80', '%ZZ', '%'),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?vector=true', '?vector=1', '?vector=yes', '?x=%ZZ', '?' + 'a=1&'.repeat(500), '?k=5#frag'),
);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      null,
      'application/x-ndjson',
      'text/plain',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'application/JSON',
      'application/json, text/plain',
      ';;;',
      'application/octet-stream',
    ),
  },
);

type RouteAndBody = { method: string; path: string; body: string | null; ndjson: boolean };

/** Default limits of the server under test (src/config/request-schemas.ts DEFAULT_LIMITS, SPLADEX_MAX_BODY_BYTES). */
const LIMITS = {
  bodyBytes: 32 * 1024 * 1024,
  docs: 10_000,
  searches: 1000,
  k: 1000,
  hits: 100_000,
  explainTerms: 200_000,
  includedHits: 10_000,
  textBytes: 1024 * 1024,
  queryTerms: 1024,
  idBytes: 512,
};

/**
 * Large, well-formed requests at and just past each limit (issue 12): the body size (padded with whitespace so
 * the server does no work beyond reading it), documents per batch, searches per batch, k, the response budgets
 * (hits, explain terms, included hits), text length, metadata size, token-map keys and id length. Built once,
 * on first use; picked rarely so that a run of 10,000 stays within minutes.
 */
let largeCache: RouteAndBody[] | null = null;
function largeRequests(): RouteAndBody[] {
  if (largeCache !== null) return largeCache;
  const post = (path: string, body: string): RouteAndBody => ({ method: 'POST', path, body, ndjson: false });
  const search = (b: object) => post('/v1/collections/fz/search', JSON.stringify(b));
  const batch = (n: number, b: object) =>
    post('/v1/collections/fz/search/batch', JSON.stringify({ searches: Array.from({ length: n }, () => b) }));
  const docs = (d: object[]) => post('/v1/collections/fz/documents', JSON.stringify({ documents: d }));
  const pad = (json: string, total: number) => json.slice(0, -1) + ' '.repeat(Math.max(0, total - json.length)) + '}';
  const tokens = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, 1]));
  const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
  const small = '{"searches":[{"query":"alpha"}]}';
  largeCache = [
    post('/v1/collections/fz/search/batch', pad(small, LIMITS.bodyBytes - 64)),
    post('/v1/collections/fz/search/batch', pad(small, LIMITS.bodyBytes + 1)),
    docs(Array.from({ length: LIMITS.docs }, (_, i) => ({ id: `big${i % 50}`, text: 'alpha beta' }))),
    docs(Array.from({ length: LIMITS.docs + 1 }, (_, i) => ({ id: `big${i % 50}`, text: 'alpha beta' }))),
    batch(LIMITS.searches, { query: 'alpha beta', k: 10 }),
    batch(LIMITS.searches + 1, { query: 'alpha' }),
    search({ query: 'alpha', k: LIMITS.k, include: ['text', 'metadata'] }),
    search({ query: 'alpha', k: LIMITS.k + 1 }),
    batch(LIMITS.hits / LIMITS.k, { query: 'alpha', k: LIMITS.k }),
    batch(LIMITS.hits / LIMITS.k + 1, { query: 'alpha', k: LIMITS.k }),
    batch(LIMITS.explainTerms / LIMITS.k / 2, { query: 'alpha beta', k: LIMITS.k, explain: true }),
    batch(LIMITS.explainTerms / LIMITS.k / 2 + 1, { query: 'alpha beta', k: LIMITS.k, explain: true }),
    batch(LIMITS.includedHits / LIMITS.k, { query: 'alpha', k: LIMITS.k, include: ['text'] }),
    batch(LIMITS.includedHits / LIMITS.k + 1, { query: 'alpha', k: LIMITS.k, include: ['text'] }),
    search({ vector: tokens(LIMITS.queryTerms), k: 100, explain: true }),
    search({ vector: tokens(LIMITS.queryTerms + 1) }),
    search({ query: words(20_000), k: 5 }),
    docs([{ id: 'bigtext', text: 'a'.repeat(LIMITS.textBytes) }]),
    docs([{ id: 'bigtext2', text: 'a'.repeat(LIMITS.textBytes + 1) }]),
    docs([{ id: 'bigmeta', text: 'alpha', metadata: { note: 'm'.repeat(256 * 1024) } }]),
    docs([{ id: 'manykeys', text: 'alpha', metadata: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])) }]),
    docs([{ id: 'x'.repeat(LIMITS.idBytes), text: 'alpha' }]),
    docs([{ id: 'x'.repeat(LIMITS.idBytes + 1), text: 'alpha' }]),
    post('/v1/collections/fzv/documents', JSON.stringify({ documents: [{ id: 'tm', vector: tokens(20_000) }] })),
  ];
  return largeCache;
}
const largeRequest: fc.Arbitrary<RouteAndBody> = fc.nat({ max: 23 }).map((i) => largeRequests()[i]);

const routeAndBody: fc.Arbitrary<RouteAndBody> = fc.oneof(
  { weight: 1, arbitrary: largeRequest },
  fc
    .tuple(name, query, fc.oneof(searchRaw, brokenBody, rawValue))
    .map(([n, q, b]) => ({ method: 'POST', path: `/v1/collections/${n}/search${q}`, body: b, ndjson: false })),
  fc
    .tuple(
      name,
      fc.oneof(
        fc.array(searchRaw, { maxLength: 4 }).map((a) => `{"searches":[${a.join(',')}]}`),
        brokenBody,
      ),
    )
    .map(([n, b]) => ({ method: 'POST', path: `/v1/collections/${n}/search/batch`, body: b, ndjson: false })),
  fc
    .tuple(
      name,
      fc.oneof(
        fc.array(docRaw, { maxLength: 4 }).map((a) => `{"documents":[${a.join(',')}]}`),
        brokenBody,
      ),
    )
    .map(([n, b]) => ({ method: 'POST', path: `/v1/collections/${n}/documents`, body: b, ndjson: false })),
  fc.tuple(name, ndjsonBody).map(([n, b]) => ({ method: 'POST', path: `/v1/collections/${n}/documents`, body: b, ndjson: true })),
  fc
    .tuple(name, docId, query)
    .map(([n, id, q]) => ({ method: 'GET', path: `/v1/collections/${n}/documents/${id}${q}`, body: null, ndjson: false })),
  fc
    .tuple(fc.constantFrom('fzdel', 'ghost', ...FUZZ_COLLECTIONS), docId)
    .map(([n, id]) => ({ method: 'DELETE', path: `/v1/collections/${n}/documents/${id}`, body: null, ndjson: false })),
  fc
    .tuple(fc.constantFrom('fzn', 'fz', 'fzv', 'x', 'A'), fc.oneof(collectionRaw, brokenBody))
    .map(([n, b]) => ({ method: 'PUT', path: `/v1/collections/${n}`, body: b, ndjson: false })),
  fc.tuple(name, query).map(([n, q]) => ({ method: 'GET', path: `/v1/collections/${n}${q}`, body: null, ndjson: false })),
  fc.constantFrom('fz', 'ghost').map((n) => ({ method: 'POST', path: `/v1/collections/${n}/optimize`, body: null, ndjson: false })),
  fc
    .oneof(
      obj(
        field('encoder', fc.constantFrom('"lexical"', '"nope"')),
        field('kind', fc.constantFrom('"query"', '"document"', '"x"')),
        field('texts', rawValue),
        field('collection', fc.constantFrom('"fz"', '"ghost"')),
      ),
    )
    .map((b) => ({ method: 'POST', path: '/v1/encode', body: b, ndjson: false })),
  fc
    .tuple(
      method,
      fc.oneof(
        fc.webPath(),
        fc.constantFrom(
          '/v1',
          '/v1/',
          '//v1/collections',
          '/v1/collections/',
          '/v1/collections//search',
          '/V1/collections',
          '/docs',
          '/docs/json',
          '/metrics',
          '/ready',
          '/health',
          '/web/../package.json',
          '/web/%2e%2e%2fpackage.json',
          '/web/app.js',
          '/%',
          '/v1/%ZZ',
        ),
      ),
      fc.option(rawValue, { nil: null }),
    )
    .map(([m, p, b]) => ({
      method: m,
      path: p === '' ? '/' : p.startsWith('/') ? p : `/${p}`,
      body: m === 'GET' || m === 'HEAD' ? null : b,
      ndjson: false,
    })),
  // Deleting the seeded collections would starve the rest of the run, so DELETE goes to a scratch name.
  fc.tuple(method, name).map(([m, n]) => ({
    method: m,
    path: `/v1/collections/${m === 'DELETE' ? 'fzgone' : n}`,
    body: m === 'GET' || m === 'HEAD' || m === 'DELETE' ? null : '{}',
    ndjson: false,
  })),
);

const extraHeaders = fc.record(
  {
    'x-request-id': fc.oneof(
      fc.constantFrom('ok-id', 'a'.repeat(200), 'bad id', '\u00e9'),
      fc.string({ maxLength: 20 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    ),
    authorization: fc.constantFrom('Bearer x', 'Basic abc', 'bearer', ''),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml'),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
  },
  { requiredKeys: [] },
);

/** The request arbitrary. */
export const fuzzRequestArb: fc.Arbitrary<FuzzRequest> = fc.tuple(routeAndBody, contentType, extraHeaders).map(([r, ct, headers]) => ({
  method: r.method,
  path: r.path,
  contentType: r.body === null ? null : r.ndjson && ct === 'application/json' ? 'application/x-ndjson' : ct,
  body: r.body,
  headers: headers as Record<string, string>,
}));

// ---------------------------------------------------------------- run

/** Creates the collections the generators target (idempotent: 200/201 both fine). */
export async function seedFuzzCollections(base: string): Promise<void> {
  const json = (body: unknown): FuzzRequest => ({
    method: 'PUT',
    path: '',
    contentType: 'application/json',
    body: JSON.stringify(body),
    headers: {},
  });
  const put = async (path: string, body: unknown, method = 'PUT') => {
    const res = await sendRaw(base, { ...json(body), method, path });
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${res.body}`);
  };
  await put('/v1/collections/fz', { metadata: { lang: 'keyword', year: 'number', tags: 'keyword' } });
  await put('/v1/collections/fzv', { encoder: 'none', dim: 64, metadata: { lang: 'keyword', year: 'number' } });
  await put('/v1/collections/fzdel', {});
  await put(
    '/v1/collections/fz/documents',
    {
      documents: [
        { id: 'a', text: 'alpha beta', metadata: { lang: 'en', year: 2020, tags: ['a'] } },
        { id: 'b', text: 'beta gamma' },
      ],
    },
    'POST',
  );
  await put(
    '/v1/collections/fzv/documents',
    { documents: [{ id: 'x', vector: { indices: [1, 2], values: [1, 2] }, metadata: { lang: 'en', year: 2021 } }] },
    'POST',
  );
}

function isEnvelope(body: string): boolean {
  try {
    const b = JSON.parse(body) as Record<string, unknown>;
    return typeof b.statusCode === 'number' && typeof b.code === 'string' && typeof b.error === 'string' && typeof b.message === 'string';
  } catch {
    return false;
  }
}

/** Content types the server may accept (anything else is a 415 decided from the headers alone). */
const ACCEPTED_TYPE = /^application\/(?:json|x-ndjson)\s*(?:;\s*charset="?utf-?8"?\s*)?$/i;

/** Sends `count` generated requests (seeded) with `concurrency` in flight; returns the tally. Never throws. */
export async function runFuzz(
  base: string,
  opts: { count: number; seed: number; concurrency: number; maxBodyBytes?: number; onProgress?: (done: number) => void },
): Promise<FuzzReport> {
  const maxBodyBytes = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const t0 = performance.now();
  const requests = fc.sample(fuzzRequestArb, { numRuns: opts.count, seed: opts.seed });
  const report: FuzzReport = {
    requests: 0,
    byStatus: {},
    failures: [],
    failureCount: 0,
    badEnvelopes: 0,
    busy: 0,
    earlyAnswers: {},
    closedOverLimit: 0,
    closedRefusedType: 0,
    tookMs: 0,
  };
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const req = requests[next++];
      const answer = await sendRaw(base, req);
      report.requests++;
      const closedOverLimit =
        answer.status === 0 &&
        req.body !== null &&
        Buffer.byteLength(req.body) > maxBodyBytes &&
        /EPIPE|ECONNRESET|closed without an answer/.test(answer.error ?? '');
      const closedRefusedType =
        !closedOverLimit &&
        answer.status === 0 &&
        req.body !== null &&
        !ACCEPTED_TYPE.test(req.contentType ?? '') &&
        /EPIPE|ECONNRESET|closed without an answer/.test(answer.error ?? '');
      const key = closedOverLimit
        ? 'closed-over-limit'
        : closedRefusedType
          ? 'closed-refused-type'
          : answer.status === 0
            ? 'conn-error'
            : String(answer.status);
      report.byStatus[key] = (report.byStatus[key] ?? 0) + 1;
      if (answer.early === true) report.earlyAnswers[key] = (report.earlyAnswers[key] ?? 0) + 1;
      if (closedOverLimit) report.closedOverLimit++;
      else if (closedRefusedType) report.closedRefusedType++;
      else if (answer.status === 503) report.busy++;
      else if (answer.status === 0 || answer.status >= 500) {
        report.failureCount++;
        if (report.failures.length < 20)
          report.failures.push({
            request: { ...req, body: req.body === null ? null : req.body.slice(0, 300) },
            answer: { ...answer, body: answer.body.slice(0, 300) },
          });
      } else if (answer.status >= 400 && req.method !== 'HEAD' && !isEnvelope(answer.body)) report.badEnvelopes++;
      if (report.requests % 1000 === 0) opts.onProgress?.(report.requests);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  report.tookMs = performance.now() - t0;
  return report;
}

/** After the run: /health and /ready answer 200 and a plain search still answers 200. */
export async function checkAlive(base: string): Promise<string[]> {
  const problems: string[] = [];
  for (const path of ['/health', '/ready']) {
    const res = await sendRaw(base, { method: 'GET', path, contentType: null, body: null, headers: {} });
    if (res.status !== 200) problems.push(`${path} → ${res.status} ${res.error ?? ''}`);
  }
  const search = await sendRaw(base, {
    method: 'POST',
    path: '/v1/collections/fz/search',
    contentType: 'application/json',
    body: '{"query":"beta","k":5}',
    headers: {},
  });
  if (search.status !== 200) problems.push(`search → ${search.status} ${search.body.slice(0, 200)}`);
  return problems;
}
