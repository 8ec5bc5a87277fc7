/**
 * `npm run beir -- --dataset DIR [--out DIR] [--encoder NAME] [--exact] [--sweep] [--data DIR]`: thin wrapper over
 * src/eval/beir-runner.ts (same as `spladex eval`). Exit codes as the CLI: 0 ok, 1 failure, 2 usage.
 */
import { runCli } from '../src/cli/run-cli.js';
import { runBeirCli } from '../src/eval/beir-runner.js';

const code = await runCli(
  ['eval', ...process.argv.slice(2)],
  { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), stderrIsTty: process.stderr.isTTY === true },
  process.env,
  { eval: runBeirCli },
);
process.exit(code ?? 0);
