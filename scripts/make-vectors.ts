/**
 * Writes a JSONL file of pre-encoded synthetic SPLADE-like documents (src/eval/synthetic.ts) for the CLI's bulk
 * indexing benchmark: `npx tsx scripts/make-vectors.ts --docs 1000000 --out /tmp/syn-1m.jsonl [--seed 1]
 * [--format indices|tokens]`. Then: `time npm run spladex -- index syn --input /tmp/syn-1m.jsonl --data DIR`.
 * With `--queries N [--first I]` it writes instead the query vectors I..I+N-1 of the same model as
 * `{"vector": {indices, values}}` lines, for `spladex optimize --calibration-queries` (the collection benchmark
 * measures with queries 0..N-1, so pick I beyond them, e.g. 100000, to hold the calibration queries out).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createSyntheticModel, generateQuery, syntheticDocs, writeVectorsJsonl } from '../src/eval/synthetic.js';

const { values } = parseArgs({
  options: {
    docs: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    format: { type: 'string' },
    queries: { type: 'string' },
    first: { type: 'string' },
  },
});
if (values.out === undefined) {
  process.stderr.write(
    'usage: make-vectors.ts --docs N --out FILE [--seed S] [--format indices|tokens] | --queries N [--first I] --out FILE\n',
  );
  process.exit(2);
}
if (values.queries !== undefined) {
  const model = createSyntheticModel({ seed: Number(values.seed ?? '1') });
  const first = Number(values.first ?? '0');
  const lines: string[] = [];
  for (let i = 0; i < Number(values.queries); i++) {
    const q = generateQuery(model, first + i);
    lines.push(JSON.stringify({ vector: { indices: Array.from(q.indices), values: Array.from(q.values) } }));
  }
  writeFileSync(values.out, `${lines.join('\n')}\n`);
  process.stdout.write(`wrote ${lines.length} queries (${first}..${first + lines.length - 1}) to ${values.out}\n`);
  process.exit(0);
}
const numDocs = Number(values.docs ?? '1000000');
const format = values.format === 'tokens' ? 'tokens' : 'indices';
const model = createSyntheticModel({ seed: Number(values.seed ?? '1') });
const t0 = performance.now();
const n = await writeVectorsJsonl(values.out, syntheticDocs(model, numDocs), { format, decode: (id) => `t${id}` });
process.stdout.write(`wrote ${n} docs to ${values.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
