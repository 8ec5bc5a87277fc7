/**
 * Seal, merge and persist of the collection store (collection-store.ts, whose header states the invariants these
 * keep): a seal freezes the memtable at a WAL rotation and builds it into a segment in a worker; a merge rewrites
 * segments into one (dropping deleted docs, rebaking bm25 with the avgdl of the merge) or, at optimize with
 * `index.partitions` P > 1, into P segments split by id hash; persist writes delete files, the dictionary and the
 * manifest, then drops WAL generations and files no manifest names. Every swap of the segment list happens in one
 * synchronous block, so searches always see a consistent state. Each function runs inside the store's promise
 * chain (one seal or merge at a time); the store keeps scheduling, open, writes, reads and close.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SparseVector } from '../core/sparse-vector.js';
import type { StoreConfig, StoreObserver } from './store-types.js';
import { SpladexError } from '../core/errors.js';
import { partitionOf } from '../core/id-hash.js';
import { Memtable } from '../segment/memtable.js';
import type { TermDictionary } from './dictionary.js';
import type { WalWriter } from './wal.js';
import { saveManifest, type Manifest } from './manifest.js';
import { writeSectionFileAtomic } from '../core/section-file.js';
import { runJob, type SealMode } from '../segment/seal-runner.js';
import { memtableColumnar } from '../segment/memtable-snapshot.js';
import { markDeleted, openLiveSegment, recountLive, type LiveSegment } from '../segment/live-segment.js';
import type { SearchPool } from '../segment/search-pool.js';

/** The store's state these functions read and swap (SegmentedStore in collection-store.ts). */
export interface StoreInternals {
  readonly dir: string;
  readonly config: StoreConfig;
  readonly logger: Logger;
  readonly sealMode: SealMode;
  readonly deferApproximate: boolean;
  readonly observer: StoreObserver;
  readonly searchPool: SearchPool | null;
  readonly dictionary: TermDictionary | null;
  memtable: Memtable;
  frozen: Memtable | null;
  /** WAL generation that starts right after the frozen memtable's records. */
  frozenNextGen: number;
  segments: LiveSegment[];
  manifest: Manifest;
  readonly wal: WalWriter;
  persistedDictSize: number;
  /** The collection's current average document length (bm25). */
  avgdl(): number;
  maybeScheduleSeal(): void;
  maybeScheduleMerge(): void;
  removeUnreferenced(): Promise<void>;
}

export function segName(id: number): string {
  return `seg-${String(id).padStart(8, '0')}`;
}

/**
 * Seals the memtable (if it holds anything) and persists. Runs inside the chain. When an earlier attempt failed
 * after freezing (e.g. disk full), its frozen memtable is still searchable and is sealed first, without a
 * second rotation (its records are in WAL generations below `frozenNextGen`, which the manifest still covers).
 * `approximate: false` skips the approximate index (optimize, when its merge rewrites the segment anyway).
 */
export async function sealNow(st: StoreInternals, approximate = true): Promise<void> {
  if (st.frozen === null) {
    if (st.memtable.slots === 0) return;
    const newGen = st.wal.generation + 1;
    await st.wal.rotate(newGen, () => {
      st.frozen = st.memtable;
      st.frozenNextGen = newGen;
      st.memtable = new Memtable();
    });
  }
  const frozen = st.frozen;
  const newGen = st.frozenNextGen;
  if (frozen === null) throw new SpladexError('INTERNAL', 'WAL rotation did not freeze the memtable');
  const t0 = performance.now();
  const slots = frozen.liveSlots();
  let seg: LiveSegment | null = null;
  if (slots.length > 0) {
    const id = st.manifest.nextSegmentId++;
    const dir = join(st.dir, segName(id));
    const docs = memtableColumnar(frozen, slots, st.config.denseDim ?? 0);
    await runJob(
      {
        kind: 'seal',
        dir,
        docs,
        weighting: st.config.weighting,
        avgdl: st.avgdl(),
        denseDim: st.config.denseDim ?? 0,
        build: buildConfig(st, approximate && !st.deferApproximate),
        metadataTypes: st.config.metadataTypes,
      },
      st.sealMode,
    );
    // Parked in a bulk load: the store needs only its ids until something reads it.
    seg = await openLiveSegment(st.dir, segName(id), null, { resident: !st.deferApproximate, df: null });
  }
  // Swap (synchronous): the frozen memtable's docs become the segment's, minus those deleted meanwhile.
  if (seg !== null) {
    for (const slot of slots) {
      // df was already decremented when the frozen doc was deleted; only the segment's own state changes.
      if (!frozen.isLive(slot)) markDeleted(seg, seg.ids.ordOf(frozen.idOf(slot)));
    }
    st.segments = [...st.segments, seg];
  }
  st.frozen = null;
  await persist(st, newGen);
  st.observer.seal?.((performance.now() - t0) / 1000, seg?.numDocs ?? 0);
  st.logger.info(
    { dir: st.dir, segment: seg?.name ?? null, docs: seg?.numDocs ?? 0, ms: Math.round(performance.now() - t0) },
    'memtable sealed',
  );
  // Writes that arrived during the seal may already fill the new memtable.
  st.maybeScheduleSeal();
  st.maybeScheduleMerge();
}

