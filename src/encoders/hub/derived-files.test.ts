/**
 * The files `models pull` writes itself: the WordPiece tokenizer.json built from a vocab.txt tokenises like the
 * fixture's own tokenizer.json (every reference text, same ids), and idf.json from OpenSearch's
 * `token<TAB>weight` lines (tokens with spaces, CRLF) or from an idf.json; malformed inputs name the line.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTokenizer } from '../tokenizer.js';
import { buildBertTokenizerJson, buildIdfJson } from './derived-files.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'models');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spladex-derived-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('derived files', () => {
  it('a tokenizer.json from vocab.txt gives the same ids as the original tokenizer.json', async () => {
    const original = JSON.parse(await readFile(path.join(FIXTURE, 'bert-splade-pooled', 'tokenizer.json'), 'utf8'));
    const byId: string[] = [];
    for (const [t, id] of Object.entries(original.model.vocab as Record<string, number>)) byId[id] = t;
    await writeFile(path.join(dir, 'vocab.txt'), `${byId.join('\n')}\n`);
    const built = buildTokenizer(JSON.parse(await buildBertTokenizerJson(path.join(dir, 'vocab.txt'), true, 'v')), 'built');
    const orig = buildTokenizer(original, 'orig');
    const texts = JSON.parse(await readFile(path.join(FIXTURE, 'references.json'), 'utf8')).texts as string[];
    for (const t of texts) expect(built.encodeContent(t)).toEqual(orig.encodeContent(t));
    expect(built.prefixIds).toEqual(orig.prefixIds);
    expect(built.suffixIds).toEqual(orig.suffixIds);
    expect(Array.from(built.specialIds)).toEqual(Array.from(orig.specialIds));
    expect(built.vocabSize).toBe(orig.vocabSize);
  });

  it('a vocabulary without [CLS] is refused', async () => {
    await writeFile(path.join(dir, 'bad-vocab.txt'), '[PAD]\n[UNK]\n[SEP]\nhello\n');
    await expect(buildBertTokenizerJson(path.join(dir, 'bad-vocab.txt'), true, 'r: vocab.txt')).rejects.toThrow(
      'r: vocab.txt: the vocabulary has no [CLS] token',
    );
  });

  it('query_token_weights.txt → idf.json; bad lines are named', async () => {
    await writeFile(path.join(dir, 'w.txt'), 'hello\t6.93775\r\nnew york\t1.5\n\n##s\t0.25\n');
    expect(JSON.parse(await buildIdfJson(path.join(dir, 'w.txt'), 'w'))).toEqual({ hello: 6.93775, 'new york': 1.5, '##s': 0.25 });
    await writeFile(path.join(dir, 'bad.txt'), 'hello\t1\nworld 2\n');
    await expect(buildIdfJson(path.join(dir, 'bad.txt'), 'r: q.txt')).rejects.toThrow('r: q.txt: line 2 is not "token<TAB>weight"');
    await writeFile(path.join(dir, 'idf.json'), JSON.stringify({ a: 1, b: 'x' }));
    expect(JSON.parse(await buildIdfJson(path.join(dir, 'idf.json'), 'i'))).toEqual({ a: 1 });
    await writeFile(path.join(dir, 'empty.txt'), '\n');
    await expect(buildIdfJson(path.join(dir, 'empty.txt'), 'e')).rejects.toThrow('e: no token weights');
  });
});
