/**
 * The page's only door to the server: JSON requests to the REST API (API.md) with the API key, when one was
 * entered, sent as `Authorization: Bearer`. The key lives in this closure only (never in storage or the URL).
 * Every failure becomes an `ApiError` with a readable message: the server's error envelope
 * `{statusCode, code, error, message}` when there is one, otherwise a fixed sentence (no bodies, no stacks).
 * Imported by app.js.
 */

/** A failed API call; `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 for a network failure
   * @param {string} code error code (API.md "Errors"), or NETWORK / HTTP_<status>
   * @param {string} message human-readable reason
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Turns a non-2xx response into an ApiError, trusting only the documented envelope fields. */
async function toApiError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy page, an empty body): fall through to the generic message.
  }
  if (body && typeof body === 'object' && typeof body.message === 'string' && typeof body.code === 'string') {
    return new ApiError(response.status, body.code, body.message);
  }
  const text = response.statusText ? ` ${response.statusText}` : '';
  return new ApiError(response.status, `HTTP_${response.status}`, `the server answered HTTP ${response.status}${text}`);
}

/**
 * Creates the API client.
 * @param {{ baseUrl?: string, fetchImpl?: typeof fetch }} [options]
 */
export function createApi(options = {}) {
  const baseUrl = options.baseUrl ?? '';
  const fetchImpl = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  let apiKey = '';

  async function request(method, path, body) {
    const headers = { accept: 'application/json' };
    // The server refuses a POST without a JSON content type (415), bodyless ones included.
    if (body !== undefined || method === 'POST') headers['content-type'] = 'application/json';
    if (apiKey !== '') headers.authorization = `Bearer ${apiKey}`;
    let response;
    try {
      response = await fetchImpl(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'could not reach the server (is it running?)');
    }
    if (!response.ok) throw await toApiError(response);
    try {
      return await response.json();
    } catch {
      throw new ApiError(response.status, 'BAD_RESPONSE', 'the server sent a response that is not JSON');
    }
  }

  const enc = encodeURIComponent;
  return {
    /** @param {string} key the API key; empty clears it */
    setKey(key) {
      apiKey = key.trim();
    },
    hasKey() {
      return apiKey !== '';
    },
    listCollections: () => request('GET', '/v1/collections'),
    getCollection: (name) => request('GET', `/v1/collections/${enc(name)}`),
    search: (name, body) => request('POST', `/v1/collections/${enc(name)}/search`, body),
    encode: (body) => request('POST', '/v1/encode', body),
  };
}
