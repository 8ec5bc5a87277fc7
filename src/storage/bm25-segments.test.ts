/**
 * bm25 segments keep raw term frequencies in posting order (postings.bin `tf`) for exact search at the search's
 * avgdl; segments written before that section existed get the same array transposed from forward.bin's `tf` at
 * open (segment-reader.ts `segmentKernelsFromFiles`). Both must agree, or old and new segments would score apart.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore } from './collection-store.js';
import type { CollectionStore } from './store-types.js';
import { IndexBuildConfigSchema } from '../config/index-config.js';
import { readSectionFile } from '../core/section-file.js';
import { Rng } from '../core/rng.js';
import { SEGMENT_FILES, segmentKernelsFromFiles } from '../segment/segment-reader.js';
import { storeScratch } from '../../test/support/store-scratch.js';

const { stores, tmp } = storeScratch<CollectionStore>('spladex-bm25seg-');

describe('bm25 segment posting tf', () => {
  it('is written in posting order and equals the transposition an older segment gets at open', async () => {
    const dir = tmp();
    const s = await openCollectionStore({
      dir,
      config: {
        dim: 500,
        weighting: { kind: 'bm25', k1: 0.9, b: 0.4 },
        growableDictionary: false,
        build: IndexBuildConfigSchema.parse({}),
        metadataTypes: {},
        memtableMaxDocs: 1_000_000,
      },
      logger: pino({ level: 'silent' }),
      sealMode: 'inline',
    });
    stores.push(s);
    const rng = new Rng(11);
    const docs = Array.from({ length: 300 }, (_v, i) => {
      const ids = new Set<number>();
      while (ids.size < 12) ids.add(rng.int(500));
      const indices = Uint32Array.from([...ids].sort((a, b) => a - b));
      return { id: `d${i}`, vector: { indices, values: Float32Array.from(indices, () => 1 + rng.int(4)) } };
    });
    await s.upsert(docs);
    await s.optimize();
    const [seg] = readdirSync(dir).filter((n) => n.startsWith('seg-'));
    const read = (f: 'forward' | 'postings') => readSectionFile(join(dir, seg, SEGMENT_FILES[f]), f);
    const files = { forward: await read('forward'), postings: await read('postings'), seismic: null, metadata: null };
    const stored = segmentKernelsFromFiles(files).bm25;
    expect(stored).not.toBeNull();
    // The posting order: posting p of term t is doc docs[p], whose forward entry for t holds the same tf.
    const k = segmentKernelsFromFiles(files);
    const { offsets, docs: postDocs } = k.postings;
    for (let t = 0; t < k.postings.numTerms; t++) {
      for (let p = offsets[t]; p < offsets[t + 1]; p++) {
        const d = postDocs[p];
        let at = -1;
        for (let q = k.forward.offsets[d]; q < k.forward.offsets[d + 1]; q++) if (k.forward.termIds[q] === t) at = q;
        expect(k.tf?.[at]).toBe(stored?.tf[p]);
      }
    }
    // An older segment: the same files without postings.bin's tf section.
    const sections = new Map(files.postings.sections);
    expect(sections.delete('tf')).toBe(true);
    const older = segmentKernelsFromFiles({ ...files, postings: { ...files.postings, sections } }).bm25;
    expect(older?.tf).toEqual(stored?.tf);
    expect(older?.dl).toEqual(stored?.dl);
  });
});
