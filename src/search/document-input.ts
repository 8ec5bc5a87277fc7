/**
 * THE document model: one normalise + validate step that every door goes through (REST JSON and NDJSON, the
 * CLI locally and over `--url`, the BEIR runner, the library entry), because they all reach `Collection.upsert`
 * and it calls `normaliseDocument` for each document. Nothing upstream renames, drops or converts fields, so the
 * doors cannot disagree. The rules (API.md "Documents"):
 * - `_id` is an alias of `id` and `content` of `text` (BEIR and Seismic files); giving both spellings is an error.
 * - A JSON integer id (a safe integer) becomes its decimal string (`7` → `"7"`); string ids are kept byte for
 *   byte (`"007"` stays `"007"`); any other id type is an error.
 * - An empty `title` or `text` is treated as absent (an empty title no longer hides the text from the encoder).
 * - Unknown fields are rejected (the strict `documentSchema`), named in the message.
 * - Per-document metadata limits (`maxMetadataKeys`, `maxMetadataBytes`) are checked first, before any per-key
 *   work, so a 500k-key or 20 MB metadata object costs a count and a length, not a parse.
 * - Every string (id, title, text, metadata keys and values) must be well-formed UTF-16 (core/well-formed.ts;
 *   token-map keys are checked by the vector schema).
 * - Metadata values of declared fields must fit the declared type: `number` fields take finite numbers (or
 *   arrays of them), `keyword` fields strings, numbers or booleans (or arrays of them; keyed by string form).
 * Errors: INVALID_ARGUMENT whose message starts with the field path, e.g. `documents[3].metadata.year: expected
 * number, got string`.
 */
import { invalidArgument } from '../core/errors.js';
import { findIllFormed, ILL_FORMED_MESSAGE } from '../core/well-formed.js';
import type { DocumentInput, Limits } from '../config/request-schemas.js';
import { safeParseWithMessages, zodToSpladexError } from '../config/zod-errors.js';
import type { z } from 'zod';

/** What a collection checks a document against. */
export interface DocumentRules {
  /** `documentSchema(limits)`, built once per collection. */
  schema: z.ZodType<DocumentInput>;
  limits: Pick<Limits, 'maxMetadataKeys' | 'maxMetadataBytes'>;
  /** Declared metadata field types (CollectionConfig.metadata). */
  metadataTypes: Readonly<Record<string, 'keyword' | 'number'>>;
}

/** The fields a document may carry, in the order they are copied (aliases resolved before). */
const FIELDS = ['id', 'title', 'text', 'vector', 'dense', 'metadata'] as const;
const ALIASES: Record<string, string> = { _id: 'id', content: 'text' };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A caller's id value as a document id: strings as they are, safe integers as their decimal string; undefined
 * for anything else (the caller reports it). Shared with the BEIR query loader so query ids follow the same rule.
 */
export function toDocumentId(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

/** The id a raw document names (`id` or `_id`), for error reports; undefined when it has none usable. */
export function rawDocumentId(raw: unknown): string | undefined {
  if (!isPlainObject(raw)) return undefined;
  return toDocumentId(raw.id ?? raw._id);
}

/**
 * Normalises and validates one caller document (any JSON value) into a `DocumentInput`. `field` names it in
 * errors (`documents[3]`). Throws INVALID_ARGUMENT naming the field (see the file header for the rules).
 */
export function normaliseDocument(raw: unknown, field: string, rules: DocumentRules): DocumentInput {
  if (!isPlainObject(raw))
    throw invalidArgument(field, `expected a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}`);
  if (raw.metadata !== undefined) checkMetadataSize(raw.metadata, `${field}.metadata`, rules.limits);
  const doc: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (key === '__proto__') throw invalidArgument(`${field}.__proto__`, 'is not a document field');
    const name = Object.hasOwn(ALIASES, key) ? ALIASES[key] : key;
    if (name !== key && raw[name] !== undefined) throw invalidArgument(`${field}.${key}`, `is an alias of "${name}": give one of them`);
    doc[name] = raw[key];
  }
  if (doc.id !== undefined) {
    const id = toDocumentId(doc.id);
    if (id === undefined) throw invalidArgument(`${field}.id`, 'must be a string or an integer');
    doc.id = id;
  }
  if (doc.title === '') delete doc.title;
  if (doc.text === '') delete doc.text;
  for (const f of ['id', 'title', 'text', 'metadata'] as const) {
    const bad = findIllFormed(doc[f], `${field}.${f}`);
    if (bad !== null) throw invalidArgument(bad, ILL_FORMED_MESSAGE);
  }
  // Known fields first, in a fixed order, then the unknown ones (for the strict schema to name).
  const ordered: Record<string, unknown> = {};
  for (const f of FIELDS) if (doc[f] !== undefined) ordered[f] = doc[f];
  for (const k of Object.keys(doc)) if (!(k in ordered) && !(FIELDS as readonly string[]).includes(k)) ordered[k] = doc[k];
  const parsed = safeParseWithMessages(rules.schema, ordered);
  if (!parsed.success) throw zodToSpladexError(parsed.error, field);
  if (parsed.data.metadata !== undefined) checkMetadataTypes(parsed.data.metadata, `${field}.metadata`, rules.metadataTypes);
  return parsed.data;
}

/**
 * Key count, then an upper bound on size (UTF-8 bytes of keys and strings, 8 per number, 1 per boolean, arrays
 * element by element), stopping as soon as a limit is passed: the work is bounded by the limits, not the input.
 * A UTF-16 length above the byte limit is already over it (UTF-8 takes at least one byte per code unit).
 */
function checkMetadataSize(m: unknown, field: string, limits: DocumentRules['limits']): void {
  if (!isPlainObject(m)) return; // the schema reports the type
  let keys = 0;
  for (const k in m) {
    if (Object.hasOwn(m, k) && ++keys > limits.maxMetadataKeys) {
      throw invalidArgument(field, `at most ${limits.maxMetadataKeys} keys per document (SPLADEX_MAX_METADATA_KEYS)`);
    }
  }
  const max = limits.maxMetadataBytes;
  const tooBig = () => invalidArgument(field, `at most ${max} bytes per document (SPLADEX_MAX_METADATA_BYTES)`);
  let bytes = 0;
  const add = (v: unknown): void => {
    if (typeof v === 'string') bytes += v.length > max ? max + 1 : Buffer.byteLength(v, 'utf8');
    else if (typeof v === 'boolean') bytes += 1;
    else bytes += 8;
    if (bytes > max) throw tooBig();
  };
  for (const k of Object.keys(m)) {
    add(k);
    const v = m[k];
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) add(v[i]);
    else add(v);
  }
}

function valueType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Declared fields must hold values of their type (see the file header); undeclared fields are stored only. */
function checkMetadataTypes(m: Record<string, unknown>, field: string, types: DocumentRules['metadataTypes']): void {
  for (const name of Object.keys(m)) {
    if (!Object.hasOwn(types, name)) continue;
    const type = types[name];
    const v = m[name];
    const items = Array.isArray(v) ? v : [v];
    for (let i = 0; i < items.length; i++) {
      const x = items[i];
      const ok = type === 'number' ? typeof x === 'number' : typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
      if (!ok) {
        const where = Array.isArray(v) ? `${field}.${name}[${i}]` : `${field}.${name}`;
        const expected = type === 'number' ? 'number' : 'keyword (string, number or boolean)';
        throw invalidArgument(where, `expected ${expected}, got ${valueType(x)} (declared "${type}" in the collection's metadata)`);
      }
    }
  }
}
