/**
 * Progress display for bulk indexing, on stderr: a cli-progress bar (bytes read as the measure, so the ETA is
 * meaningful without counting lines first; docs and docs/s as payload) when stderr is a terminal, and one plain
 * line every `intervalMs` otherwise (logs, CI); and a byte bar for downloads, silent off a terminal. Callers: the
 * `index` command, the BEIR runner, `models pull`.
 */
import cliProgress from 'cli-progress';

/** Where progress goes (the CLI's `CliIo` fits). */
export interface ProgressSink {
  stderr(text: string): void;
  /** true when stderr is a terminal (progress bar instead of periodic lines). */
  stderrIsTty: boolean;
}

/** Receives counts as indexing proceeds. */
export interface ProgressReporter {
  update(docs: number, bytes: number): void;
  stop(docs: number, bytes: number): void;
}

/** No output at all (used when stderr progress is unwanted). */
export const SILENT_PROGRESS: ProgressReporter = { update() {}, stop() {} };

function rate(docs: number, ms: number): number {
  return ms > 0 ? Math.round((docs * 1000) / ms) : 0;
}

/** A progress bar or periodic lines on `io.stderr`, for an input of `totalBytes`. */
export function createProgress(io: ProgressSink, totalBytes: number, label: string, intervalMs = 5000): ProgressReporter {
  const t0 = performance.now();
  if (io.stderrIsTty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} {bar} {percentage}% | {docs} docs | {rate} docs/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, totalBytes), 0, { docs: 0, rate: 0 });
    return {
      update(docs, bytes) {
        bar.update(Math.min(bytes, totalBytes), { docs, rate: rate(docs, performance.now() - t0) });
      },
      stop(docs) {
        bar.update(Math.max(1, totalBytes), { docs, rate: rate(docs, performance.now() - t0) });
        bar.stop();
      },
    };
  }
  let next = t0 + intervalMs;
  return {
    update(docs, bytes) {
      const now = performance.now();
      if (now < next) return;
      next = now + intervalMs;
      const pct = totalBytes > 0 ? Math.min(100, (100 * bytes) / totalBytes) : 0;
      io.stderr(`${label}: ${docs} docs, ${pct.toFixed(1)}%, ${rate(docs, now - t0)} docs/s\n`);
    },
    stop() {},
  };
}

/** Byte progress of downloads (`spladex models pull`). */
export interface ByteProgress {
  start(totalBytes: number): void;
  update(bytes: number): void;
  stop(): void;
}

/** A cli-progress bar of MB downloaded when stderr is a terminal; nothing otherwise (logs and pipes stay quiet). */
export function createByteProgress(io: ProgressSink, label: string): ByteProgress {
  if (!io.stderrIsTty) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {percentage}% | {mb}/{totalMb} MB | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let total = 1;
  const mb = (b: number) => (b / 1e6).toFixed(1);
  return {
    start(totalBytes) {
      total = Math.max(1, totalBytes);
      bar.start(total, 0, { mb: mb(0), totalMb: mb(totalBytes) });
    },
    update(bytes) {
      bar.update(Math.min(bytes, total), { mb: mb(bytes) });
    },
    stop() {
      bar.stop();
    },
  };
}
