/**
 * Materialises random weights for a "weights-stripped" ONNX graph: scripts/make-fixtures.py exports a BERT-base-shaped
 * model, moves every large initialiser to external data (`weights.bin`) and ships only the graph plus a layout
 * (`*.layout.json`: name, dtype, offset, length, mean, std per tensor), so a 530 MB model travels as 240 KB.
 * This writes a `weights.bin` with values drawn from each tensor's recorded mean/std (normal; ints rounded and
 * clamped), which is all a throughput benchmark needs. Used by bench/bench-encoders.ts only.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';

/** One external tensor of a layout file. */
export interface LayoutTensor {
  name: string;
  dtype: 'float32' | 'int8' | 'uint8';
  offset: number;
  length: number;
  mean: number;
  std: number;
}

/** Seeded normal generator (xorshift32 + Box–Muller). */
function normals(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Writes `outFile` (the external data file) for the layout in `layoutFile`. Returns the bytes written.
 * Deterministic for a given seed.
 */
export async function writeRandomWeights(layoutFile: string, outFile: string, seed = 1): Promise<number> {
  const layout = JSON.parse(await readFile(layoutFile, 'utf8')) as { totalBytes: number; tensors: LayoutTensor[] };
  const rand = normals(seed);
  const out = createWriteStream(outFile);
  let pos = 0;
  const write = async (buf: Uint8Array): Promise<void> => {
    if (!out.write(buf)) await once(out, 'drain');
    pos += buf.length;
  };
  for (const t of [...layout.tensors].sort((a, b) => a.offset - b.offset)) {
    if (t.offset > pos) await write(new Uint8Array(t.offset - pos));
    const chunkElems = 1 << 20;
    const width = t.dtype === 'float32' ? 4 : 1;
    let left = t.length / width;
    while (left > 0) {
      const n = Math.min(left, chunkElems);
      if (t.dtype === 'float32') {
        const a = new Float32Array(n);
        for (let i = 0; i < n; i++) a[i] = t.mean + t.std * rand();
        await write(new Uint8Array(a.buffer));
      } else {
        const [lo, hi] = t.dtype === 'int8' ? [-128, 127] : [0, 255];
        const a = t.dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
        for (let i = 0; i < n; i++) a[i] = Math.min(hi, Math.max(lo, Math.round(t.mean + t.std * rand())));
        await write(new Uint8Array(a.buffer));
      }
      left -= n;
    }
  }
  if (layout.totalBytes > pos) await write(new Uint8Array(layout.totalBytes - pos));
  out.end();
  await once(out, 'finish');
  return pos;
}
