/**
 * Opens what a command talks to: a SpladexClient over HTTP when `--url` is given, else over an in-process
 * SpladexService on the data dir (`--data`, else SPLADEX_DATA_DIR, else ./index). The in-process service logs
 * through pino to stderr at `--log-level` (default `fatal`, so a failure prints as the CLI's one error line;
 * `index` defaults to `error` so a failed background seal is seen).
 * Callers: the CLI commands, the BEIR runner.
 */
import { pino, type Logger } from 'pino';
import type { EnvConfig } from '../config/env.js';
import { openSpladexService } from '../search/spladex-service.js';
import { createHttpClient, createLocalClient, type SpladexClient } from './client.js';
import { UsageError } from './usage.js';

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
  const service = await openSpladexService({
    dataDir: flags.data ?? env.dataDir,
    encodersDir: env.encodersDir,
    logger: createCliLogger(flags['log-level'], extra.defaultLogLevel),
    memtableMaxDocs: extra.memtableMaxDocs ?? env.memtableMaxDocs,
    memtableMaxBytes: env.memtableMaxBytes,
    lsaFitTimeoutMs: env.lsaFitTimeoutMs,
    encoderThreads: env.encoderThreads,
    encoderQueue: env.encoderQueue,
    bulkLoad: extra.bulkLoad ?? false,
  });
  return createLocalClient(service);
}
