/**
 * Persisted configuration of a collection (`*Config`) and per-request search parameters (`*Params`), as zod
 * schemas. The collection config is written into the collection's manifest; an identical PUT is idempotent,
 * a different one is a CONFLICT. Defaults are the Seismic paper's (DESIGN.md §4).
 */
import { z } from 'zod';

export const COLLECTION_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Seismic build parameters, persisted per collection and used when a segment is sealed. */
export const IndexBuildConfigSchema = z
  .object({
    nPostings: z.number().int().min(1).max(1_000_000).default(4000),
    centroidFraction: z.number().gt(0).max(1).default(0.1),
    summaryEnergy: z.number().gt(0).max(1).default(0.4),
    maxFraction: z.number().min(1).max(100).default(1.5),
    nKnn: z.number().int().min(0).max(256).default(0),
    docCut: z.number().int().min(1).max(1024).default(15),
    minClusterSize: z.number().int().min(0).max(1024).default(2),
    /** Segments with fewer live docs than this are searched exactly. */
    approximateThreshold: z.number().int().min(0).default(20_000),
    seed: z.number().int().min(0).default(42),
  })
  .strict();
export type IndexBuildConfig = z.infer<typeof IndexBuildConfigSchema>;

export const SearchDefaultsSchema = z
  .object({
    k: z.number().int().min(1).max(1000).default(10),
    queryCut: z.number().int().min(1).max(1024).default(10),
    heapFactor: z.number().gt(0).max(1).default(0.9),
    targetRecall: z.number().gt(0).max(1).nullable().default(null),
  })
  .strict();
export type SearchDefaults = z.infer<typeof SearchDefaultsSchema>;

export const DenseConfigSchema = z
  .object({
    dim: z.number().int().min(1).max(8192),
    metric: z.enum(['cosine', 'dot', 'l2']).default('cosine'),
    encoder: z.string().min(1).optional(),
  })
  .strict();
export type DenseConfig = z.infer<typeof DenseConfigSchema>;

export const MetadataTypeSchema = z.enum(['keyword', 'number']);

export const CollectionConfigSchema = z
  .object({
    encoder: z.string().min(1).default('lexical'),
    queryEncoder: z.string().min(1).optional(),
    /** Vocabulary bound for `encoder: "none"` collections (required then). */
    dim: z.number().int().min(1).max(1 << 30).optional(),
    dense: DenseConfigSchema.optional(),
    index: IndexBuildConfigSchema.default(IndexBuildConfigSchema.parse({})),
    search: SearchDefaultsSchema.default(SearchDefaultsSchema.parse({})),
    metadata: z.record(z.string().min(1).max(128), MetadataTypeSchema).default({}),
  })
  .strict();
export type CollectionConfig = z.infer<typeof CollectionConfigSchema>;

/** Per-request Seismic knobs (`params` in a search body). Absent fields fall back to collection defaults. */
export interface SearchParams {
  k: number;
  queryCut: number;
  heapFactor: number;
  nKnn: number;
  exact: boolean;
}
