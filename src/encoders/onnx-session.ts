/**
 * The one file that imports `onnxruntime-node`. Wraps an InferenceSession behind a small interface: input and
 * output names with element type and rank (from the model's metadata), and `run` over integer feeds.
 *
 * `run()` keeps its thread busy for the whole inference, so it is called from the encode worker
 * (src/encoders/encode-worker.ts), never on the server's main thread; benchmarks also call it directly to measure
 * the pool's overhead. Integer inputs are converted to the element type the model declares (int64 or int32).
 */
import * as ort from 'onnxruntime-node';
import { SpladexError } from '../core/errors.js';

/** Name, element type (`int64`, `float32`, …) and rank (-1 when the model does not declare a shape). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly type: string;
  readonly rank: number;
  /** Declared dims: numbers for fixed sizes, strings for symbolic ones. */
  readonly dims: readonly (number | string)[];
}

/** An integer feed: row-major values and dims. */
export interface IntFeed {
  readonly data: Int32Array;
  readonly dims: readonly number[];
}

/** A fetched output. */
export interface OutputTensor {
  readonly type: string;
  readonly dims: readonly number[];
  /** float32 outputs as Float32Array; integer outputs as Float64Array (exact for ids < 2^53). */
  readonly data: Float32Array | Float64Array;
}

/** An open model: its declared inputs/outputs, `run` (element types converted as the model declares), `close`. */
export interface OnnxModel {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  run(feeds: Record<string, IntFeed>, outputNames: readonly string[]): Promise<Record<string, OutputTensor>>;
  close(): Promise<void>;
}

/** Session settings, taken from the encoder manifest. */
export interface OnnxSessionOptions {
  intraOpThreads: number;
  interOpThreads: number;
  executionProviders: readonly string[];
}

function infoOf(m: ort.InferenceSession.ValueMetadata): OnnxValueInfo {
  if (!m.isTensor) return { name: m.name, type: 'non-tensor', rank: -1, dims: [] };
  const shape = m.shape as readonly (number | string)[];
  return { name: m.name, type: m.type, rank: shape.length === 0 ? -1 : shape.length, dims: shape };
}

/**
 * Opens `file` with onnxruntime-node. Throws INVALID_ARGUMENT prefixed with `label` when the file cannot be loaded.
 */
export async function openOnnxModel(file: string, opts: OnnxSessionOptions, label: string): Promise<OnnxModel> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: opts.intraOpThreads,
      interOpNumThreads: opts.interOpThreads,
      executionProviders: [...opts.executionProviders],
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new SpladexError('INVALID_ARGUMENT', `${label}: cannot load ONNX model (${(e as Error).message})`, { cause: e });
  }
  const inputs = session.inputMetadata.map(infoOf);
  const outputs = session.outputMetadata.map(infoOf);
  const inputType = new Map(inputs.map((i) => [i.name, i.type]));

  return {
    inputs,
    outputs,
    async run(feeds, outputNames) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) {
        const t = inputType.get(name);
        if (t === 'int32') {
          ortFeeds[name] = new ort.Tensor('int32', f.data, f.dims);
        } else {
          const b = new BigInt64Array(f.data.length);
          for (let i = 0; i < b.length; i++) b[i] = BigInt(f.data[i]);
          ortFeeds[name] = new ort.Tensor('int64', b, f.dims);
        }
      }
      const res = await session.run(ortFeeds, [...outputNames]);
      const out: Record<string, OutputTensor> = {};
      for (const name of outputNames) {
        const t = res[name] as ort.Tensor;
        const dims = t.dims;
        if (t.type === 'float32') {
          out[name] = { type: t.type, dims, data: t.data as Float32Array };
        } else if (t.type === 'int64') {
          const src = t.data as BigInt64Array;
          const d = new Float64Array(src.length);
          for (let i = 0; i < d.length; i++) d[i] = Number(src[i]);
          out[name] = { type: t.type, dims, data: d };
        } else if (t.type === 'int32') {
          out[name] = { type: t.type, dims, data: Float64Array.from(t.data as Int32Array) };
        } else {
          throw new SpladexError('INVALID_ARGUMENT', `output "${name}" has unsupported element type ${t.type}`);
        }
      }
      return out;
    },
    async close() {
      await session.release();
    },
  };
}
