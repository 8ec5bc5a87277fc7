/**
 * Collection aliases in cluster mode (API.md "Aliases"), with the single process's rules and messages
 * (src/search/spladex-service.ts): an alias names one collection and is switched with one write; it never
 * shadows a collection's name, never points at another alias, and a collection with aliases pointing at it is
 * not deleted. The table is the `spladex_aliases` JetStream key-value bucket (replicated like the catalog), one
 * key per alias; every node watches it (cluster-state.ts) and resolves aliases from its copy, and the node that
 * writes updates its copy at once (read-your-writes through that node; others see it when the watch delivers,
 * milliseconds on a healthy cluster). Checks read the bucket itself, not the copy. Used by cluster-node.ts.
 */
import { invalidArgument, notFound, SpladexError } from '../core/errors.js';
import { COLLECTION_NAME_RE } from '../config/index-config.js';
import type { ClusterState } from './cluster-state.js';
import { fromBytes, toBytes } from './wire.js';

export class ClusterAliases {
  constructor(private readonly state: ClusterState) {}

  /** The collection `alias` points at, as this node has seen the table. */
  resolve(alias: string): string | undefined {
    return this.state.aliases.get(alias);
  }

  /** Aliases pointing at `collection`. */
  aliasesOf(collection: string): string[] {
    return [...this.state.aliases].filter(([, c]) => c === collection).map(([a]) => a);
  }

  list(): { aliases: { alias: string; collection: string }[] } {
    const aliases = [...this.state.aliases].map(([alias, collection]) => ({ alias, collection }));
    return { aliases: aliases.sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0)) };
  }

  /** CONFLICT when `name` is an alias (a collection may not take an alias's name, nor be deleted through one). */
  checkNotAlias(name: string): void {
    const target = this.resolve(name);
    if (target !== undefined) {
      throw new SpladexError('CONFLICT', `name: "${name}" is an alias of collection "${target}" (DELETE /v1/aliases/${name} first)`);
    }
  }

  async put(alias: string, collection: string): Promise<{ alias: string; collection: string; previous: string | null }> {
    if (!COLLECTION_NAME_RE.test(alias)) throw invalidArgument('alias', `"${alias}" must match ${COLLECTION_NAME_RE.source}`);
    if (!COLLECTION_NAME_RE.test(collection))
      throw invalidArgument('collection', `"${collection}" must match ${COLLECTION_NAME_RE.source}`);
    if (this.state.collections.has(alias)) {
      throw new SpladexError('CONFLICT', `alias: "${alias}" is the name of a collection; an alias cannot shadow it`);
    }
    if (this.resolve(collection) !== undefined) {
      throw new SpladexError('CONFLICT', `collection: "${collection}" is an alias; point an alias at a collection`);
    }
    if (!this.state.collections.has(collection)) throw notFound(`collection "${collection}" not found`);
    const before = await this.state.aliasBucket.get(alias);
    const previous = before === null ? null : fromBytes<{ collection: string }>(before).collection;
    await this.state.aliasBucket.put(alias, toBytes({ collection }));
    this.state.aliases.set(alias, collection);
    return { alias, collection, previous };
  }

  async delete(alias: string): Promise<void> {
    if ((await this.state.aliasBucket.get(alias)) === null) throw notFound(`alias "${alias}" not found`);
    await this.state.aliasBucket.delete(alias);
    this.state.aliases.delete(alias);
  }
}
