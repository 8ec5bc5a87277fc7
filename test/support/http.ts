/**
 * Small JSON-over-HTTP helpers for the hardening runs (crash, mixed, fuzz): every call has a deadline
 * (AbortSignal.timeout), and a connection failure is reported as `status: 0` with the error text instead of a
 * throw, so a loop interrupted by a SIGKILL can record "in flight, unknown outcome" precisely.
 */

export interface HttpResult {
  /** HTTP status, or 0 when no answer came (connection refused/reset, timeout). */
  status: number;
  /** Parsed JSON body when the answer was JSON, else the raw text. */
  body: unknown;
  error?: string;
}

/** Sends one request; `body` objects go as JSON. Never throws. */
export async function httpJson(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined && method !== 'POST' ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    return { status: 0, body: null, error: (err as Error).message };
  }
}

/**
 * `httpJson`, retrying 503 BUSY answers (load shedding, Retry-After) up to `maxRetries` times, waiting the
 * advertised Retry-After (capped at 2 s) between tries. For verification reads, which must get an answer.
 */
export async function httpJsonRetry(base: string, method: string, path: string, body?: unknown, maxRetries = 30): Promise<HttpResult> {
  for (let attempt = 0; ; attempt++) {
    const res = await httpJson(base, method, path, body);
    if (res.status !== 503 || attempt >= maxRetries) return res;
    await new Promise((r) => setTimeout(r, 250 + Math.min(1750, attempt * 250)));
  }
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
