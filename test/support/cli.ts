/**
 * The CLI door in-process for tests: `runCliCaptured` runs `spladex <args>` through `runCli` with `env` and
 * returns its exit code (-1 for `serve`, which keeps running) and what it printed; `silentCliIo` is an io that
 * keeps stderr only. Child-process runs (real exit codes and signals) stay in the tests that need them.
 */
import { runCli } from '../../src/cli/run-cli.js';
import type { CliIo } from '../../src/cli/usage.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliCaptured(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTty: false }, env);
  return { code: code ?? -1, stdout, stderr };
}

export function silentCliIo(): { io: CliIo; stderr: () => string } {
  let stderr = '';
  return { io: { stdout: () => {}, stderr: (t: string) => void (stderr += t), stderrIsTty: false }, stderr: () => stderr };
}
