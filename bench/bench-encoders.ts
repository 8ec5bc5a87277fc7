/**
 * Encoder throughput benchmark (not part of `npm test`): docs/s of a BERT-base-shaped SPLADE model at 128 and 256
 * tokens, fp32 and int8, pooling in the graph vs in TS, 1 and 2 intra-op threads (one worker) and 2 workers × 1;
 * query-encoding p50; and the worker pool's overhead per document against the same pipeline on the main thread.
 *
 * Models come from scripts/make-fixtures.py --bertbase (weights-stripped graphs + layouts, unpacked under
 * MODELS_DIR/bertbase); random weights are materialised once into MODELS_DIR/bert-base-VARIANT/ (1.3 GB in all, never in git).
 *
 *   npx tsx bench/bench-encoders.ts [--models-dir /work/models-tmp] [--docs 8] [--queries 30] [--only int8-pooled]
 */
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { writeRandomWeights } from './bench-weights.js';
import type { SparseEncoder } from '../src/encoders/encoder.js';
import { loadManifest } from '../src/encoders/manifest.js';
import { openPipeline } from '../src/encoders/pipeline.js';
import { poolLogitsInto } from '../src/encoders/pooling.js';
import { openEncoder } from '../src/encoders/registry.js';

const { values: args } = parseArgs({
  options: {
    'models-dir': { type: 'string', default: '/work/models-tmp' },
    docs: { type: 'string', default: '8' },
    queries: { type: 'string', default: '30' },
    only: { type: 'string' },
    'overhead-rounds': { type: 'string', default: '5' },
  },
});
const modelsDir = args['models-dir'] as string;
const nDocs = Number(args.docs);
const nQueries = Number(args.queries);
const logger = pino({ level: 'warn' });

const VARIANTS = ['int8-pooled', 'int8-logits', 'fp32-pooled', 'fp32-logits'].filter((v) => !args.only || args.only.split(',').includes(v));

