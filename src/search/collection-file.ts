/**
 * `<dataDir>/<name>/collection.json`: the persisted CollectionConfig with its own checksum, written atomically
 * by the service when a collection is created and read back at every open.
 *
 * Layout (pretty-printed JSON): the CollectionConfig's fields, then `checksum`, the CRC32 (8 hex digits) of
 * `JSON.stringify(config)` where config is the file's object without `checksum`, in file order (the same scheme
 * as the store's MANIFEST.json). A changed value fails the checksum; broken JSON or a mangled key fails parsing
 * or the strict schema; all three are CORRUPT_INDEX naming the file. A file without `checksum` (written by hand,
 * or before the field existed) is read unverified. Callers: spladex-service.ts.
 */
import { crc32 } from 'node:zlib';
import { corruptIndex } from '../core/errors.js';
import { CollectionConfigSchema, type CollectionConfig } from '../config/index-config.js';

export const COLLECTION_FILE = 'collection.json';

function checksumOf(config: unknown): string {
  return (crc32(JSON.stringify(config)) >>> 0).toString(16).padStart(8, '0');
}

/** The file's text for `config`. */
export function toCollectionFile(config: CollectionConfig): string {
  return JSON.stringify({ ...config, checksum: checksumOf(config) }, null, 2);
}

/**
 * Verifies and parses the file's text; `name` is the file as error messages show it (`<collection>/collection.json`).
 * Throws CORRUPT_INDEX naming it when the text is not JSON, the checksum differs or the config is invalid.
 */
export function fromCollectionFile(text: string, name: string): CollectionConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw corruptIndex(name, 'not valid JSON', err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corruptIndex(name, 'not a JSON object');
  const { checksum, ...config } = parsed as Record<string, unknown>;
  if (checksum !== undefined && checksum !== checksumOf(config)) throw corruptIndex(name, 'checksum mismatch');
  const r = CollectionConfigSchema.safeParse(config);
  if (!r.success) throw corruptIndex(name, 'not a valid collection config', r.error);
  return r.data;
}
