/**
 * Command-line plumbing shared by the subcommands: the usage error (exit code 2), typed option readers over
 * node:util `parseArgs` results, and the output sink the commands write to (stdout/stderr in production,
 * buffers in unit tests). Callers: run-cli.ts and the command files.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { UsageError } from '../ingest/usage-error.js';

export { UsageError };

/** Where a command writes. `stdout` is the command's result; `stderr` progress, warnings and errors. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** true when stderr is a terminal (progress bar instead of periodic lines). */
  stderrIsTty: boolean;
}

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  data: { type: 'string' },
  url: { type: 'string' },
  'log-level': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** What parseCommandArgs returns (spelled out: declaration files cannot name util's internal result type). */
export type ParsedCommandArgs<O extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** Runs parseArgs in strict mode and turns its errors into UsageError. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O): ParsedCommandArgs<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Parses an integer option in [min, max]; undefined stays undefined. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${value}"`);
  return n;
}

/** The single positional argument `what` at position `i`, or a UsageError. */
export function positional(positionals: string[], i: number, what: string): string {
  const v = positionals[i];
  if (v === undefined || v === '') throw new UsageError(`missing ${what}`);
  return v;
}
