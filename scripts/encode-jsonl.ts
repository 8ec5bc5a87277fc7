/**
 * Encodes a JSONL of documents ({_id|id, title, text}) with the TS/ONNX pipeline of one encoder directory and
 * writes the lines scripts/encode-corpus.py writes ({_id, vector: {indices, values}} or {_id, dense}), so the two
 * can be compared where Node is not installed (the GPU acceptance run, scripts/gpu-acceptance.sh):
 *   npx tsx scripts/encode-jsonl.ts --encoders DIR --encoder NAME --input docs.jsonl --output ref.jsonl
 * Texts are "title text" as the collection joins them; documents are pruned as the pipeline prunes documents.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { openEncoder } from '../src/encoders/registry.js';
import { joinTitleText } from '../src/search/collection.js';

const { values } = parseArgs({
  options: { encoders: { type: 'string' }, encoder: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' } },
});
if (!values.encoders || !values.encoder || !values.input || !values.output) {
  process.stderr.write('usage: encode-jsonl.ts --encoders DIR --encoder NAME --input FILE --output FILE\n');
  process.exit(2);
}
const docs = readFileSync(values.input, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { _id?: unknown; id?: unknown; title?: string; text?: string });
const enc = await openEncoder(values.encoders, values.encoder, { logger: pino({ level: 'silent' }), threads: 0 });
try {
  const out = await enc.encode(
    docs.map((d) => joinTitleText(d.title, d.text)),
    'document',
  );
  const lines = docs.map((d, i) => {
    const v = out[i];
    const id = d._id ?? d.id;
    if (v instanceof Float32Array) return JSON.stringify({ _id: id, dense: Array.from(v) });
    return JSON.stringify({ _id: id, vector: { indices: Array.from(v.indices), values: Array.from(v.values) } });
  });
  writeFileSync(values.output, `${lines.join('\n')}\n`);
} finally {
  await enc.close();
}
