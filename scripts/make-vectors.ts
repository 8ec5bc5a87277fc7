/**
 * Writes a JSONL file of pre-encoded synthetic SPLADE-like documents (src/eval/synthetic.ts) for the CLI's bulk
 * indexing benchmark: `npx tsx scripts/make-vectors.ts --docs 1000000 --out /tmp/syn-1m.jsonl [--seed 1]
 * [--format indices|tokens]`. Then: `time npm run spladex -- index syn --input /tmp/syn-1m.jsonl --data DIR`.
 */
import { parseArgs } from 'node:util';
import { createSyntheticModel, syntheticDocs, writeVectorsJsonl } from '../src/eval/synthetic.js';

const { values } = parseArgs({
  options: { docs: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, format: { type: 'string' } },
});
if (values.out === undefined) {
  process.stderr.write('usage: make-vectors.ts --docs N --out FILE [--seed S] [--format indices|tokens]\n');
  process.exit(2);
}
const numDocs = Number(values.docs ?? '1000000');
const format = values.format === 'tokens' ? 'tokens' : 'indices';
const model = createSyntheticModel({ seed: Number(values.seed ?? '1') });
const t0 = performance.now();
const n = await writeVectorsJsonl(values.out, syntheticDocs(model, numDocs), { format, decode: (id) => `t${id}` });
process.stdout.write(`wrote ${n} docs to ${values.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
