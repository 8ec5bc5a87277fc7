/**
 * zod schemas, examples and response shapes of the administration routes: aliases (routes-aliases.ts) and
 * snapshots (routes-snapshots.ts). Kept apart from route-schemas.ts so that file stays about documents and
 * search; the OpenAPI document is generated from these like from the others (test/openapi-doc.test.ts).
 */
import { z } from 'zod';
import { COLLECTION_NAME_RE } from '../config/index-config.js';
import { SNAPSHOT_ID_RE } from '../search/snapshots.js';

const d = (description: string) => ({ description });
const nameSchema = (what: string) =>
  z
    .string()
    .regex(COLLECTION_NAME_RE, `must match ${COLLECTION_NAME_RE.source}`)
    .meta(d(`${what}: 1–64 of a-z 0-9 _ -, starting with a letter or digit`));

/** `{alias}` of an alias route. */
export const aliasParamsSchema = z.object({ alias: nameSchema('alias name') }).meta(d('alias name'));

/** PUT /v1/aliases/{alias} body. */
export const putAliasBodySchema = z
  .object({ collection: nameSchema('the collection the alias points to (not another alias)') })
  .strict()
  .meta(d('the collection to point the alias at'));
export const putAliasExample = { collection: 'docs-example' };

const aliasSchema = z.object({
  alias: z.string().meta(d('alias name')),
  collection: z.string().meta(d('the collection it points to')),
});
export const putAliasResponse = aliasSchema.extend({
  previous: z.string().nullable().meta(d('the collection it pointed to before this switch, null for a new alias')),
});
export const aliasListResponse = z.object({ aliases: z.array(aliasSchema).meta(d('every alias, by name')) });

/** POST /v1/collections/{name}/restore body. */
export const restoreBodySchema = z
  .object({
    snapshot: z
      .string()
      .regex(SNAPSHOT_ID_RE, `must match ${SNAPSHOT_ID_RE.source}`)
      .meta(d('id of a snapshot of this collection (GET /v1/collections/{name}/snapshots)')),
    as: nameSchema('name of the new collection to restore into (must not exist, nor be an alias)'),
  })
  .strict()
  .meta(d('which snapshot to restore, and the new collection name'));

const snapshotSchema = z.object({
  id: z.string().meta(d('snapshot id (sortable by time)')),
  collection: z.string().meta(d('the collection it was taken of')),
  createdAt: z.string().meta(d('ISO-8601 time of the snapshot point')),
  documents: z.number().int().meta(d('live documents at the snapshot point')),
  walGeneration: z
    .number()
    .int()
    .meta(d('the snapshot point: every write acknowledged before the WAL switched to this generation is in it, none after')),
  files: z.number().int().meta(d('files in the snapshot, each with a sha256 in its SNAPSHOT.json')),
  bytes: z.number().int().meta(d('bytes of those files')),
  tookMs: z.number().optional().meta(d('wall time of making it, milliseconds (POST only)')),
});
export const snapshotResponse = snapshotSchema.meta(d('the snapshot'));
export const snapshotListResponse = z.object({
  snapshots: z.array(snapshotSchema).meta(d('complete snapshots of the collection, oldest first')),
});
export const restoreResponse = z.looseObject({
  name: z.string().meta(d('the restored collection')),
  snapshot: z.string().meta(d('the snapshot it was restored from')),
  documents: z.number().int().meta(d('live documents of the restored collection')),
  verifiedFiles: z.number().int().meta(d('files whose sha256 was verified before use')),
});
