/**
 * Encoder registry: opens `ENCODERS_DIR/NAME/` as a ready encoder, or lists the directories. Collection creation
 * calls `openEncoder`, so every problem with an encoder directory — unknown name, bad manifest, missing file, wrong
 * sha256, model that will not load, unexpected output rank, vocabulary size mismatch — is an INVALID_ARGUMENT at
 * creation (the message names the encoder and the file), never a failure at query time.
 *
 * ONNX kinds (`splade`, `echo`, `dense`) get a WorkerPool of encode workers (each worker holds its own session; the
 * pool starts only when every worker has passed the pipeline's validation and warm-up). `idf` runs in process.
 * The names in RESERVED_ENCODER_NAMES (`lexical`, `none`, `lsa`) are handled by the caller and refused here.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { SpladexError } from '../core/errors.js';
import { workerUrl } from '../core/worker-thread.js';
import type { DenseEncoder, SparseEncoder } from './encoder.js';
import type { EncodeWorkerData } from './encode-worker.js';
import { ENCODER_NAME_RE, loadManifest, RESERVED_ENCODER_NAMES, type EncoderManifest } from './manifest.js';
import {
  InProcessDenseEncoder,
  InProcessSparseEncoder,
  PooledDenseEncoder,
  PooledSparseEncoder,
  withQueryEncoder,
} from './onnx-encoder.js';
import { openPipeline } from './pipeline.js';
import { loadTokenizer } from './tokenizer.js';
import { WorkerPool } from './worker-pool.js';

export interface OpenEncoderOptions {
  logger: Logger;
  /**
   * Worker threads for ONNX kinds (SPLADEX_ENCODER_THREADS); default 1. 0 runs inference on the calling thread
   * (blocking it: for batch CLIs, tests and benchmarks, not for the server).
   */
  threads?: number;
  /** Requests allowed to wait for a worker before BUSY (SPLADEX_ENCODER_QUEUE); default 64. */
  queueSize?: number;
}

/** One row of `listEncoders`. */
export interface EncoderListing {
  name: string;
  /** Manifest kind, or undefined when the manifest is unreadable. */
  kind: EncoderManifest['kind'] | undefined;
  dim: number | undefined;
  /** Why the directory cannot be opened (manifest level only; files are checked by openEncoder). */
  error?: string;
}

const WORKER_ENTRY = workerUrl(import.meta.url, './encode-worker');

function invalid(message: string): SpladexError {
  return new SpladexError('INVALID_ARGUMENT', message);
}

/** Throws INVALID_ARGUMENT for reserved or malformed names. */
function checkName(name: string): void {
  if (RESERVED_ENCODER_NAMES.includes(name)) throw invalid(`encoder "${name}" is built in and not opened from a directory`);
  if (!ENCODER_NAME_RE.test(name)) throw invalid(`encoder name "${name}" is not valid (letters, digits, '_', '-', '.')`);
}

/** sha256 of a file, streamed (a 440 MB model hashes in about 1.5 s). */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Checks that every file of the manifest exists and that listed sha256 sums match. */
async function verifyFiles(dir: string, name: string, m: EncoderManifest): Promise<void> {
  const files = [m.files.model, m.files.tokenizer, m.files.idf].filter((f): f is string => f !== undefined);
  for (const f of Object.keys(m.sha256)) {
    if (!files.includes(f)) throw invalid(`encoder "${name}": encoder.json: sha256 lists "${f}", which is not one of its files`);
  }
  for (const f of files) {
    const full = path.join(dir, f);
    const st = await stat(full).catch(() => undefined);
    // Named relative to the encoder's directory: error bodies carry no absolute paths.
    if (st === undefined || !st.isFile()) throw invalid(`encoder "${name}": missing file ${f} in its directory`);
    const want = m.sha256[f];
    if (want !== undefined) {
      const got = await sha256File(full);
      if (got !== want) throw invalid(`encoder "${name}": ${f} has sha256 ${got}, encoder.json expects ${want}`);
    }
  }
}

