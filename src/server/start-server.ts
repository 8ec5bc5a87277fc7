/**
 * Starting the server: environment → pino logger → search service → Fastify app → listen.
 * `startServer` is what `npm start` (src/main.ts, the composition root) and the CLI's `spladex serve` (through
 * src/cli/main.ts) call; the library entry (src/lib.ts) exports it.
 *
 * Start order: take the data dir's lock (a second server on a locked data dir refuses to start: the one failure
 * line names the dir and the holder's pid, exit 1), listen, then open the collections in the background, so a large data dir does not leave
 * probes unanswered: meanwhile `/health` is 200, `/ready` 503 and `/v1/*` 503 BUSY with Retry-After
 * (readiness-gate.ts). The "spladex listening" line (with the port) is logged once the collections are loaded;
 * "spladex loading" (with the port) right after binding. `startServer` resolves once ready; when the load fails,
 * the app is closed and it rejects (the process exits 1 with one line). A signal (or `close()`) during the load
 * is a clean stop, not a failure: the shutdown waits for the load to finish, closes everything, and
 * `startServer` rejects with `StoppedBeforeReady`, on which the process exits 0 (`spladex serve` too).
 *
 * Shutdown (SIGTERM/SIGINT or `close()`): stop accepting connections and let in-flight requests finish
 * (`app.close()`), then `service.close()`, which flushes and closes every collection's log. Acknowledged writes
 * are already fsynced, so a SIGKILL loses nothing acknowledged either; a graceful close only saves replay time.
 * In-flight requests get up to SHUTDOWN_GRACE_MS; a second signal during shutdown exits at once with code 1.
 */
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { loadEnv, type ClusterEnv } from '../config/env.js';
import { SpladexError } from '../core/errors.js';
import { SpladexService } from '../search/spladex-service.js';
import { buildApp } from './app.js';
import type { HostedService } from './service-port.js';

/** Event-loop lag above which /v1 requests are shed with 503 BUSY: a loop this late is already failing them. */
const MAX_EVENT_LOOP_DELAY_MS = 1000;

/** How long shutdown waits for in-flight requests before dropping their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

/** How `startServer` rejects after a signal or `close()` stopped it, cleanly, before its collections loaded. */
export class StoppedBeforeReady extends SpladexError {
  constructor() {
    super('BUSY', 'shut down while collections were loading');
    this.name = 'StoppedBeforeReady';
  }
}

/** A running server. `close()` is idempotent and resolves once the service is closed. */
export interface RunningServer {
  app: FastifyInstance;
  /** The bound address, e.g. `http://127.0.0.1:8080`. */
  url: string;
  logger: Logger;
  close(): Promise<void>;
}

/** Options of `startServer`. */
export interface StartOptions {
  /** Install SIGTERM/SIGINT handlers that close the server and let the process exit (default true). */
  handleSignals?: boolean;
  /** Logger to use instead of a new pino logger at `SPLADEX_LOG_LEVEL` on stdout. */
  logger?: Logger;
  /**
   * Cluster mode (SPLADEX_NATS_URL set): wraps the local service into a cluster node. Passed by the composition
   * roots (src/main.ts, src/cli/main.ts) so src/server never imports src/cluster.
   */
  clusterNode?: (parts: { local: SpladexService; cluster: ClusterEnv; logger: Logger; dataDir: string }) => HostedService;
}

/**
 * Reads `SPLADEX_*` from `env`, opens the service and listens. Throws INVALID_ARGUMENT for a bad variable and
 * whatever opening the data dir throws (e.g. CORRUPT_INDEX naming the file); nothing is left open on failure.
 */
export async function startServer(env: Record<string, string | undefined>, options: StartOptions = {}): Promise<RunningServer> {
  const config = loadEnv(env);
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'spladex' } });
  const local = new SpladexService({
    dataDir: config.dataDir,
    encodersDir: config.encodersDir,
    logger,
    memtableMaxDocs: config.memtableMaxDocs,
    memtableMaxBytes: config.memtableMaxBytes,
    lsaFitTimeoutMs: config.lsaFitTimeoutMs,
    encoderThreads: config.encoderThreads,
    encoderQueue: config.encoderQueue,
    role: 'server',
    snapshotDir: config.snapshotDir,
    limits: {
      maxMetadataKeys: config.maxMetadataKeys,
      maxMetadataBytes: config.maxMetadataBytes,
      maxQueryTerms: config.maxQueryTerms,
      maxCollections: config.maxCollections,
      maxResponseHits: config.maxResponseHits,
      maxResponseExplainTerms: config.maxResponseExplainTerms,
      maxResponseIncludedHits: config.maxResponseIncludedHits,
      maxResultWindow: config.maxResultWindow,
      maxCursors: config.maxCursors,
      cursorTtlMs: config.cursorTtlMs,
    },
  });
  let service: HostedService = local;
  if (config.cluster !== null) {
    if (options.clusterNode === undefined)
      throw new SpladexError('INVALID_ARGUMENT', 'SPLADEX_NATS_URL: cluster mode is not available here');
    service = options.clusterNode({ local, cluster: config.cluster, logger, dataDir: config.dataDir });
  }
  let app: FastifyInstance;
  let url: string;
  try {
    await service.lockDataDir();
    app = await buildApp({
      service,
      logger,
      apiKeys: config.apiKeys,
      corsOrigins: config.corsOrigins,
      maxBodyBytes: config.maxBodyBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      maxEventLoopDelayMs: MAX_EVENT_LOOP_DELAY_MS,
      dataDir: config.dataDir,
      rateLimit: { max: config.rateLimitMax, timeWindowMs: config.rateLimitWindowMs },
      authFailMax: config.authFailMax,
      authFailWindowMs: config.authFailWindowMs,
      allowedHosts: config.allowedHosts,
    });
  } catch (err) {
    await service.close();
    throw err;
  }
  // Settles when the background load has finished or failed; close() waits for it so that no collection is
  // opened after the service was closed.
  let loading: Promise<void> = Promise.resolve();

  let closing: Promise<void> | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing !== null) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    close().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Requests still running after the grace period lose their connections, so shutdown cannot hang on a
      // stuck client; acknowledged writes are durable either way.
      const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      force.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(force);
        await loading.catch(() => undefined);
        await service.close();
        if (options.handleSignals !== false) {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        }
        logger.info('spladex stopped');
      }
    })();
    return closing;
  };
  if (options.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  try {
    url = await app.listen({ host: config.host, port: config.port });
    // For the CLI's "use --url" hint when it finds the data dir held.
    await service.describeOwner({ url: `http://${hostForUrl(config.host)}:${boundPort(app, config.port)}` });
    logger.info({ host: config.host, port: boundPort(app, config.port), dataDir: config.dataDir }, 'spladex loading');
    loading = service.open();
    await loading;
  } catch (err) {
    await close();
    throw err;
  }
  if (closing !== null) {
    await closing;
    throw new StoppedBeforeReady();
  }
  logger.info(
    { host: config.host, port: boundPort(app, config.port), dataDir: config.dataDir, auth: config.apiKeys.length > 0 },
    'spladex listening',
  );
  return { app, url, logger, close };
}

function boundPort(app: FastifyInstance, fallback: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
}

/** The address a local client should use for a bind address (a wildcard bind is reachable on loopback). */
function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
