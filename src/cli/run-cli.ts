/**
 * The `spladex` command line: dispatches `serve | index | search | optimize | encode | inspect | export | models |
 * snapshot | restore | eval | bench`, prints help, and maps failures to exit codes — 0 ok, 1 failure (one line
 * `spladex: error: CODE: message`),
 * 2 usage (`spladex: usage: ...`). Returns null for `serve`, which keeps the process running.
 * `serve`, `eval` and `bench` run code that lives above src/cli/ (the server, the evaluation and benchmarks), so
 * the process entry (src/cli/main.ts, a composition root like src/main.ts) hands them in as `OuterCommands`.
 * Callers: src/cli/main.ts (the process entry), scripts/beir-eval.ts and tests.
 */
import { isOutOfSpace, isSpladexError } from '../core/errors.js';
import { loadEnv, type EnvConfig } from '../config/env.js';
import { loadHubEnv } from '../config/hub-env.js';
import {
  encodeCommand,
  indexCommand,
  inspectCommand,
  optimizeCommand,
  restoreCommand,
  searchCommand,
  snapshotCommand,
} from './commands.js';
import { modelsCommand } from './models-command.js';
import { exportCommand } from './export-command.js';
import { UsageError, parseCommandArgs, intOption, type CliIo } from './usage.js';

export const MAIN_HELP = `spladex — learned-sparse-retrieval search server

usage: spladex <command> [options]

commands:
  serve                         start the HTTP server (SPLADEX_* environment; --data, --host, --port override)
  index <collection> --input F  bulk-index a JSONL / BEIR corpus file
  search <collection> "text"    query a collection (-k N, --exact, --json)
  optimize <collection>         seal the memtable and merge segments [--calibration-queries FILE]
  encode "text"                 show the sparse vector of a text
  inspect <collection>          open, verify checksums, print configuration and statistics
  export <collection> --out F   write the documents as JSONL that "spladex index" reads back
  models pull|list|rm           encoder directories from the Hugging Face Hub (pull org/repo [--name N])
  snapshot <collection>         snapshot a collection while it serves [--list]
  restore <collection> <id> --as NEW   restore a snapshot into a new collection (checksums verified)
  eval --dataset DIR            BEIR evaluation (same as npm run beir)
  bench                         synthetic benchmark (same as npm run bench)

Most commands work on the data dir (--data DIR, SPLADEX_DATA_DIR, default ./index) or on a running server
(--url http://host:port); --log-level LEVEL shows the in-process service's log on stderr.
"spladex <command> --help" describes a command.
Exit codes: 0 ok, 1 failure, 2 usage error.`;

const SERVE_HELP = `spladex serve [--data DIR] [--host HOST] [--port N] [--log-level LEVEL]
  Starts the server; other settings come from SPLADEX_* environment variables (see docs/API.md).`;

/** Commands whose code lives above src/cli/; a missing one answers exit code 2 ("not available"). */
export interface OuterCommands {
  /** Starts the server on this environment; resolves 'ready', or 'stopped' when a signal stopped it during the load. */
  serve?(env: Record<string, string | undefined>): Promise<'ready' | 'stopped'>;
  /** `spladex eval`: the BEIR runner (src/eval/beir-runner.ts). */
  eval?(args: string[], env: EnvConfig, io: CliIo): Promise<number>;
  /** `spladex bench`: the synthetic benchmark; writes report lines through `line`. */
  bench?(args: string[], line: (text: string) => void): Promise<void>;
}

type Command = (args: string[], env: EnvConfig, io: CliIo) => Promise<number | null>;

async function serveCommand(
  args: string[],
  io: CliIo,
  rawEnv: Record<string, string | undefined>,
  outer: OuterCommands,
): Promise<number | null> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${SERVE_HELP}\n`);
    return 0;
  }
  const { values, positionals } = parseCommandArgs(args, {
    data: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const env = { ...rawEnv };
  if (values.data !== undefined) env.SPLADEX_DATA_DIR = values.data;
  if (values.host !== undefined) env.SPLADEX_HOST = values.host;
  if (values.port !== undefined) env.SPLADEX_PORT = String(intOption('port', values.port, 0, 65535));
  if (values['log-level'] !== undefined) env.SPLADEX_LOG_LEVEL = values['log-level'];
  if (outer.serve === undefined) throw new UsageError('serve is not available in this entry');
  // A signal during the start-up load is a clean stop (everything is closed by now), not a failure.
  return (await outer.serve(env)) === 'stopped' ? 0 : null;
}

async function evalCommand(args: string[], env: EnvConfig, io: CliIo, outer: OuterCommands): Promise<number> {
  if (outer.eval === undefined) throw new UsageError('eval is not available in this entry');
  return outer.eval(args, env, io);
}

async function benchCommand(args: string[], io: CliIo, outer: OuterCommands): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(
      'spladex bench [--docs N] [--queries Q] [--seed S] [--input FILE] [--out DIR] [--config JSON]\n  Same as npm run bench (src/eval/bench-runner.ts).\n',
    );
    return 0;
  }
  if (outer.bench === undefined) throw new UsageError('bench is not available in this entry');
  await outer.bench(args, (line) => io.stdout(`${line}\n`));
  return 0;
}

/**
 * Runs one CLI invocation. `argv` excludes node and the script; `rawEnv` is the process environment (only
 * parsed through src/config/env.ts); `outer` the commands from above src/cli/. Resolves to the exit code, or null
 * when the process must keep running.
 */
export async function runCli(
  argv: string[],
  io: CliIo,
  rawEnv: Record<string, string | undefined>,
  outer: OuterCommands = {},
): Promise<number | null> {
  const [cmd, ...args] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout(`${MAIN_HELP}\n`);
    return cmd === undefined ? 2 : 0;
  }
  const commands: Record<string, Command> = {
    serve: (a, _e, o) => serveCommand(a, o, rawEnv, outer),
    index: indexCommand,
    search: searchCommand,
    optimize: optimizeCommand,
    encode: encodeCommand,
    inspect: inspectCommand,
    export: exportCommand,
    models: (a, e, o) => modelsCommand(a, e, o, loadHubEnv(rawEnv)),
    snapshot: snapshotCommand,
    restore: restoreCommand,
    eval: (a, e, o) => evalCommand(a, e, o, outer),
    bench: (a, _e, o) => benchCommand(a, o, outer),
  };
  const known = Object.hasOwn(commands, cmd);
  try {
    const run = commands[cmd];
    if (!known) throw new UsageError(`unknown command "${cmd}"`);
    const env = loadEnv(rawEnv);
    return await run(args, env, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`spladex: usage: ${e.message} (see "spladex ${known ? `${cmd} ` : ''}--help")\n`);
      return 2;
    }
    if (isSpladexError(e)) {
      io.stderr(`spladex: error: ${e.code}: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (isOutOfSpace(err)) {
      io.stderr(`spladex: error: STORAGE_FULL: no space left on the data volume (${err.code}): ${err.message}\n`);
      return 1;
    }
    io.stderr(`spladex: error: ${err.code ?? 'INTERNAL'}: ${err.message ?? String(e)}\n`);
    return 1;
  }
}
