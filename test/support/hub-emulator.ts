/**
 * A tiny Hugging Face Hub on 127.0.0.1 for the `spladex models pull` tests: the two API routes the client speaks
 * (`GET /api/models/{repo}/revision/{rev}` and `GET /{repo}/resolve/{rev}/{path}`), files larger than
 * `lfsMinBytes` (and every *.onnx) served as LFS — a 302 from the hub to a second server (another port, the
 * "CDN") with X-Linked-Etag (sha256), X-Linked-Size and X-Repo-Commit — and Range requests on both. Repos can be
 * gated (files: 401 without a token, 403 with a wrong one; metadata stays public, as on the Hub), and errors carry
 * the Hub's X-Error-Code / X-Error-Message (an unknown repo: 401 RepoNotFound without a token, as the Hub answers). A test can
 * corrupt one file (one byte flipped in what is sent, the listed sha256 unchanged) or cut one transfer after N
 * bytes (once). Every request is logged with whether it carried an Authorization header. Repos are built from
 * directories at run time (`repoFromDir`).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface EmulatedRepo {
  files: Map<string, Buffer>;
  /** When set: requests need `Authorization: Bearer <token>`. */
  gatedToken?: string;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  url: string;
  range: string | undefined;
  authorized: boolean;
}

export interface HubEmulator {
  url: string;
  cdnUrl: string;
  repos: Map<string, EmulatedRepo>;
  log: LoggedRequest[];
  /** `repo/path` keys whose bytes are sent with one byte flipped. */
  corrupt: Set<string>;
  /** `repo/path` → bytes to send before the connection is destroyed (applies once, then removed). */
  cutAfter: Map<string, number>;
  /** The commit sha the emulator reports for a repo (changes when its files change). */
  shaOf(repo: string): string;
  close(): Promise<void>;
}

const LFS_MIN_BYTES = 10_000;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitBlobId = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const isLfs = (p: string, b: Buffer) => p.endsWith('.onnx') || b.length >= LFS_MIN_BYTES;

/** Reads every file under `dir` into a repo; `rename` maps local relative paths to repo paths (others keep theirs). */
export async function repoFromDir(dir: string, rename: Record<string, string | null> = {}): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
      else if (rename[r] !== null) out.set(rename[r] ?? r, await readFile(path.join(d, e.name)));
    }
  };
  await walk(dir, '');
  return out;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function json(res: ServerResponse, status: number, body: { error?: string } & Record<string, unknown>, errorCode?: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    ...(body.error === undefined ? {} : { 'x-error-message': body.error }),
    ...(errorCode === undefined ? {} : { 'x-error-code': errorCode }),
  });
  res.end(JSON.stringify(body));
}

export async function startHubEmulator(): Promise<HubEmulator> {
  const repos = new Map<string, EmulatedRepo>();
  const log: LoggedRequest[] = [];
  const corrupt = new Set<string>();
  const cutAfter = new Map<string, number>();
  const shaOf = (repo: string): string => {
    const h = createHash('sha1').update(repo);
    for (const [p, b] of [...(repos.get(repo)?.files ?? [])].sort(([a], [b2]) => a.localeCompare(b2))) h.update(`${p}\0${sha256(b)}\0`);
    return h.digest('hex');
  };
  let cdnUrl = '';

  /** Sends `body` for `key`, honouring Range, corruption and a cut. */
  const sendBytes = (req: IncomingMessage, res: ServerResponse, key: string, body: Buffer, headers: Record<string, string>): void => {
    let data = body;
    if (corrupt.has(key)) {
      data = Buffer.from(body);
      data[data.length >> 1] ^= 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (m !== null) {
      start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        ...headers,
        'content-length': String(data.length - start),
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      });
    } else {
      res.writeHead(200, { ...headers, 'content-length': String(data.length) });
    }
    const cut = cutAfter.get(key);
    if (cut !== undefined) {
      cutAfter.delete(key);
      res.write(data.subarray(start, start + cut), () => res.socket?.destroy());
      return;
    }
    res.end(data.subarray(start));
  };

  const hub = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    log.push({ server: 'hub', url: url.pathname, range: req.headers.range, authorized: auth !== undefined });
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoId = api?.[1] ?? resolve?.[1];
    const repo = repoId === undefined ? undefined : repos.get(repoId);
    // Like the Hub: an unknown repo asked without a token is a 401 (private repos cannot be probed), with a token a 404.
    if (repoId === undefined || repo === undefined)
      return json(res, auth === undefined ? 401 : 404, { error: 'Repository not found' }, 'RepoNotFound');
    // Like the Hub: a gated repo's metadata is public, its files need a token of an account that accepted the licence.
    if (resolve !== null && repo.gatedToken !== undefined && auth !== `Bearer ${repo.gatedToken}`) {
      const error = `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it.`;
      return json(res, auth === undefined ? 401 : 403, { error }, 'GatedRepo');
    }
    const sha = shaOf(repoId);
    const rev = decodeURIComponent((api ?? resolve)?.[2] ?? '');
    if (rev !== 'main' && rev !== sha) return json(res, 404, { error: `Invalid rev id: ${rev}` }, 'RevisionNotFound');
    if (api !== null) {
      const siblings = [...repo.files].map(([p, b]) => ({
        rfilename: p,
        size: b.length,
        blobId: gitBlobId(b),
        ...(isLfs(p, b) ? { lfs: { sha256: sha256(b), size: b.length, pointerSize: 134 } } : {}),
      }));
      return json(res, 200, { id: repoId, modelId: repoId, sha, siblings });
    }
    const file = (resolve as RegExpExecArray)[3].split('/').map(decodeURIComponent).join('/');
    const body = repo.files.get(file);
    if (body === undefined) return json(res, 404, { error: 'Entry not found' }, 'EntryNotFound');
    if (isLfs(file, body)) {
      res.writeHead(302, {
        location: `${cdnUrl}/blobs/${sha256(body)}?key=${encodeURIComponent(`${repoId}/${file}`)}`,
        'x-linked-etag': `"${sha256(body)}"`,
        'x-linked-size': String(body.length),
        'x-repo-commit': sha,
        etag: `"${gitBlobId(body)}"`,
      });
      res.end();
      return;
    }
    sendBytes(req, res, `${repoId}/${file}`, body, { etag: `"${gitBlobId(body)}"`, 'x-repo-commit': sha });
  });

  const cdn = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ server: 'cdn', url: url.pathname, range: req.headers.range, authorized: req.headers.authorization !== undefined });
    const key = url.searchParams.get('key') ?? '';
    const [repoId, file] = [key.split('/').slice(0, 2).join('/'), key.split('/').slice(2).join('/')];
    const body = repos.get(repoId)?.files.get(file);
    if (body === undefined || `/blobs/${sha256(body)}` !== url.pathname) return json(res, 404, { error: 'no such blob' });
    sendBytes(req, res, key, body, { etag: `"${sha256(body)}"` });
  });

  const url = await listen(hub);
  cdnUrl = await listen(cdn);
  return {
    url,
    cdnUrl,
    repos,
    log,
    corrupt,
    cutAfter,
    shaOf,
    close: async () => {
      hub.closeAllConnections();
      cdn.closeAllConnections();
      await Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => cdn.close(r))]);
    },
  };
}