/**
 * Build parameters of a seal or merge; without the approximate index when a later build replaces the segment
 * (non-final builds of a bulk load, a seal that optimize's merge rewrites).
 */
function buildConfig(st: StoreInternals, approximate: boolean) {
  return approximate ? st.config.build : { ...st.config.build, approximateThreshold: Number.MAX_SAFE_INTEGER };
}

/**
 * Merges `inputs` (a subset of the live segments; all of them when `final`, i.e. optimize) into one segment,
 * dropping deleted docs and reweighting bm25; a final merge of a collection with `index.partitions` P > 1 writes
 * P segments instead, partition p holding the docs with `fnv1a32(id) mod P = p` (core/id-hash.ts: a cluster's
 * shard function), so each is the segment shard p of a P-shard cluster writes at its optimize: same docs, same id
 * order, hence the same deterministic Seismic build. `calibrationQueries` (final only) replace the doc-derived
 * sample queries of the approximate index's calibration. Runs inside the chain.
 */
export async function mergeSegments(
  st: StoreInternals,
  inputs: LiveSegment[],
  final = false,
  calibrationQueries: SparseVector[] | null = null,
): Promise<void> {
  if (inputs.length === 0) return;
  const partitions = final ? (st.config.build.partitions ?? 1) : 1;
  const partOf = partitions > 1 ? inputs.map((s) => partitionsOfOrds(s, partitions)) : null;
  if (!mergeNeeded(st, inputs, final, calibrationQueries, partOf)) return;
  const t0 = performance.now();
  const snapshot = inputs.map((s) => s.deleted.toArray());
  const outputs: LiveSegment[] = [];
  for (let p = 0; p < partitions; p++) {
    // A partition's inputs: every input with the ords of other partitions dropped as if deleted.
    const deleted = partOf === null ? snapshot : inputs.map((s, i) => excludeOthers(s, snapshot[i], partOf[i], p));
    const live = inputs.reduce((n, s, i) => n + s.numDocs - deleted[i].length, 0);
    if (live === 0) continue;
    const id = st.manifest.nextSegmentId++;
    const dir = join(st.dir, segName(id));
    await runJob(
      {
        kind: 'merge',
        dir,
        inputs: inputs.map((s, i) => ({ dir: s.dir, deleted: deleted[i] })),
        weighting: st.config.weighting,
        avgdl: st.avgdl(),
        denseDim: st.config.denseDim ?? 0,
        build: buildConfig(st, final || !st.deferApproximate),
        metadataTypes: st.config.metadataTypes,
        calibrationQueries,
      },
      st.sealMode,
    );
    outputs.push(await openLiveSegment(st.dir, segName(id), null, { resident: true, df: null }));
  }
  // Swap (synchronous). df is unchanged: the merged segments' live docs (after the carried deletes below) are
  // the inputs' live docs now, with the same term ids; deletes during the merge already decremented df.
  const carried: string[] = [];
  inputs.forEach((s, i) => {
    const before = new Set(snapshot[i]);
    for (const o of s.deleted.toArray()) if (!before.has(o)) carried.push(s.ids.idAt(o));
  });
  st.segments = st.segments.filter((s) => !inputs.includes(s));
  for (const s of inputs) st.searchPool?.forget(s);
  for (const id of carried) {
    for (const seg of outputs) {
      const ord = seg.ids.ordOf(id);
      if (ord >= 0) {
        seg.deleted.add(ord);
        break;
      }
    }
  }
  for (const seg of outputs) {
    if (seg.deleted.size > 0) {
      seg.bitset = seg.deleted.toDenseBitset(seg.numDocs);
      seg.deletesDirty = true;
    }
    recountLive(seg);
  }
  st.segments = [...st.segments, ...outputs];
  await persist(st, st.wal.generation);
  const docs = outputs.reduce((n, seg) => n + seg.liveDocs, 0);
  st.observer.merge?.((performance.now() - t0) / 1000, docs);
  st.logger.info(
    { dir: st.dir, inputs: inputs.length, outputs: outputs.length, docs, ms: Math.round(performance.now() - t0) },
    'segments merged',
  );
}

