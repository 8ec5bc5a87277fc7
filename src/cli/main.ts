/**
 * Process entry and composition root of the `spladex` command (src/cli/spladex.js and `npm run spladex` load this
 * file). Wires the real stdout/stderr into runCli and exits with its code; `serve` returns null and keeps the
 * process alive. The commands whose code lives above src/cli/ are handed in here, each imported lazily (the server
 * pulls in Fastify, the benchmark the synthetic generator): `serve` (src/server/start-server.ts), `eval`
 * (src/eval/beir-runner.ts), `bench` (the benchmark runner). No other logic lives here (see run-cli.ts).
 */
import { type OuterCommands, runCli } from './run-cli.js';

const outer: OuterCommands = {
  async serve(env) {
    const { startServer, StoppedBeforeReady } = await import('../server/start-server.js');
    try {
      await startServer(env);
      return 'ready';
    } catch (err) {
      if (err instanceof StoppedBeforeReady) return 'stopped';
      throw err;
    }
  },
  async eval(args, env, io) {
    const { runBeirCli } = await import('../eval/beir-runner.js');
    return runBeirCli(args, env, io);
  },
  async bench(args, line) {
    const { parseBenchArgs, runBench } = await import('../eval/bench-runner.js');
    await runBench(parseBenchArgs(args), line);
  },
};

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stderrIsTty: process.stderr.isTTY === true,
  },
  process.env,
  outer,
);
// Exit explicitly: worker threads or timers of a closed service must not keep a finished command alive.
// stdout/stderr writes to files and pipes are synchronous on Linux, so nothing printed is lost.
if (code !== null) process.exit(code);
