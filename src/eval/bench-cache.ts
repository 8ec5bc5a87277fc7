/**
 * The `--cache DIR` of `npm run bench`: the synthetic forward index, the Seismic index and the exact top-10 of the
 * test queries, kept as section files (core/section-file.ts) between runs, so a 1M-doc run spends its minutes on
 * the sweep instead of on generating (~45 s), building (~85 s) and the exact oracle (~35 s) again. Files are keyed
 * by what determines them: docs and seed (forward index), plus queries (truth), plus the build config and
 * `SEISMIC_FORMAT_VERSION` (index). A change to the build code that keeps the format needs a fresh cache
 * directory (the key cannot see code). Callers: bench-runner.ts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { IndexBuildConfig } from '../config/index-config.js';
import { getSection, readSectionFile, writeSectionFileAtomic } from '../core/section-file.js';
import type { ForwardIndex } from '../index/forward-index.js';
import { SEISMIC_FORMAT_VERSION, seismicFromSections, seismicToSections, type SeismicIndex } from '../seismic/seismic-index.js';

/** One cache directory for one (docs, seed, queries) synthetic run. */
export class BenchCache {
  private readonly base: string;
  constructor(
    private readonly dir: string,
    docs: number,
    seed: number,
    private readonly queries: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.base = `synthetic-${docs}-s${seed}`;
  }

  private path(name: string): string {
    return join(this.dir, `${this.base}-${name}.bin`);
  }

  async loadForward(): Promise<ForwardIndex | null> {
    const p = this.path('forward');
    if (!existsSync(p)) return null;
    const f = await readSectionFile(p, 'bench-forward');
    const meta = getSection(f, 'meta', Uint32Array);
    const ids = f.sections.get('termIds');
    if (!(ids instanceof Uint16Array || ids instanceof Uint32Array)) throw new Error(`${p}: termIds missing`);
    return {
      numDocs: meta[0],
      dim: meta[1],
      offsets: getSection(f, 'offsets', Uint32Array),
      termIds: ids,
      values: getSection(f, 'values', Float32Array),
    };
  }

  async saveForward(f: ForwardIndex): Promise<void> {
    const meta = Uint32Array.of(f.numDocs, f.dim);
    await writeSectionFileAtomic(this.path('forward'), 'bench-forward', { meta, offsets: f.offsets, termIds: f.termIds, values: f.values });
  }

  private indexName(config: IndexBuildConfig): string {
    const h = createHash('sha256')
      .update(`${SEISMIC_FORMAT_VERSION} ${JSON.stringify(config)}`)
      .digest('hex')
      .slice(0, 12);
    return `index-${h}`;
  }

  async loadIndex(config: IndexBuildConfig): Promise<SeismicIndex | null> {
    const p = this.path(this.indexName(config));
    if (!existsSync(p)) return null;
    return seismicFromSections(Object.fromEntries((await readSectionFile(p, 'bench-seismic')).sections));
  }

  async saveIndex(config: IndexBuildConfig, index: SeismicIndex): Promise<void> {
    await writeSectionFileAtomic(this.path(this.indexName(config)), 'bench-seismic', seismicToSections(index));
  }

  /** The exact top-k ords of each test query, or null when not cached. */
  async loadTruth(): Promise<Int32Array[] | null> {
    const p = this.path(`truth-q${this.queries}`);
    if (!existsSync(p)) return null;
    const f = await readSectionFile(p, 'bench-truth');
    const ends = getSection(f, 'ends', Uint32Array);
    const ords = getSection(f, 'ords', Int32Array);
    const out: Int32Array[] = [];
    for (let i = 0; i < ends.length; i++) out.push(ords.slice(i === 0 ? 0 : ends[i - 1], ends[i]));
    return out;
  }

  async saveTruth(truth: readonly Int32Array[]): Promise<void> {
    const ends = new Uint32Array(truth.length);
    let n = 0;
    truth.forEach((t, i) => {
      n += t.length;
      ends[i] = n;
    });
    const ords = new Int32Array(n);
    truth.forEach((t, i) => ords.set(t, i === 0 ? 0 : ends[i - 1]));
    await writeSectionFileAtomic(this.path(`truth-q${this.queries}`), 'bench-truth', { ends, ords });
  }
}
