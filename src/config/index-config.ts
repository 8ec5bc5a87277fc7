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
    nPostings: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(4000)
      .meta({ description: 'postings kept per term list after pruning (Seismic λ); 1–1,000,000, default 4000' }),
    centroidFraction: z
      .number()
      .gt(0)
      .max(1)
      .default(0.1)
      .meta({ description: 'blocks per term list as a fraction of its postings (Seismic β); (0, 1], default 0.1' }),
    summaryEnergy: z
      .number()
      .gt(0)
      .max(1)
      .default(0.4)
      .meta({ description: "fraction of a block summary's L1 mass kept (Seismic α); (0, 1], default 0.4" }),
    maxFraction: z
      .number()
      .min(1)
      .max(100)
      .default(1.5)
      .meta({ description: 'cap of one term list at maxFraction × nPostings entries; 1–100, default 1.5' }),
    nKnn: z
      .number()
      .int()
      .min(0)
      .max(256)
      .default(0)
      .meta({ description: 'neighbours per document in the kNN graph built at seal time (0 = no graph); 0–256, default 0' }),
    docCut: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(15)
      .meta({ description: 'top terms of a document used to assign it to a block; 1–1,024, default 15' }),
    minClusterSize: z
      .number()
      .int()
      .min(0)
      .max(1024)
      .default(2)
      .meta({ description: 'blocks of at most this many documents are dissolved into others; 0–1,024, default 2' }),
    /** Segments with fewer live docs than this are searched exactly. */
    approximateThreshold: z
      .number()
      .int()
      .min(0)
      .default(20_000)
      .meta({ description: 'segments with fewer live documents are searched exactly; ≥ 0, default 20000' }),
    seed: z
      .number()
      .int()
      .min(0)
      .default(42)
      .meta({ description: 'random seed of the build (block centroids), so builds are reproducible; ≥ 0, default 42' }),
    /** Segments optimize writes: documents split by fnv1a32(id) mod partitions, as a cluster splits them into shards. */
    partitions: z.number().int().min(1).max(256).default(1).meta({
      description:
        'segments optimize leaves: documents split by fnv1a32(id) mod partitions, as cluster mode splits shards, so approximate search equals a cluster of that many shards; 1–256, default 1',
    }),
  })
  .strict();
export type IndexBuildConfig = z.infer<typeof IndexBuildConfigSchema>;

export const SearchDefaultsSchema = z
  .object({
    k: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .meta({ description: 'hits per search when a request gives no k; 1–1,000, default 10' }),
    queryCut: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(10)
      .meta({ description: 'largest query terms searched (the rest are dropped); 1–1,024, default 10' }),
    heapFactor: z
      .number()
      .gt(0)
      .max(1)
      .default(0.9)
      .meta({ description: 'a block is scored when its summary bound exceeds heapFactor × the current k-th score; (0, 1], default 0.9' }),
    targetRecall: z.number().gt(0).max(1).nullable().default(null).meta({
      description: 'recall@k to aim for with calibrated queryCut/heapFactor (set by optimize); (0, 1] or null = off, default null',
    }),
  })
  .strict();
export type SearchDefaults = z.infer<typeof SearchDefaultsSchema>;

export const DenseConfigSchema = z
  .object({
    dim: z
      .number()
      .int()
      .min(1)
      .max(8192)
      .meta({ description: 'dense vector dimension (the LSA rank for encoder "lsa", at most 512); 1–8,192' }),
    metric: z.enum(['cosine', 'dot', 'l2']).default('cosine').meta({ description: 'dense similarity; default cosine' }),
    encoder: z.string().min(1).optional().meta({
      description:
        'dense encoder that encodes text: "lsa", or an encoder directory of kind dense (ONNX); absent = documents and queries carry `dense` vectors',
    }),
  })
  .strict();
export type DenseConfig = z.infer<typeof DenseConfigSchema>;

export const MetadataTypeSchema = z.enum(['keyword', 'number']);

/** Cluster mode's placement of a collection (docs/CLUSTER.md); refused by a single process. */
export const ClusterConfigSchema = z
  .object({
    shards: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(1)
      .meta({ description: 'shards: a document goes to shard fnv1a32(id) mod shards; 1–256, default 1' }),
    replicas: z.number().int().min(1).max(16).default(1).meta({ description: 'replicas per shard, on distinct nodes; 1–16, default 1' }),
    stats: z.enum(['dfs', 'shard']).default('dfs').meta({
      description:
        'lexical scoring statistics: dfs gathers document frequencies from every shard first (equals one process), shard uses each shard’s own',
    }),
  })
  .strict();
export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;

export const CollectionConfigSchema = z
  .object({
    encoder: z
      .string()
      .min(1)
      .default('lexical')
      .meta({ description: 'document encoder id ("lexical", "none" for vectors only, or a model); default lexical' }),
    queryEncoder: z.string().min(1).optional().meta({ description: 'query encoder id; default: the same as encoder' }),
    /** Vocabulary bound for `encoder: "none"` collections (required then). */
    dim: z
      .number()
      .int()
      .min(1)
      .max(1 << 30)
      .optional()
      .meta({ description: 'term-id bound (vocabulary size) of an encoder "none" collection, required then; 1–2^30' }),
    dense: DenseConfigSchema.optional().meta({ description: 'dense part for hybrid search; absent = sparse only' }),
    index: IndexBuildConfigSchema.default(IndexBuildConfigSchema.parse({})).meta({
      description: 'Seismic build parameters, used when a segment is sealed (defaults shown per field)',
    }),
    search: SearchDefaultsSchema.default(SearchDefaultsSchema.parse({})).meta({
      description: 'search defaults for requests that leave a field out',
    }),
    metadata: z.record(z.string().min(1).max(128), MetadataTypeSchema).default({}).meta({
      description: 'filterable metadata fields: name (1–128 chars) → "keyword" or "number"; undeclared fields are stored, not filterable',
    }),
    cluster: ClusterConfigSchema.optional().meta({
      description: 'cluster mode only (SPLADEX_NATS_URL): shards, replicas and lexical statistics',
    }),
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
