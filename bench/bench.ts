/**
 * `npm run bench -- --docs N [--queries Q] [--seed S] [--input FILE] [--out DIR] [--config JSON] [--threads T]`: thin wrapper over
 * src/eval/bench-runner.ts (all logic lives there). Prints progress and the recall–latency table to stdout.
 */
import { parseBenchArgs, runBench } from '../src/eval/bench-runner.js';

const opts = parseBenchArgs(process.argv.slice(2));
runBench(opts, (line) => process.stdout.write(`${line}\n`)).catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).message}\n`);
  process.exit(1);
});
