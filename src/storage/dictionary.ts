/**
 * Growable term dictionary (term string ⇄ dense id) for lexical and `encoder: "none"` collections. Ids are
 * assigned 0, 1, 2, … and never change. Terms added since the last WAL record are "pending": the next record
 * carries them (with the id of the first one), so replay rebuilds the same ids idempotently. The full dictionary
 * is written with each seal as a section file (kind "dict"): section `offsets` (u32[size+1], byte offsets into
 * `bytes`) and `bytes` (u8, UTF-8 terms back to back). Used by collection-store.ts and store-seal-merge.ts only.
 */
import type { Dictionary } from './store-types.js';
import { corruptIndex } from '../core/errors.js';
import { getSection, readSectionFile, writeSectionFileAtomic } from '../core/section-file.js';

/** In-memory dictionary with WAL bookkeeping. */
export class TermDictionary implements Dictionary {
  private readonly terms: string[] = [];
  private readonly ids = new Map<string, number>();
  /** Terms with id >= loggedSize are not yet in any WAL record. */
  private loggedSize = 0;

  get size(): number {
    return this.terms.length;
  }

  get(term: string): number | undefined {
    return this.ids.get(term);
  }

  getOrAdd(term: string): number {
    const id = this.ids.get(term);
    if (id !== undefined) return id;
    const next = this.terms.length;
    this.terms.push(term);
    this.ids.set(term, next);
    return next;
  }

  term(id: number): string | undefined {
    return this.terms[id];
  }

  /** Takes the pending terms for the next WAL record: `{firstId, terms}`; they count as logged from now on. */
  takePending(): { firstId: number; terms: string[] } {
    const firstId = this.loggedSize;
    const terms = this.terms.slice(firstId);
    this.loggedSize = this.terms.length;
    return { firstId, terms };
  }

  /**
   * Gives back terms taken from `firstId` on whose WAL record failed to be written: the next record carries them
   * again (records already written with later terms stay valid, replay skips terms it already has).
   */
  untakePending(firstId: number): void {
    this.loggedSize = Math.min(this.loggedSize, firstId);
  }

  /**
   * Applies terms from a replayed WAL record: ids below the current size must match (they were already loaded
   * from the dictionary file or an earlier record); the rest are appended. Throws CORRUPT_INDEX naming `file`
   * when the record would leave a gap or disagrees with a known id.
   */
  applyLogged(firstId: number, terms: readonly string[], file: string): void {
    if (firstId > this.terms.length) {
      throw corruptIndex(file, `dictionary record starts at term ${firstId} but only ${this.terms.length} terms are known`);
    }
    for (let i = 0; i < terms.length; i++) {
      const id = firstId + i;
      if (id < this.terms.length) {
        if (this.terms[id] !== terms[i])
          throw corruptIndex(file, `dictionary term ${id} is "${terms[i]}" but "${this.terms[id]}" is known`);
      } else {
        this.terms.push(terms[i]);
        this.ids.set(terms[i], id);
      }
    }
    this.loggedSize = this.terms.length;
  }

  /** Writes the whole dictionary atomically to `path`; returns its size in bytes. */
  async save(path: string): Promise<number> {
    const encoded = this.terms.map((t) => Buffer.from(t, 'utf8'));
    const offsets = new Uint32Array(encoded.length + 1);
    for (let i = 0; i < encoded.length; i++) offsets[i + 1] = offsets[i] + encoded[i].length;
    const bytes = new Uint8Array(Buffer.concat(encoded));
    return writeSectionFileAtomic(path, 'dict', { offsets, bytes });
  }

  /** Loads a dictionary file written by `save`; CORRUPT_INDEX naming the file on any damage. */
  static async load(path: string): Promise<TermDictionary> {
    const file = await readSectionFile(path, 'dict');
    const offsets = getSection(file, 'offsets', Uint32Array);
    const bytes = getSection(file, 'bytes', Uint8Array);
    const d = new TermDictionary();
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i + 1 < offsets.length; i++) {
      if (offsets[i + 1] < offsets[i] || offsets[i + 1] > bytes.length) throw corruptIndex(path, `bad offset for term ${i}`);
      const t = buf.toString('utf8', offsets[i], offsets[i + 1]);
      if (d.ids.has(t)) throw corruptIndex(path, `duplicate term "${t}"`);
      d.terms.push(t);
      d.ids.set(t, i);
    }
    d.loggedSize = d.terms.length;
    return d;
  }
}
