/**
 * Load shedding: when the event loop lags by more than `maxEventLoopDelayMs`, `/v1/*` requests are answered
 * 503 BUSY with `Retry-After: 1` instead of queueing more work behind a stalled loop. /health, /ready, /metrics,
 * /docs and / are never shed, so probes and scrapes still see the process.
 *
 * The lag is measured by a timer that should tick every `intervalMs`: the lag is how late its last tick was,
 * or — read on demand while the loop is stalled — how overdue the next tick already is. The on-demand part
 * means a request that arrives right after a long synchronous stretch sees the lag at once.
 * Registered by app.ts when `maxEventLoopDelayMs > 0` (src/main.ts enables it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './error-handler.js';

/** Event-loop lag probe. */
export interface LagMonitor {
  /** Current lag estimate in ms (0 when the loop is keeping up). */
  lagMs(): number;
  close(): void;
}

/** Starts a lag monitor whose timer does not keep the process alive. */
export function createLagMonitor(intervalMs: number): LagMonitor {
  let last = performance.now();
  let lag = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(0, now - last - intervalMs);
    last = now;
  }, intervalMs);
  timer.unref();
  return {
    lagMs: () => Math.max(lag, performance.now() - last - intervalMs),
    close: () => clearInterval(timer),
  };
}

/** Installs the shedding hook and stops the monitor when the app closes. */
export function registerBackPressure(app: FastifyInstance, maxEventLoopDelayMs: number): void {
  if (maxEventLoopDelayMs <= 0) return;
  const monitor = createLagMonitor(Math.max(10, Math.min(100, Math.floor(maxEventLoopDelayMs / 2))));
  app.addHook('onClose', async () => monitor.close());
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.url.startsWith('/v1/')) return;
    const lag = monitor.lagMs();
    if (lag <= maxEventLoopDelayMs) return;
    request.log.warn({ lagMs: Math.round(lag) }, 'shedding load: event loop lagging');
    return sendError(reply, 503, 'BUSY', `server busy (event loop lag ${Math.round(lag)} ms); retry later`, 1);
  });
}