/**
 * Whether merging `inputs` changes anything. Not when nothing would be dropped and the layout is already the
 * final one: one segment (`partOf` null), or one segment per partition, each holding one partition only.
 * Except, for a final merge, when a large segment lacks its approximate index (a bulk load left it; optimize
 * builds it, whether the store is reopened as a bulk load or as a server) or optimize was given calibration
 * queries: the calibration table lives in the segment's seismic.bin, so the segment is rebuilt.
 */
function mergeNeeded(
  st: StoreInternals,
  inputs: LiveSegment[],
  final: boolean,
  calibrationQueries: SparseVector[] | null,
  partOf: Uint8Array[] | null,
): boolean {
  if (inputs.some((s) => s.deleted.size > 0)) return true;
  if (partOf === null ? inputs.length > 1 : !separatePartitions(partOf)) return true;
  const threshold = st.config.build.approximateThreshold;
  return final && inputs.some((s) => s.liveDocs >= threshold && (!s.hasApproximate || calibrationQueries !== null));
}

/**
 * Writes dirty delete files, the dictionary when it grew, and a new manifest naming `walGeneration`; then
 * removes WAL generations below it and files no manifest references. Runs inside the chain.
 */
export async function persist(st: StoreInternals, walGeneration: number): Promise<void> {
  const gen = st.manifest.nextFileGeneration;
  const writes: Promise<number>[] = [];
  const dirty: LiveSegment[] = [];
  const segs = st.segments.map((s) => {
    let file = s.deletesFile;
    if (s.deletesDirty && s.deleted.size > 0) {
      file = `del-${s.name}-${String(gen).padStart(8, '0')}.bin`;
      // Serialised now (synchronously): later deletes are in the WAL generation this manifest names.
      writes.push(writeSectionFileAtomic(join(st.dir, file), 'deletes', { roaring: s.deleted.serialize() }));
      dirty.push(s);
      s.deletesDirty = false;
    }
    return { s, file };
  });
  let dictionary = st.manifest.dictionary;
  const dictSize = st.dictionary?.size ?? 0;
  if (st.dictionary !== null && (dictSize !== st.persistedDictSize || dictionary === null)) {
    dictionary = `dict-${String(gen).padStart(8, '0')}.bin`;
    writes.push(st.dictionary.save(join(st.dir, dictionary)));
  }
  const next: Manifest = {
    ...st.manifest,
    walGeneration,
    nextFileGeneration: gen + 1,
    dictionary,
    segments: segs.map(({ s, file }) => ({ name: s.name, numDocs: s.numDocs, deletes: file })),
    config: st.config,
  };
  try {
    await Promise.all(writes);
    await saveManifest(st.dir, next);
  } catch (err) {
    for (const s of dirty) s.deletesDirty = true;
    throw err;
  }
  for (const { s, file } of segs) s.deletesFile = file;
  st.manifest = next;
  st.persistedDictSize = dictSize;
  await st.removeUnreferenced();
}

/** The partition (0 … count-1, count ≤ 256) of every ord of `s`, by its id. */
function partitionsOfOrds(s: LiveSegment, count: number): Uint8Array {
  const out = new Uint8Array(s.numDocs);
  for (let o = 0; o < s.numDocs; o++) out[o] = partitionOf(s.ids.idAt(o), count);
  return out;
}

/** `deleted` (ascending ords) plus every ord outside partition `p`, ascending: the merge input of partition p. */
function excludeOthers(s: LiveSegment, deleted: Uint32Array, partOf: Uint8Array, p: number): Uint32Array {
  const dead = new Set(deleted);
  const out: number[] = [];
  for (let o = 0; o < s.numDocs; o++) if (partOf[o] !== p || dead.has(o)) out.push(o);
  return Uint32Array.from(out);
}

/** Whether each segment holds one partition only, and no two segments the same one. */
function separatePartitions(partOf: readonly Uint8Array[]): boolean {
  const seen = new Set<number>();
  for (const parts of partOf) {
    if (parts.length === 0) continue;
    const p = parts[0];
    if (seen.has(p) || parts.some((x) => x !== p)) return false;
    seen.add(p);
  }
  return true;
}
