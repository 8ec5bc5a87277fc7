/**
 * `spladex models pull`: a Hub repo → a complete encoder directory `ENCODERS_DIR/NAME` (plus `NAME-query` for an
 * inference-free model), with `encoder.json` listing the sha256 of every file and the Hub `source`.
 *
 * Steps: resolve the revision to a commit (a directory already pulled from that commit: nothing to do); fetch the
 * small config files; recognise the layout (./hub-layouts.ts); download the files into a staging directory
 * `ENCODERS_DIR/.pull-NAME-<sha12>/` (hidden, so never listed or opened as an encoder; `.src/` holds the repo
 * files, resumable `.part`s included); derive tokenizer/idf files; write the manifests; open the result once
 * (model loads, output size = dim, query side fits) so a bad repo fails here and not at collection creation; fsync;
 * rename into place. A failure leaves no encoder directory behind: the staging directory is removed, except after
 * a dropped connection (INTERNAL), when it is kept so the same command resumes with Range requests.
 * Offline (HF_HUB_OFFLINE=1): a directory already pulled from that repo and revision is used, anything else is an
 * error. Caller: src/cli/models-command.ts.
 */
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { fsyncDir } from '../../core/atomic-file.js';
import { isSpladexError, SpladexError } from '../../core/errors.js';
import { ENCODER_NAME_RE, parseManifest, RESERVED_ENCODER_NAMES } from '../manifest.js';
import { openEncoder, sha256File } from '../registry.js';
import { loadTokenizer } from '../tokenizer.js';
import { buildBertTokenizerJson, buildIdfJson } from './derived-files.js';
import { checkRepoId, downloadFile, fetchRevision, type HubConnection, type HubFile } from './hub-client.js';
import { isConfigFile, recogniseLayout, type PlannedEncoder, type RepoView } from './hub-layouts.js';
import { readPulledSource } from './local-models.js';

/** Byte progress of the downloads (a bar on a terminal). */
export interface PullProgress {
  start(totalBytes: number): void;
  update(bytes: number): void;
  stop(): void;
}

export interface PullOptions {
  conn: HubConnection;
  offline: boolean;
  encodersDir: string;
  repo: string;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  /** Encoder name; default the repo's last path segment. */
  name?: string;
  logger: Logger;
  /** A line for the user (what was recognised, what was done). */
  say(line: string): void;
  progress?: PullProgress;
}

export interface PullResult {
  /** The encoder directories written (or found up to date), main first. */
  names: string[];
  sha: string;
  layout: string;
  /** true when nothing was downloaded (same commit already present, or offline). */
  upToDate: boolean;
  downloadedBytes: number;
}

function defaultName(repo: string): string {
  return repo.slice(repo.lastIndexOf('/') + 1);
}

function checkName(name: string): void {
  if (RESERVED_ENCODER_NAMES.includes(name) || !ENCODER_NAME_RE.test(name)) {
    throw new SpladexError(
      'INVALID_ARGUMENT',
      `"${name}" cannot be an encoder name (letters, digits, '_', '-', '.'; not lexical/none/lsa); pass --name`,
    );
  }
}

