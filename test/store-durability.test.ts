/**
 * Store durability: corrupted segment/manifest/delete/dictionary files are reported as CORRUPT_INDEX naming the
 * file; WAL replay is idempotent (a crash between "manifest written" and "old WAL deleted" replays records whose
 * effects are already in segments); a crash mid-seal (segment dir written, manifest not) loses nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openCollectionStore } from '../src/storage/collection-store.js';
import type { CollectionStore, StoreConfig, StoreSearchOptions } from '../src/storage/store-types.js';
import { IndexBuildConfigSchema } from '../src/config/index-config.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'spladex-dur-'));
  dirs.push(d);
  return d;
}

const config: StoreConfig = {
  dim: 1 << 20,
  weighting: { kind: 'bm25', k1: 0.9, b: 0.4 },
  growableDictionary: true,
  denseDim: 2,
  build: IndexBuildConfigSchema.parse({}),
  metadataTypes: {},
  memtableMaxDocs: 20,
};
const opts: StoreSearchOptions = { k: 100, exact: true, queryCut: 10, heapFactor: 0.9, nKnn: 0 };

const open = (dir: string) => openCollectionStore({ dir, config, logger, sealMode: 'inline' });

/** Builds a collection with one segment (with deletes), a dictionary, and some WAL-only docs. */
async function populate(dir: string): Promise<CollectionStore> {
  const s = await open(dir);
  const d = s.dictionary!;
  const docs = Array.from({ length: 60 }, (_, i) => {
    const words = [`w${i % 7}`, `w${i % 11}`, `x${i}`];
    const ids = [...new Set(words.map((w) => d.getOrAdd(w)))].sort((a, b) => a - b);
    return {
      id: `doc-${String(i).padStart(3, '0')}`,
      text: `text ${i}`,
      metadata: { i },
      vector: { indices: Uint32Array.from(ids), values: Float32Array.from(ids, (t) => 1 + (t % 3)) },
      dense: Float32Array.of(i, -i),
    };
  });
  await s.upsert(docs.slice(0, 40));
  await s.delete(['doc-005']);
  await s.optimize();
  await s.delete(['doc-006']);
  await s.upsert(docs.slice(40)); // 20 docs: triggers a background seal, which persists doc-006's delete
  await s.upsert([{ ...docs[41], text: 'only in the WAL' }]);
  // Reopen so the background seal has finished (close waits for it) and bm25 weights are settled.
  await s.close();
  return open(dir);
}

function snapshot(s: CollectionStore) {
  const d = s.dictionary!;
  const q = { indices: Uint32Array.from([d.get('w1')!, d.get('w3')!].sort((a, b) => a - b)), values: Float32Array.of(1, 2) };
  return { hits: s.search(q, opts).hits, stats: s.stats().documents, doc: s.get('doc-010'), dense: s.getDense('doc-050') };
}

describe('store durability', () => {
  it('reopens to the same state (segments + delete files + dictionary + WAL replay)', async () => {
    const dir = tmp();
    const s = await populate(dir);
    const before = snapshot(s);
    await s.close();
    const s2 = await open(dir);
    expect(snapshot(s2)).toEqual(before);
    await s2.close();
  });

  it('replays WAL records idempotently (every record applied twice gives the same state)', async () => {
    const dir = tmp();
    const s = await populate(dir);
    const d = s.dictionary!;
    const t = d.getOrAdd('fresh-term');
    await s.upsert([{ id: 'doc-001', vector: { indices: Uint32Array.of(t), values: Float32Array.of(3) } }]);
    await s.delete(['doc-002', 'doc-045']);
    const before = snapshot(s);
    await s.close();
    const wal = readdirSync(dir).filter((n) => n.startsWith('wal-'));
    expect(wal.length).toBe(1);
    const bytes = readFileSync(join(dir, wal[0]));
    writeFileSync(join(dir, wal[0]), Buffer.concat([bytes, bytes.subarray(16)]));
    const s2 = await open(dir);
    expect(snapshot(s2)).toEqual(before);
    expect(s2.get('doc-001')?.vector.indices[0]).toBe(s2.dictionary!.get('fresh-term'));
    await s2.close();
  });

  it('ignores and removes WAL generations older than the manifest', async () => {
    const dir = tmp();
    const s = await populate(dir);
    const before = snapshot(s);
    await s.close();
    const m = JSON.parse(readFileSync(join(dir, 'MANIFEST.json'), 'utf8')) as { walGeneration: number };
    expect(m.walGeneration).toBeGreaterThan(1);
    const stale = join(dir, 'wal-00000001.log');
    writeFileSync(stale, 'garbage that would be corrupt if it were read');
    const s2 = await open(dir);
    expect(snapshot(s2)).toEqual(before);
    expect(readdirSync(dir).includes('wal-00000001.log')).toBe(false);
    await s2.close();
  });

  it('loses nothing when a crash leaves a built segment that no manifest lists', async () => {
    const dir = tmp();
    const s = await populate(dir);
    const before = snapshot(s);
    await s.close();
    // Simulate: crash after seg-2 was written and renamed but before the manifest: copy a segment dir under a new name.
    const seg = readdirSync(dir).find((n) => n.startsWith('seg-'))!;
    cpSync(join(dir, seg), join(dir, 'seg-00000099'), { recursive: true });
    const s2 = await open(dir);
    expect(snapshot(s2)).toEqual(before);
    expect(readdirSync(dir).includes('seg-00000099')).toBe(false);
    await s2.close();
  });

  it('reports a flipped byte in every on-disk file as CORRUPT_INDEX naming the file', async () => {
    const base = tmp();
    const s = await populate(base);
    await s.close();
    const files: string[] = [];
    for (const name of readdirSync(base)) {
      if (name.startsWith('seg-')) for (const f of readdirSync(join(base, name))) files.push(join(name, f));
      else if (/^(del-|dict-|MANIFEST)/.test(name)) files.push(name);
    }
    const seg = files.find((f) => f.startsWith('seg-'))!.split('/')[0];
    expect(files.sort()).toEqual(
      expect.arrayContaining(['MANIFEST.json', ...['forward', 'postings', 'ids', 'fields', 'dense'].map((f) => `${seg}/${f}.bin`)]),
    );
    expect(files.some((f) => f.startsWith('del-'))).toBe(true);
    expect(files.some((f) => f.startsWith('dict-'))).toBe(true);
    for (const rel of files) {
      const size = readFileSync(join(base, rel)).length;
      for (const at of [Math.floor(size / 3), size - 1]) {
        const dir = tmp();
        cpSync(base, dir, { recursive: true });
        const bytes = readFileSync(join(dir, rel));
        bytes[at] ^= 0x5a;
        writeFileSync(join(dir, rel), bytes);
        await expect(open(dir), `${rel} byte ${at}`).rejects.toMatchObject({
          code: 'CORRUPT_INDEX',
          message: expect.stringContaining(rel),
        });
      }
      // Truncation.
      const dir = tmp();
      cpSync(base, dir, { recursive: true });
      writeFileSync(join(dir, rel), readFileSync(join(dir, rel)).subarray(0, size - 5));
      await expect(open(dir), `${rel} truncated`).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining(rel) });
    }
  });

  it('reports a missing segment file as CORRUPT_INDEX naming it', async () => {
    const dir = tmp();
    const s = await populate(dir);
    await s.close();
    const seg = readdirSync(dir).find((n) => n.startsWith('seg-'))!;
    rmSync(join(dir, seg, 'ids.bin'));
    await expect(open(dir)).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining(`${seg}/ids.bin`) });
  });
});
