/**
 * The processes tests start (servers, nats-server nodes), killed with SIGKILL when the test file is done
 * (test/support/vitest-setup.ts, an `afterAll` that runs after the file's own) and when this process exits. A test
 * that times out never reaches its own cleanup: `npx vitest run` without `npm test`'s timeouts once left three
 * nats-server nodes and three spladex servers running after a cluster test's 5 s default timeout.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Kills every started child that is still running. */
export function reapChildren(): void {
  for (const child of live) if (alive(child)) child.kill('SIGKILL');
  live.clear();
}

process.on('exit', reapChildren);

/** Registers `child` to be killed by `reapChildren` (and at exit) unless it has exited by then; returns it. */
export function reapLater<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
