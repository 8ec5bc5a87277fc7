/**
 * The Hugging Face Hub HTTP protocol, as far as `spladex models pull` needs it (Node's fetch, no SDK):
 *
 *   GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true
 *     → {sha, siblings: [{rfilename, size, blobId, lfs?: {sha256, size}}]}   (a branch, tag or commit → one commit)
 *   GET {endpoint}/{repo}/resolve/{sha}/{path}
 *     → 200 with the bytes (small files, ETag = git blob sha1), or 302 to a CDN for LFS files, whose answer
 *       carries X-Linked-Etag (the LFS sha256) and X-Linked-Size; Range requests answer 206.
 *
 * Redirects are followed by hand (at most 5) so that the Bearer token (HF_TOKEN) is sent only to the endpoint's
 * own origin, never to a CDN on another host. A partial `.part` file is resumed with `Range: bytes=N-`; every
 * finished file is checked against its size and, for LFS files, its sha256 (git blob sha1 for the others), then
 * fsynced. Errors: 401/403 → UNAUTHENTICATED naming the repo (accept its licence on the Hub, set HF_TOKEN);
 * 404, or the Hub's RepoNotFound/RevisionNotFound/EntryNotFound codes → NOT_FOUND; a checksum or size mismatch → CORRUPT_INDEX naming the file;
 * a dropped connection → INTERNAL, with the `.part` kept so the next run resumes. Caller: ./pull.ts.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { SpladexError } from '../../core/errors.js';

/** Where and how to reach the Hub. */
export interface HubConnection {
  endpoint: string;
  token: string | undefined;
}

/** One file of a repo at a commit, as the revision API lists it. */
export interface HubFile {
  path: string;
  sizeBytes: number | undefined;
  /** LFS files: sha256 of the content. */
  lfsSha256: string | undefined;
  /** Git blob id (sha1 of `blob <size>\0<content>`); checks non-LFS files. */
  blobId: string | undefined;
}

export interface RepoRevision {
  /** The resolved commit (40 hex digits). */
  sha: string;
  files: HubFile[];
}

const MAX_REDIRECTS = 5;
const REPO_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** Throws INVALID_ARGUMENT unless `repo` looks like `org/name` (or `name`) on the Hub. */
export function checkRepoId(repo: string): void {
  if (!REPO_RE.test(repo) || repo.includes('..')) {
    throw new SpladexError('INVALID_ARGUMENT', `"${repo}" is not a Hugging Face repo id (expected org/name)`);
  }
}

function authHeaders(conn: HubConnection, url: URL): Record<string, string> {
  // The token goes only to the endpoint's own origin (scheme, host and port), never to a redirect target elsewhere.
  if (conn.token === undefined || url.origin !== new URL(conn.endpoint).origin) return {};
  return { authorization: `Bearer ${conn.token}` };
}

/**
 * The error for a failed Hub answer. The Hub names the cause in `X-Error-Code` (RepoNotFound, RevisionNotFound,
 * EntryNotFound, GatedRepo) and `X-Error-Message`; it answers 401, not 404, for an unknown repo asked without a
 * token (so private repos cannot be probed), hence the "or does not exist" in the bare-401 message.
 */
function statusError(res: Response, repo: string, what: string, conn: HubConnection): SpladexError {
  const code = res.headers.get('x-error-code');
  const hubMessage = res.headers.get('x-error-message');
  const said = `the Hub answered ${res.status} for ${what}`;
  if (code === 'RepoNotFound') {
    const hint = conn.token === undefined ? ' (a private repo needs HF_TOKEN)' : '';
    return new SpladexError('NOT_FOUND', `${repo}: ${said}: no such repo${hint}`);
  }
  if (code === 'RevisionNotFound') return new SpladexError('NOT_FOUND', `${repo}: ${said}: no such revision`);
  if (code === 'EntryNotFound') return new SpladexError('NOT_FOUND', `${repo}: ${said}: no such file`);
  if (hubMessage === 'Invalid credentials in Authorization header') {
    return new SpladexError('UNAUTHENTICATED', `${repo}: ${said}: HF_TOKEN is not a valid Hub token`);
  }
  if (res.status === 401 || res.status === 403) {
    const how =
      conn.token === undefined
        ? 'the repo is gated or private: accept its licence on its Hub page with your account, then set HF_TOKEN to an access token of that account'
        : 'HF_TOKEN was sent but does not grant access: accept the licence on the repo page with the account of that token';
    return new SpladexError('UNAUTHENTICATED', `${repo}: ${said}; ${how}`);
  }
  if (res.status === 404) return new SpladexError('NOT_FOUND', `${repo}: ${said} (unknown repo, revision or file)`);
  return new SpladexError('INTERNAL', `${repo}: ${said}${hubMessage === null ? '' : ` (${hubMessage})`}`);
}