/** Pulls `repo` into `encodersDir`; see the file header. */
export async function pullModel(o: PullOptions): Promise<PullResult> {
  checkRepoId(o.repo);
  const revision = o.revision ?? 'main';
  const name = o.name ?? defaultName(o.repo);
  checkName(name);
  checkName(`${name}-query`);
  const existing = await readPulledSource(o.encodersDir, name);

  if (o.offline) {
    if (
      existing?.source !== undefined &&
      existing.source.repo === o.repo &&
      [existing.source.revision, existing.source.sha].includes(revision)
    ) {
      o.say(`offline: using encoders/${name} (${o.repo}@${existing.source.sha.slice(0, 12)}, layout ${existing.source.layout})`);
      return { names: [name], sha: existing.source.sha, layout: existing.source.layout, upToDate: true, downloadedBytes: 0 };
    }
    throw new SpladexError(
      'NOT_FOUND',
      `HF_HUB_OFFLINE is set and encoders/${name} does not hold ${o.repo}@${revision}; unset HF_HUB_OFFLINE to download it`,
    );
  }

  const rev = await fetchRevision(o.conn, o.repo, revision);
  const query = await readPulledSource(o.encodersDir, `${name}-query`);
  if (query !== undefined && query.source?.repo !== o.repo) {
    throw new SpladexError('CONFLICT', `encoder "${name}-query" already exists and was not pulled from ${o.repo}; pass --name`);
  }
  if (existing !== undefined) {
    if (existing.source?.repo === o.repo && existing.source.sha === rev.sha) {
      o.say(`encoders/${name} is up to date (${o.repo}@${rev.sha.slice(0, 12)}, layout ${existing.source.layout})`);
      return { names: [name], sha: rev.sha, layout: existing.source.layout, upToDate: true, downloadedBytes: 0 };
    }
    if (existing.source?.repo !== o.repo) {
      const from = existing.source === undefined ? 'not pulled from the Hub' : `pulled from ${existing.source.repo}`;
      throw new SpladexError('CONFLICT', `encoder "${name}" already exists (${from}); pass --name or run "spladex models rm ${name}"`);
    }
  }

  await mkdir(o.encodersDir, { recursive: true });
  const staging = path.join(o.encodersDir, `.pull-${name}-${rev.sha.slice(0, 12)}`);
  await removeStaleStaging(o.encodersDir, name, staging);
  try {
    const result = await pullInto(o, { name, revision, staging, rev, replacing: existing !== undefined });
    await rm(staging, { recursive: true, force: true });
    return result;
  } catch (e) {
    // A dropped connection keeps the staging directory for a resumed run; anything else leaves nothing.
    if (!(isSpladexError(e) && e.code === 'INTERNAL')) await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

async function removeStaleStaging(encodersDir: string, name: string, keep: string): Promise<void> {
  // Exactly `.pull-NAME-<sha12>`: a prefix test would also match the staging of an encoder named `NAME-x`.
  const mine = new RegExp(`^\\.pull-${name.replace(/[.]/g, '\\.')}-[0-9a-f]{12}$`);
  for (const e of await readdir(encodersDir)) {
    if (mine.test(e) && path.join(encodersDir, e) !== keep) {
      await rm(path.join(encodersDir, e), { recursive: true, force: true });
    }
  }
}

interface PullState {
  name: string;
  revision: string;
  staging: string;
  rev: { sha: string; files: HubFile[] };
  replacing: boolean;
}

async function pullInto(o: PullOptions, s: PullState): Promise<PullResult> {
  const src = path.join(s.staging, '.src');
  const byPath = new Map(s.rev.files.map((f) => [f.path, f]));
  let downloadedBytes = 0;
  const fetchOne = async (repoPath: string, onBytes?: (n: number) => void): Promise<string> => {
    const file = byPath.get(repoPath);
    if (file === undefined) throw new SpladexError('NOT_FOUND', `${o.repo}@${s.rev.sha.slice(0, 12)} has no file ${repoPath}`);
    const dest = path.join(src, ...repoPath.split('/'));
    if ((await stat(dest).catch(() => undefined)) !== undefined) return dest;
    await mkdir(path.dirname(dest), { recursive: true });
    await downloadFile({
      conn: o.conn,
      repo: o.repo,
      sha: s.rev.sha,
      file,
      dest,
      onBytes: (n) => {
        downloadedBytes += n;
        onBytes?.(n);
      },
    });
    return dest;
  };

  // Config files first: recognition reads them.
  const configs = new Map<string, Record<string, unknown>>();
  for (const f of s.rev.files) {
    if (!isConfigFile(f.path) || (f.sizeBytes ?? 0) > 4 << 20) continue;
    const raw = JSON.parse(await readFile(await fetchOne(f.path), 'utf8').catch(() => 'null')) as unknown;
    if (Array.isArray(raw)) configs.set(f.path, { modules: raw });
    else if (raw !== null && typeof raw === 'object') configs.set(f.path, raw as Record<string, unknown>);
  }
  const view: RepoView = { repo: o.repo, paths: s.rev.files.map((f) => f.path), json: (p) => configs.get(p) };
  const plan = recogniseLayout(view, { name: s.name, outDir: path.join(o.encodersDir, s.name) });
  o.say(`recognised ${o.repo}@${s.rev.sha.slice(0, 12)} as layout "${plan.layout.id}": ${plan.notes.join('; ')}`);

  // Downloads, with one progress bar over all of them.
  const wanted = [...new Set(plan.encoders.flatMap((e) => e.files.map((f) => f.from)))];
  const total = wanted.reduce((n, p) => n + (byPath.get(p)?.sizeBytes ?? 0), 0);
  o.progress?.start(total);
  let done = 0;
  try {
    for (const p of wanted) {
      await fetchOne(p, (n) => o.progress?.update((done += n)));
    }
  } finally {
    o.progress?.stop();
  }

  const names: string[] = [];
  for (const enc of [...plan.encoders].reverse()) {
    const encName = `${s.name}${enc.suffix}`;
    names.unshift(encName);
    await buildEncoderDir(o, s, enc, encName, src, plan.layout.id);
  }
  // Open once, in process: the model loads, its output matches dim, the query side fits.
  const opened = await openEncoder(s.staging, s.name, { logger: o.logger, threads: 0 });
  await opened.close();

  for (const encName of [...names].reverse()) await install(o.encodersDir, s.staging, encName);
  await fsyncDir(o.encodersDir);
  const main = parseManifest(JSON.parse(await readFile(path.join(o.encodersDir, s.name, 'encoder.json'), 'utf8')), s.name);
  o.say(
    `pulled ${o.repo}@${s.rev.sha.slice(0, 12)} into encoders/${names.join(' and encoders/')} (kind ${main.kind}, dim ${main.dim}, ${(downloadedBytes / 1e6).toFixed(1)} MB downloaded)`,
  );
  return { names, sha: s.rev.sha, layout: plan.layout.id, upToDate: false, downloadedBytes };
}

async function buildEncoderDir(
  o: PullOptions,
  s: PullState,
  enc: PlannedEncoder,
  encName: string,
  src: string,
  layout: string,
): Promise<void> {
  const dir = path.join(s.staging, encName);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const label = `${o.repo}: ${encName}`;
  for (const f of enc.files) {
    const from = path.join(src, ...f.from.split('/'));
    const to = path.join(dir, ...f.to.split('/'));
    await mkdir(path.dirname(to), { recursive: true });
    if (f.kind === 'download') {
      // A hard link costs no space (same file system); a copy when links are refused.
      await link(from, to).catch(() => copyFile(from, to));
    } else if (f.kind === 'tokenizer-from-vocab') {
      await writeFile(to, await buildBertTokenizerJson(from, f.lowercase, `${label}: ${f.from}`));
    } else {
      await writeFile(to, await buildIdfJson(from, `${label}: ${f.from}`));
    }
  }
  const manifest: Record<string, unknown> = { ...enc.manifest };
  if (typeof manifest.queryEncoder === 'string' && manifest.queryEncoder.startsWith('-'))
    manifest.queryEncoder = `${s.name}${manifest.queryEncoder}`;
  if (manifest.files === undefined) {
    const files: Record<string, string> = { tokenizer: 'tokenizer.json' };
    const model = enc.files.find((f) => f.to.endsWith('.onnx'));
    if (model !== undefined) files.model = model.to;
    if (enc.files.some((f) => f.to === 'idf.json')) files.idf = 'idf.json';
    manifest.files = files;
  }
  if (manifest.dim === undefined) {
    const tok = await loadTokenizer(path.join(dir, 'tokenizer.json'), `${label}: tokenizer.json`);
    if (manifest.kind === 'dense') throw new SpladexError('INVALID_ARGUMENT', `${label}: no embedding size in the repo's configs`);
    manifest.dim = tok.vocabSize;
  }
  const listed = (manifest.sha256 ?? {}) as Record<string, string>;
  const sha256: Record<string, string> = {};
  for (const f of Object.values(manifest.files as Record<string, string>)) {
    sha256[f] = await sha256File(path.join(dir, f));
    if (listed[f] !== undefined && listed[f] !== sha256[f]) {
      throw new SpladexError('CORRUPT_INDEX', `${label}: ${f} has sha256 ${sha256[f]}, the repo's encoder.json lists ${listed[f]}`);
    }
  }
  manifest.sha256 = sha256;
  manifest.source = { repo: o.repo, revision: s.revision, sha: s.rev.sha, layout };
  // Validated here, written as given: defaults stay implicit, as in a hand-written manifest.
  parseManifest(manifest, encName);
  await writeFile(path.join(dir, 'encoder.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await syncTree(dir);
}

/** fsync every file and directory under `dir` (the rename that follows publishes them). */
async function syncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await syncTree(p);
    else {
      const fh = await open(p, 'r');
      await fh.sync().finally(() => fh.close());
    }
  }
  await fsyncDir(dir);
}

/** Renames `staging/name` to `encodersDir/name`, moving an older pull of the same repo out of the way first. */
async function install(encodersDir: string, staging: string, name: string): Promise<void> {
  const dest = path.join(encodersDir, name);
  let trash: string | undefined;
  if ((await stat(dest).catch(() => undefined)) !== undefined) {
    trash = path.join(encodersDir, `.trash-${name}-${Date.now()}`);
    await rename(dest, trash);
  }
  await rename(path.join(staging, name), dest);
  if (trash !== undefined) await rm(trash, { recursive: true, force: true });
}