/** Creates MODELS_DIR/bert-base-VARIANT/{model.onnx, weights.bin, tokenizer.json, encoder.json}. */
async function prepare(variant: string): Promise<string> {
  const [prec, out] = variant.split('-');
  const dir = path.join(modelsDir, `bert-base-${variant}`);
  await mkdir(dir, { recursive: true });
  const src = path.join(modelsDir, 'bertbase');
  await copyFile(path.join(src, `${out}-${prec}.onnx`), path.join(dir, 'model.onnx'));
  await copyFile(path.join(src, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const weights = path.join(dir, 'weights.bin');
  if ((await stat(weights).catch(() => undefined)) === undefined) {
    const t0 = performance.now();
    const bytes = await writeRandomWeights(path.join(src, `${out}-${prec}.layout.json`), weights);
    process.stderr.write(
      `materialised ${variant}: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
  return dir;
}

async function writeManifest(dir: string, maxLength: number, intraOpThreads: number): Promise<void> {
  const manifest = { kind: 'splade', dim: 30522, maxLength, files: { model: 'model.onnx', tokenizer: 'tokenizer.json' }, intraOpThreads };
  await writeFile(path.join(dir, 'encoder.json'), JSON.stringify(manifest, null, 2));
}

/** Texts of exactly `tokens` tokens with [CLS]/[SEP] (the synthetic vocabulary has single-token words tok0…). */
function docs(n: number, tokens: number, seed = 7): string[] {
  let s = seed;
  const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, () => Array.from({ length: tokens - 2 }, () => `tok${next() % 29000}`).join(' '));
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.floor(a.length / 2)];
}

interface Row {
  variant: string;
  tokens: number;
  config: string;
  docsPerSec: number;
  msPerDoc: number;
  cpuMsPerDoc: number;
}

/** docs/s (wall) and process CPU ms per doc (all threads; robust to other load on a shared machine). */
async function throughput(
  encodersDir: string,
  name: string,
  texts: string[],
  threads: number,
): Promise<{ docsPerSec: number; cpuMsPerDoc: number }> {
  const enc = (await openEncoder(encodersDir, name, { logger, threads, queueSize: 64 })) as SparseEncoder;
  try {
    await enc.encode(texts.slice(0, Math.min(2, texts.length)), 'document'); // warm-up
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await enc.encode(texts, 'document');
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    return { docsPerSec: texts.length / wallS, cpuMsPerDoc: (cpu.user + cpu.system) / 1000 / texts.length };
  } finally {
    await enc.close();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const queryP50: Record<string, number> = {};
  for (const variant of VARIANTS) {
    const dir = await prepare(variant);
    const encodersDir = path.dirname(dir);
    const name = path.basename(dir);
    for (const tokens of [128, 256]) {
      const texts = docs(nDocs, tokens);
      const configs: [string, number, number][] = [
        ['1 worker x 1 thread', 1, 1],
        ['1 worker x 2 threads', 1, 2],
      ];
      if (variant === 'int8-pooled') configs.push(['2 workers x 1 thread', 2, 1]);
      for (const [config, workers, intra] of configs) {
        await writeManifest(dir, 256, intra);
        const { docsPerSec, cpuMsPerDoc } = await throughput(encodersDir, name, texts, workers);
        rows.push({ variant, tokens, config, docsPerSec, msPerDoc: 1000 / docsPerSec, cpuMsPerDoc });
        process.stderr.write(`${variant} ${tokens} tok ${config}: ${docsPerSec.toFixed(2)} docs/s, ${cpuMsPerDoc.toFixed(0)} CPU ms/doc\n`);
      }
    }
    // query latency: one short query at a time through the pool (1 worker x 1 thread)
    await writeManifest(dir, 256, 1);
    const enc = (await openEncoder(encodersDir, name, { logger, threads: 1 })) as SparseEncoder;
    const queries = docs(nQueries, 12, 99);
    await enc.encode([queries[0]], 'query');
    const lat: number[] = [];
    for (const q of queries) {
      const t0 = performance.now();
      await enc.encode([q], 'query');
      lat.push(performance.now() - t0);
    }
    await enc.close();
    queryP50[variant] = median(lat);
    process.stderr.write(`${variant} query p50 ${queryP50[variant].toFixed(1)} ms\n`);
  }

  // Pool overhead per document: the same pipeline on this thread vs through one worker, alternating runs.
  let overhead:
    | {
        plainMsPerDoc: number;
        poolMsPerDoc: number;
        overheadPct: number;
        plainCpuMsPerDoc: number;
        poolCpuMsPerDoc: number;
        cpuOverheadPct: number;
      }
    | undefined;
  const ov = VARIANTS.includes('int8-pooled') ? 'int8-pooled' : VARIANTS[0];
  if (ov !== undefined) {
    const dir = path.join(modelsDir, `bert-base-${ov}`);
    await writeManifest(dir, 256, 1);
    const texts = docs(nDocs * 2, 128, 3);
    const manifest = await loadManifest(dir, ov);
    const plain = await openPipeline({ dir, name: ov, manifest });
    const pooled = (await openEncoder(path.dirname(dir), path.basename(dir), { logger, threads: 1 })) as SparseEncoder;
    await plain.encode(texts.slice(0, 2), 'document');
    await pooled.encode(texts.slice(0, 2), 'document');
    // Wall time is at the mercy of other processes on a shared machine; process CPU time (all threads, the worker's
    // and ONNX Runtime's included) measures the work each path does per document, which is what the pool adds to.
    const tPlain: number[] = [];
    const tPool: number[] = [];
    const cPlain: number[] = [];
    const cPool: number[] = [];
    const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
    for (let r = 0; r < Number(args['overhead-rounds']); r++) {
      let c0 = process.cpuUsage();
      let t0 = performance.now();
      await plain.encode(texts, 'document');
      tPlain.push((performance.now() - t0) / texts.length);
      cPlain.push(cpuMs(process.cpuUsage(c0)) / texts.length);
      c0 = process.cpuUsage();
      t0 = performance.now();
      await pooled.encode(texts, 'document');
      tPool.push((performance.now() - t0) / texts.length);
      cPool.push(cpuMs(process.cpuUsage(c0)) / texts.length);
    }
    await plain.close();
    await pooled.close();
    const p = median(tPlain);
    const q = median(tPool);
    overhead = {
      plainMsPerDoc: p,
      poolMsPerDoc: q,
      overheadPct: ((q - p) / p) * 100,
      plainCpuMsPerDoc: median(cPlain),
      poolCpuMsPerDoc: median(cPool),
      cpuOverheadPct: ((median(cPool) - median(cPlain)) / median(cPlain)) * 100,
    };
  }

  // The TS pooling kernel alone over one [1, S, 30522] logits tensor (what "pooling in TS" costs per document).
  const poolMs: Record<number, number> = {};
  for (const S of [128, 256]) {
    const V = 30522;
    const logits = new Float32Array(S * V);
    for (let i = 0; i < logits.length; i++) logits[i] = Math.sin(i * 12.9898) * 4 - 1;
    const acc = new Float32Array(V);
    const scratch = new Float32Array(V);
    const times: number[] = [];
    for (let r = 0; r < 9; r++) {
      acc.fill(0);
      const t0 = performance.now();
      poolLogitsInto(logits, 0, S, V, 0, S, acc, scratch);
      times.push(performance.now() - t0);
    }
    poolMs[S] = median(times);
  }

  const lines = ['| model | pooling | tokens | config | docs/s | wall ms/doc | CPU ms/doc |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const [prec, out] = r.variant.split('-');
    lines.push(
      `| BERT-base ${prec} | ${out === 'pooled' ? 'in graph' : 'in TS (logits)'} | ${r.tokens} | ${r.config} | ${r.docsPerSec.toFixed(2)} | ${r.msPerDoc.toFixed(0)} | ${r.cpuMsPerDoc.toFixed(0)} |`,
    );
  }
  lines.push('', '| model | query p50 (12 tokens, 1 worker x 1 thread) |', '|---|---|');
  for (const [v, ms] of Object.entries(queryP50)) lines.push(`| ${v} | ${ms.toFixed(1)} ms |`);
  if (overhead !== undefined) {
    lines.push(
      '',
      `pool overhead (${ov}, 128 tokens, ${nDocs * 2} docs, median of ${args['overhead-rounds']} alternating rounds): ` +
        `plain ${overhead.plainMsPerDoc.toFixed(1)} ms/doc, pool ${overhead.poolMsPerDoc.toFixed(1)} ms/doc, ` +
        `overhead ${overhead.overheadPct.toFixed(1)}% wall; CPU time plain ${overhead.plainCpuMsPerDoc.toFixed(1)} ms/doc, ` +
        `pool ${overhead.poolCpuMsPerDoc.toFixed(1)} ms/doc, overhead ${overhead.cpuOverheadPct.toFixed(1)}% CPU`,
    );
  }
  lines.push(
    '',
    `TS pooling kernel alone (one document, vocab 30522): ${poolMs[128].toFixed(1)} ms at 128 tokens, ${poolMs[256].toFixed(1)} ms at 256 tokens`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  await mkdir('bench-out', { recursive: true });
  await writeFile('bench-out/encoders.json', JSON.stringify({ rows, queryP50, overhead, poolMs, docs: nDocs }, null, 2));
}

await main();
