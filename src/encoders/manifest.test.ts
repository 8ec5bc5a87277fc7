/** Unit tests of the encoder.json schema: defaults, cross-field rules and error messages. */
import { describe, expect, it } from 'vitest';
import { parseManifest, poolingOf } from './manifest.js';

const files = { model: 'model.onnx', tokenizer: 'tokenizer.json' };

describe('parseManifest', () => {
  it('fills defaults', () => {
    const m = parseManifest({ kind: 'splade', dim: 30522, files }, 'x');
    expect(m).toMatchObject({
      maxLength: 256,
      zeroSpecialTokens: true,
      minWeight: 0,
      chunking: false,
      intraOpThreads: 1,
      executionProviders: ['cpu'],
    });
    expect(poolingOf(m)).toBe('max');
    expect(poolingOf(parseManifest({ kind: 'dense', dim: 384, files }, 'x'))).toBe('mean');
  });

  it.each([
    [{ kind: 'splade', dim: 10, files: { tokenizer: 't.json' } }, /encoder "x": encoder\.json: files\.model: required for kind "splade"/],
    [{ kind: 'idf', dim: 10, files: { tokenizer: 't.json' } }, /files\.idf: required for kind "idf"/],
    [{ kind: 'dense', dim: 10, files, pooling: 'max' }, /pooling: "max" is not valid for kind "dense"/],
    [{ kind: 'splade', dim: 10, files: { ...files, model: '../../etc/passwd' } }, /files\.model: must be a relative path/],
    [{ kind: 'splade', dim: 10, files, sha256: { 'model.onnx': 'abc' } }, /sha256\.model\.onnx: must be 64 lowercase hex digits/],
    [{ kind: 'splade', dim: 10, files, outputs: { indices: 'i' } }, /outputs: indices and weights must be given together/],
    [{ kind: 'splade', dim: 10, files, typo: 1 }, /encoder\.json: \(root\)|typo/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseManifest(raw, 'x')).toThrow(message);
  });
});
