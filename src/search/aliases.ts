/**
 * Collection aliases (API.md "Aliases"): a name that stands for one collection, switched atomically
 * (`PUT /v1/aliases/{alias}`), so a client can search `products` while `products-v2` is built and then switched to.
 * The table lives in `<dataDir>/ALIASES.json`, `{"format": 1, "aliases": {"alias": "collection"}}`, replaced with
 * an atomic write (temp file, fsync, rename, fsync of the directory: atomic-file.ts), and the in-memory map is
 * swapped only after that write is durable: a crash leaves the old table or the new one, and an acknowledged
 * switch survives a restart. Changes are serialised through one promise chain. The service (spladex-service.ts)
 * enforces the namespace rules (an alias never shadows a collection name); this file only stores the table.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { corruptIndex } from '../core/errors.js';

export const ALIASES_FILE = 'ALIASES.json';

/** The alias table of one data dir. */
export class AliasTable {
  private map = new Map<string, string>();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly file: string) {}

  /** Loads `<dataDir>/ALIASES.json` (an empty table when absent); CORRUPT_INDEX naming the file when unreadable. */
  static async load(dataDir: string): Promise<AliasTable> {
    const t = new AliasTable(path.join(dataDir, ALIASES_FILE));
    let text: string;
    try {
      text = await fs.readFile(t.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return t;
      throw err;
    }
    let parsed: { format?: unknown; aliases?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw corruptIndex(t.file, 'not valid JSON');
    }
    const aliases = parsed.aliases;
    if (parsed.format !== 1 || typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) {
      throw corruptIndex(t.file, 'unexpected shape or format version');
    }
    for (const [alias, target] of Object.entries(aliases)) {
      if (typeof target !== 'string') throw corruptIndex(t.file, `alias "${alias}" does not name a collection`);
      t.map.set(alias, target);
    }
    return t;
  }

  /** The collection `alias` points to, or undefined. */
  resolve(alias: string): string | undefined {
    return this.map.get(alias);
  }

  /** Aliases pointing to `collection`, sorted. */
  aliasesOf(collection: string): string[] {
    return [...this.map]
      .filter(([, c]) => c === collection)
      .map(([a]) => a)
      .sort();
  }

  /** Every alias, sorted by name. */
  list(): { alias: string; collection: string }[] {
    return [...this.map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([alias, collection]) => ({ alias, collection }));
  }

  /**
   * Applies `change` to a copy of the table, writes it durably, then swaps it in; `change` runs inside the chain
   * (after earlier changes are durable) and may throw to refuse. Returns `change`'s result.
   */
  update<T>(change: (next: Map<string, string>) => T): Promise<T> {
    const run = this.chain.then(async () => {
      const next = new Map(this.map);
      const result = change(next);
      const aliases = Object.fromEntries([...next].sort(([a], [b]) => (a < b ? -1 : 1)));
      await writeFileAtomic(this.file, `${JSON.stringify({ format: 1, aliases }, null, 1)}\n`);
      this.map = next;
      return result;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
