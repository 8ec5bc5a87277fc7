/**
 * Process entry of the `spladex` command (src/cli/spladex.js and `npm run spladex` load this file). Wires the
 * real stdout/stderr into runCli and exits with its code; `serve` returns null and keeps the process alive.
 * No logic lives here (see run-cli.ts).
 */
import { runCli } from './run-cli.js';

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stderrIsTty: process.stderr.isTTY === true,
  },
  process.env,
);
// Exit explicitly: worker threads or timers of a closed service must not keep a finished command alive.
// stdout/stderr writes to files and pipes are synchronous on Linux, so nothing printed is lost.
if (code !== null) process.exit(code);
