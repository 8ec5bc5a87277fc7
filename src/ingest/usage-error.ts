/**
 * The usage error (a wrong invocation: unknown flag, missing argument, bad number), exit code 2 in the CLI.
 * Here rather than in src/cli/ because opening a target (open-target.ts) rejects conflicting flags with it;
 * src/cli/usage.ts re-exports it for the commands.
 */
/** A wrong invocation: unknown flag, missing argument, bad number. Maps to exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
