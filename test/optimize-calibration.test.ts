// optimize({ calibrationQueries }): the final build's recall calibration is computed on the given sample queries
// (compared with calibrateTable run directly on the written segment), a single segment is rebuilt for it, and the
// table survives a reopen. Real files, inline seals.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore, type SealableCollectionStore } from '../src/storage/collection-store.js';
import type { StoreConfig } from '../src/storage/store-types.js';
import { IndexBuildConfigSchema } from '../src/config/index-config.js';
import { createSyntheticModel, generateDoc, generateQuery } from '../src/eval/synthetic.js';
import { readSectionFile } from '../src/core/section-file.js';
import { parseForward, SEGMENT_FILES } from '../src/segment/segment-reader.js';
import { toLocalQuery } from '../src/segment/term-remap.js';
import { seismicFromSections } from '../src/seismic/seismic-index.js';
import { calibrateTable, DEFAULT_CALIBRATION_TARGETS } from '../src/seismic/calibrate.js';
import { storeScratch } from './support/store-scratch.js';

const logger = pino({ level: 'silent' });
const { dirs, stores } = storeScratch<SealableCollectionStore>('spladex-calq-');

const DOCS = 3000;
const model = createSyntheticModel({ seed: 1 });
const config: StoreConfig = {
  dim: model.dim,
  weighting: { kind: 'none' },
  growableDictionary: false,
  build: IndexBuildConfigSchema.parse({ approximateThreshold: 500 }),
  metadataTypes: {},
  memtableMaxDocs: 10_000,
};
// Held out from anything a benchmark would measure with (queries 0..N-1).
const sampleQueries = Array.from({ length: 64 }, (_, i) => generateQuery(model, 100_000 + i));

async function open(dir: string): Promise<SealableCollectionStore> {
  const s = await openCollectionStore({ dir, config, logger, sealMode: 'inline' });
  stores.push(s);
  return s;
}

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .sort();
}

function table(s: SealableCollectionStore) {
  return DEFAULT_CALIBRATION_TARGETS.map((t) => s.tunedFor(t));
}

describe('optimize with calibration queries', () => {
  it('rebuilds the single segment with a calibration computed on the given queries, kept across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spladex-calq-'));
    dirs.push(dir);
    const s = await open(dir);
    const docs = Array.from({ length: DOCS }, (_, i) => ({ id: `d${String(i).padStart(5, '0')}`, vector: generateDoc(model, i) }));
    await s.upsert(docs);
    await s.optimize();
    const [docSeg] = segments(dir);
    const docDerived = table(s);
    expect(docDerived.every((r) => r !== null)).toBe(true);

    // Nothing else to rewrite: a plain optimize keeps the segment, one with queries rebuilds it.
    await s.optimize();
    expect(segments(dir)).toEqual([docSeg]);
    const r = await s.optimize({ calibrationQueries: sampleQueries });
    expect(r.segments).toBe(1);
    const [seg] = segments(dir);
    expect(seg).not.toBe(docSeg);
    const given = table(s);

    // The same calibration, run directly on the written segment's forward index and Seismic index.
    // The segment's kernels speak its local term ids (term-remap.ts), so the queries are translated first.
    const { forward, terms } = parseForward(await readSectionFile(join(dir, seg, SEGMENT_FILES.forward), 'forward'));
    const index = seismicFromSections(
      Object.fromEntries((await readSectionFile(join(dir, seg, SEGMENT_FILES.seismic), 'seismic')).sections),
    );
    const expected = calibrateTable(
      forward,
      index,
      sampleQueries.map((q) => toLocalQuery(terms, q)),
      DEFAULT_CALIBRATION_TARGETS,
      10,
    );
    expect(given).toEqual(expected.map((e) => ({ queryCut: e.queryCut, heapFactor: e.heapFactor, estimatedRecall: e.estimatedRecall })));
    // Doc-derived queries are flatter than real ones, so the two tables differ.
    expect(given).not.toEqual(docDerived);

    // Persisted in seismic.bin: a reopened store reads the same table; a plain optimize leaves it alone.
    stores.splice(stores.indexOf(s), 1);
    await s.close();
    const again = await open(dir);
    expect(table(again)).toEqual(given);
    await again.optimize();
    expect(segments(dir)).toEqual([seg]);
    expect(table(again)).toEqual(given);
  }, 120_000);
});
