/**
 * `npm run bench -- --docs N [--queries Q|FILE] [--gt FILE] [--seed S] [--input FILE] [--out DIR] [--config JSON] [--threads T]
 * [--brute-queries B] [--cache DIR]`:
 * thin wrapper over src/eval/bench-runner.ts (all logic lives there; file formats in src/eval/bench-input.ts). Prints
 * the build parameters, progress and the qc × hf recall–latency table to stdout.
 */
import { parseBenchArgs, runBench } from '../src/eval/bench-runner.js';

const opts = parseBenchArgs(process.argv.slice(2));
runBench(opts, (line) => process.stdout.write(`${line}\n`)).catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).message}\n`);
  process.exit(1);
});