async function openOne(
  encodersDir: string,
  name: string,
  opts: OpenEncoderOptions,
  allowQueryEncoder: boolean,
): Promise<SparseEncoder | DenseEncoder> {
  checkName(name);
  const dir = path.resolve(encodersDir, name);
  const st = await stat(dir).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) throw invalid(`unknown encoder "${name}": no directory "${name}" in the encoders directory`);
  const manifest = await loadManifest(dir, name);
  await verifyFiles(dir, name, manifest);
  const t0 = performance.now();

  let encoder: SparseEncoder | DenseEncoder;
  if (manifest.kind === 'idf' || opts.threads === 0) {
    const pipeline = await openPipeline({ dir, name, manifest });
    encoder = manifest.kind === 'dense' ? new InProcessDenseEncoder(name, pipeline) : new InProcessSparseEncoder(name, pipeline);
  } else {
    const tokenizer = await loadTokenizer(path.join(dir, manifest.files.tokenizer), `encoder "${name}": ${manifest.files.tokenizer}`);
    const workerData: EncodeWorkerData = { dir, name, manifest };
    const pool = await WorkerPool.start({
      entry: WORKER_ENTRY,
      workerData,
      size: opts.threads ?? 1,
      queueSize: opts.queueSize ?? 64,
      logger: opts.logger,
      name,
    });
    encoder =
      manifest.kind === 'dense' ? new PooledDenseEncoder(name, manifest, pool) : new PooledSparseEncoder(name, manifest, tokenizer, pool);
  }

  if (manifest.queryEncoder !== undefined) {
    try {
      if (!allowQueryEncoder) throw invalid(`encoder "${name}": a query encoder cannot itself name a queryEncoder`);
      if (encoder.kind !== 'sparse') throw invalid(`encoder "${name}": queryEncoder is only for sparse encoders`);
      const q = await openOne(encodersDir, manifest.queryEncoder, opts, false);
      if (q.kind !== 'sparse' || q.dim !== encoder.dim) {
        await q.close();
        throw invalid(`encoder "${name}": queryEncoder "${manifest.queryEncoder}" must be sparse with dim ${encoder.dim}`);
      }
      encoder = withQueryEncoder(encoder, q);
    } catch (e) {
      await encoder.close();
      throw e;
    }
  }
  opts.logger.info(
    {
      encoder: name,
      kind: manifest.kind,
      dim: manifest.dim,
      threads: manifest.kind === 'idf' ? 0 : (opts.threads ?? 1),
      ms: Math.round(performance.now() - t0),
    },
    'encoder opened',
  );
  return encoder;
}

/**
 * Opens `encodersDir/name` as a ready encoder (validated, warmed up). Throws INVALID_ARGUMENT with a message naming
 * the encoder and the offending file for every problem with the directory; the caller must `close()` the encoder.
 */
export function openEncoder(encodersDir: string, name: string, opts: OpenEncoderOptions): Promise<SparseEncoder | DenseEncoder> {
  return openOne(encodersDir, name, opts, true);
}

/**
 * Lists encoder directories (those holding an encoder.json) with kind and dim from their manifests; reserved names
 * are skipped. A missing `encodersDir` lists nothing.
 */
export async function listEncoders(encodersDir: string): Promise<EncoderListing[]> {
  const entries = await readdir(encodersDir, { withFileTypes: true }).catch(() => []);
  const out: EncoderListing[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory() || RESERVED_ENCODER_NAMES.includes(e.name) || !ENCODER_NAME_RE.test(e.name)) continue;
    const dir = path.join(encodersDir, e.name);
    if ((await stat(path.join(dir, 'encoder.json')).catch(() => undefined)) === undefined) continue;
    try {
      const m = await loadManifest(dir, e.name);
      out.push({ name: e.name, kind: m.kind, dim: m.dim });
    } catch (err) {
      out.push({ name: e.name, kind: undefined, dim: undefined, error: (err as Error).message });
    }
  }
  return out;
}