async function hubFetch(conn: HubConnection, url: URL, headers: Record<string, string>, what: string): Promise<Response> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let res: Response;
    try {
      res = await fetch(current, { headers: { ...headers, ...authHeaders(conn, current) }, redirect: 'manual' });
    } catch (e) {
      throw new SpladexError('INTERNAL', `cannot reach ${current.origin} for ${what} (${(e as Error).cause ?? (e as Error).message})`, {
        cause: e,
      });
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null) {
      await res.body?.cancel();
      current = new URL(location, current);
      continue;
    }
    return res;
  }
  throw new SpladexError('INTERNAL', `more than ${MAX_REDIRECTS} redirects for ${what}`);
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Resolves `revision` (branch, tag or commit) of `repo` to a commit and its file list. */
export async function fetchRevision(conn: HubConnection, repo: string, revision: string): Promise<RepoRevision> {
  const url = new URL(`${conn.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`);
  const what = `revision "${revision}"`;
  const res = await hubFetch(conn, url, { accept: 'application/json' }, what);
  if (!res.ok) {
    await res.body?.cancel();
    throw statusError(res, repo, what, conn);
  }
  const body = (await res.json().catch(() => undefined)) as
    | { sha?: unknown; siblings?: { rfilename?: unknown; size?: unknown; blobId?: unknown; lfs?: { sha256?: unknown } }[] }
    | undefined;
  if (typeof body?.sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.sha) || !Array.isArray(body.siblings)) {
    throw new SpladexError('INTERNAL', `${repo}: the Hub's answer for ${what} has no commit sha or file list`);
  }
  const files: HubFile[] = [];
  for (const s of body.siblings) {
    if (typeof s.rfilename !== 'string') continue;
    files.push({
      path: s.rfilename,
      sizeBytes: typeof s.size === 'number' ? s.size : undefined,
      lfsSha256: typeof s.lfs?.sha256 === 'string' ? s.lfs.sha256 : undefined,
      blobId: typeof s.blobId === 'string' ? s.blobId : undefined,
    });
  }
  return { sha: body.sha, files };
}

/** Hex digest of a file; `gitBlob` prefixes `blob <size>\0` (git's object id of the content). */
async function hashFile(file: string, algorithm: 'sha256' | 'sha1', gitBlob: boolean): Promise<string> {
  const h = createHash(algorithm);
  if (gitBlob) h.update(`blob ${(await stat(file)).size}\0`);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Strips quotes and a weak prefix from an ETag-style header. */
function etagValue(v: string | null): string | undefined {
  if (v === null) return undefined;
  return v.replace(/^W\//, '').replace(/^"|"$/g, '');
}

export interface DownloadOptions {
  conn: HubConnection;
  repo: string;
  sha: string;
  file: HubFile;
  /** Destination; the bytes go to `dest + '.part'` first and are renamed when verified. */
  dest: string;
  /** Called with each chunk's size (progress). */
  onBytes?(n: number): void;
}

/**
 * Downloads one file of `repo@sha` to `dest`, resuming an existing `dest.part`, and verifies it. Returns the
 * file's sha256. Throws as described in the file header; a verification failure removes the `.part`.
 */
export async function downloadFile(o: DownloadOptions): Promise<string> {
  const part = `${o.dest}.part`;
  const what = `file ${o.file.path}`;
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  const url = new URL(`${o.conn.endpoint}/${o.repo}/resolve/${o.sha}/${encodePath(o.file.path)}`);
  const res = await hubFetch(o.conn, url, have > 0 ? { range: `bytes=${have}-` } : {}, what);
  if (res.status === 416) {
    // The .part already holds at least the whole file: verify it as it is.
    await res.body?.cancel();
  } else if (!res.ok) {
    await res.body?.cancel();
    throw statusError(res, o.repo, what, o.conn);
  }
  const linkedSha = etagValue(res.headers.get('x-linked-etag'));
  const linkedSize = Number(res.headers.get('x-linked-size') ?? Number.NaN);
  if (res.status !== 416) {
    const resumed = res.status === 206 && have > 0;
    const fh = await open(part, resumed ? 'a' : 'w');
    try {
      if (res.body !== null) {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          await fh.write(chunk);
          o.onBytes?.(chunk.length);
        }
      }
      await fh.sync();
    } catch (e) {
      throw new SpladexError(
        'INTERNAL',
        `${o.repo}: download of ${o.file.path} was interrupted (${(e as Error).message}); run the same command again to resume`,
        { cause: e },
      );
    } finally {
      await fh.close();
    }
  }
  await verify(o, part, linkedSha, Number.isFinite(linkedSize) ? linkedSize : undefined);
  await rename(part, o.dest);
  return o.file.lfsSha256 ?? (linkedSha !== undefined && /^[0-9a-f]{64}$/.test(linkedSha) ? linkedSha : hashFile(o.dest, 'sha256', false));
}

async function verify(o: DownloadOptions, part: string, linkedSha: string | undefined, linkedSize: number | undefined): Promise<void> {
  const fail = async (why: string): Promise<never> => {
    await rm(part, { force: true });
    throw new SpladexError(
      'CORRUPT_INDEX',
      `${o.repo}: downloaded ${o.file.path} is corrupt: ${why}; it was removed, run the command again`,
    );
  };
  const size = (await stat(part)).size;
  const wantSize = o.file.sizeBytes ?? linkedSize;
  if (wantSize !== undefined && size !== wantSize) await fail(`${size} bytes, the Hub lists ${wantSize}`);
  const wantSha = o.file.lfsSha256 ?? (linkedSha !== undefined && /^[0-9a-f]{64}$/.test(linkedSha) ? linkedSha : undefined);
  if (wantSha !== undefined) {
    const got = await hashFile(part, 'sha256', false);
    if (got !== wantSha) await fail(`sha256 ${got}, the Hub lists ${wantSha}`);
  } else if (o.file.blobId !== undefined && /^[0-9a-f]{40}$/.test(o.file.blobId)) {
    const got = await hashFile(part, 'sha1', true);
    if (got !== o.file.blobId) await fail(`git blob id ${got}, the Hub lists ${o.file.blobId}`);
  }
}
