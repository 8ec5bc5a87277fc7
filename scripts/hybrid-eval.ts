/**
 * `npx tsx scripts/hybrid-eval.ts DATASET_DIR [alpha] [dim]`: thin wrapper over src/eval/hybrid-eval.ts — nDCG@10 /
 * Recall@100 / MRR@10 of sparse, sparse + PRF, hybrid sparse + LSA and LSA alone on one BEIR dataset.
 */
import { formatHybridEval, runHybridEval } from '../src/eval/hybrid-eval.js';

const [dataset, alpha, dim] = process.argv.slice(2);
if (dataset === undefined) {
  process.stderr.write('usage: tsx scripts/hybrid-eval.ts DATASET_DIR [alpha=0.8] [dim=128]\n');
  process.exit(2);
}
const r = await runHybridEval({ dataset, alpha: alpha ? Number(alpha) : undefined, dim: dim ? Number(dim) : undefined });
process.stdout.write(formatHybridEval(r));
process.stdout.write(`${JSON.stringify(r)}\n`);
