/**
 * Opens what a command talks to: a SpladexClient over HTTP when `--url` is given, else over an in-process
 * SpladexService on the data dir (`--data`, else SPLADEX_DATA_DIR, else ./index). The in-process service logs
 * through pino to stderr at `--log-level` (default `fatal`, so a failure prints as the CLI's one error line;
 * `index` defaults to `error` so a failed background seal is seen).
 * A data dir that another process holds (a running server, another CLI command) fails at once, exit 1, with one
 * line that suggests `--url`: every local command opens the stores, and opening replays (and may repair) the
 * WAL, so none of them, `inspect` and `search` included, may run under a live server.
 * Callers: the CLI commands, the BEIR runner.
 */
import { pino, type Logger } from 'pino';
import type { EnvConfig } from '../config/env.js';
import { SpladexError } from '../core/errors.js';
import { DirLockedError } from '../storage/lock.js';
import { openSpladexService, type SpladexService } from '../search/spladex-service.js';
import { createHttpClient, createLocalClient, type SpladexClient } from './client.js';
import { UsageError } from './usage-error.js';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** A pino logger writing synchronously to stderr (nothing is lost when the CLI exits). */
export function createCliLogger(level: string | undefined, defaultLevel = 'fatal'): Logger {
  const lvl = level ?? defaultLevel;
  if (!LEVELS.has(lvl)) throw new UsageError(`--log-level must be one of ${[...LEVELS].join(', ')}`);
  return pino({ level: lvl, base: undefined }, pino.destination({ dest: 2, sync: true }));
}

/** Flags that choose the target. */
export interface TargetFlags {
  url?: string;
  data?: string;
  'log-level'?: string;
}

/** Opens the client for these flags; the caller must `close()` it. */
export async function openTarget(
  flags: TargetFlags,
  env: EnvConfig,
  extra: { memtableMaxDocs?: number; defaultLogLevel?: string; bulkLoad?: boolean } = {},
): Promise<SpladexClient> {
  if (flags.url !== undefined) {
    if (flags.data !== undefined) throw new UsageError('give either --url or --data, not both');
    return createHttpClient({ url: flags.url, apiKey: env.apiKey });
  }
  const dataDir = flags.data ?? env.dataDir;
  let service: SpladexService;
  try {
    service = await openSpladexService({
      dataDir,
      encodersDir: env.encodersDir,
      logger: createCliLogger(flags['log-level'], extra.defaultLogLevel),
      memtableMaxDocs: extra.memtableMaxDocs ?? env.memtableMaxDocs,
      memtableMaxBytes: env.memtableMaxBytes,
      lsaFitTimeoutMs: env.lsaFitTimeoutMs,
      encoderThreads: env.encoderThreads,
      encoderQueue: env.encoderQueue,
      limits: { maxMetadataKeys: env.maxMetadataKeys, maxMetadataBytes: env.maxMetadataBytes },
      bulkLoad: extra.bulkLoad ?? false,
      role: 'cli',
      snapshotDir: env.snapshotDir,
    });
  } catch (err) {
    if (err instanceof DirLockedError) throw heldDataDir(dataDir, err);
    throw err;
  }
  return createLocalClient(service);
}

/** BUSY for a data dir (or one of its collections) another process holds, saying what to do instead. */
function heldDataDir(dataDir: string, err: DirLockedError): SpladexError {
  const h = err.holder;
  const what = h === null ? 'another process' : `process ${h.pid}${h.role === undefined ? '' : ` (${h.role})`}`;
  const hint =
    h?.role === 'cli'
      ? 'another spladex command is using it; wait for it to finish'
      : `if a spladex server is using it, send the command to the server: --url ${h?.url ?? 'http://HOST:PORT'}`;
  return new SpladexError('BUSY', `data directory ${dataDir} is held by ${what}; ${hint}`, { cause: err });
}
