/**
 * Runs the real server as a child process (`node --import tsx src/main.ts`) for the hardening scripts and tests:
 * a temp or given data dir, an ephemeral port on 127.0.0.1 read from the "spladex listening" log line, then
 * `/ready` polled until 200. Every wait is bounded and driven by the child's output or exit, or by polling with a
 * deadline; nothing sleeps for synchronisation. Callers own the process: `kill(signal)` and `exited`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { reapLater } from './child-reaper.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/support/server-process.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Everything the child printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code and signal once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnServerOptions {
  dataDir: string;
  /** Extra SPLADEX_* variables (port and host are fixed to 0 and 127.0.0.1). */
  env?: Record<string, string>;
  /** Bound on reaching "listening" and then /ready 200, ms (default 60 s). */
  startTimeoutMs?: number;
  /** Wait for /ready 200 after listening (default true). */
  waitReady?: boolean;
  /** Keep at most this many characters of output (default 1 MB). */
  maxOutputChars?: number;
  /** Command run in front of `node`, e.g. `['unshare', '--pid', '--fork', '--mount-proc']` (default none). */
  launcher?: string[];
  /** Run under `ulimit -n <maxOpenFiles>` (file-descriptor tests). */
  maxOpenFiles?: number;
  /** The server's entry as node arguments (default `--import tsx src/main.ts`; e.g. a built `dist/main.js`). */
  entry?: string[];
}

/** Polls `fn` until it returns true or `timeoutMs` passes; each attempt is spaced by `intervalMs` of waiting. */
export async function pollUntil(fn: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

/** Starts the server and resolves once it listens (and, by default, is ready). Rejects on early exit or timeout. */
export async function spawnServer(opts: SpawnServerOptions): Promise<ServerProcess> {
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const maxOut = opts.maxOutputChars ?? 1_000_000;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SPLADEX_LOG_LEVEL: 'info',
    ...opts.env,
    SPLADEX_DATA_DIR: opts.dataDir,
    SPLADEX_PORT: '0',
    SPLADEX_HOST: '127.0.0.1',
  };
  if (opts.env?.SPLADEX_API_KEY === undefined) delete env.SPLADEX_API_KEY;
  // `launcher` runs in front of node (e.g. unshare); `maxOpenFiles`: a shell lowers RLIMIT_NOFILE, then execs
  // the command in its place (same pid).
  const argv = [...(opts.launcher ?? []), process.execPath, ...(opts.entry ?? ['--import', 'tsx', 'src/main.ts'])];
  const child =
    opts.maxOpenFiles === undefined
      ? spawn(argv[0], argv.slice(1), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${opts.maxOpenFiles} && exec "$@"`, 'sh', ...argv], {
          cwd: REPO_ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  const append = (c: Buffer) => {
    out += c.toString('utf8');
    // Trim only at twice the bound, so a chatty server (request logs at info) costs amortised O(1) per chunk.
    if (out.length > 2 * maxOut) out = out.slice(out.length - maxOut);
  };
  child.stderr?.on('data', append);
  // A script that exits (or is interrupted through process.exit), or a test that times out, must not leave a
  // server behind.
  reapLater(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let listening = false;
  const base = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not listen within ${timeoutMs} ms:\n${out.slice(-4000)}`));
    }, timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      append(c);
      if (listening) return;
      seen += c.toString('utf8');
      const lines = seen.split('\n');
      seen = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"spladex listening"')) continue;
        listening = true;
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
        return;
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}):\n${out.slice(-4000)}`));
    });
  });
  const proc: ServerProcess = {
    child,
    pid: child.pid as number,
    base,
    output: () => out,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  if (opts.waitReady !== false) {
    const ready = await pollUntil(async () => (await fetch(`${base}/ready`)).status === 200, timeoutMs);
    if (!ready) {
      proc.kill('SIGKILL');
      throw new Error(`server at ${base} not ready within ${timeoutMs} ms:\n${out.slice(-4000)}`);
    }
  }
  return proc;
}

/** Reads VmRSS of a process from /proc (bytes), or null when unavailable. */
export async function readRssBytes(pid: number): Promise<number | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
