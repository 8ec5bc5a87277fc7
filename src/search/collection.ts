/**
 * One open collection: its persisted config, its store (src/storage) and its text binding (encoders). Validates
 * documents one by one through the document model (document-input.ts; so a batch indexes its good documents
 * and reports the bad ones), orchestrates a search
 * (encode → optional PRF → store search → optional dense/hybrid fusion (hybrid.ts) → hydrate → explain) and
 * renders documents.
 * Called by SpladexService only.
 */
import type { Logger } from 'pino';
import { SpladexError, invalidArgument, notFound } from '../core/errors.js';
import { EMPTY_VECTOR, type SparseVector } from '../core/sparse-vector.js';
import type { CollectionConfig } from '../config/index-config.js';
import {
  documentSchema,
  type DocumentInput,
  HybridSchema,
  MIN_CALIBRATION_QUERIES,
  type Limits,
  type OptimizeRequest,
  type SearchRequest,
  type DeleteRequest,
  type FilterInput,
  type PatchRequest,
  type ScrollRequest,
} from '../config/request-schemas.js';
import type {
  CollectionStore,
  StoreCalibration,
  StoreDocument,
  StoredFieldSet,
  StoreHit,
  StoreSearchOptions,
  StoreSnapshot,
  StoreStats,
} from '../storage/store-types.js';
import type { TextBinding } from './text-binding.js';
import { resolveVector, toTokenMap } from './vector-input.js';
import { explainHit } from './explain.js';
import { applyPrf } from './prf.js';
import type { DensePart } from './dense-part.js';
import { searchHybrid } from './hybrid.js';
import { normaliseDocument, rawDocumentId, type DocumentRules } from './document-input.js';
import { findIllFormed, ILL_FORMED_MESSAGE, isWellFormed } from '../core/well-formed.js';
import { TimeSlicer } from '../core/time-slice.js';
import { CursorRegistry, type CollectionCursor } from './cursors.js';
import { wordMatcher } from './word-match.js';
import {
  fetchedFields,
  highlightHit,
  pageResponse,
  searchFingerprint,
  storedFieldSet,
  type SearchHit,
  type SearchResponse,
  type SearchTuning,
} from './search-page.js';
import { countDocuments, deleteDocuments, patchDocument, scrollPage, type DocumentOpsContext, type ScrollPage } from './document-ops.js';

/**
 * Store statistics as the API shows them (`tuned` always present, null when nothing was calibrated or no
 * `search.targetRecall` is set; `calibration` the whole table whether or not a target is set).
 */
export type CollectionStats = Omit<StoreStats, 'tuned'> & {
  tuned: { queryCut: number; heapFactor: number } | null;
  calibration: StoreCalibration | null;
};

export interface CollectionInfo {
  name: string;
  config: CollectionConfig;
  stats: CollectionStats;
}

export interface DocError {
  index: number;
  id?: string;
  code: string;
  message: string;
}

export type { SearchHit, SearchResponse, SearchTuning } from './search-page.js';

/**
 * What a caller above the service may fix for one search instead of the collection's own statistics (cluster
 * mode's `dfs` search, src/cluster): the query vector, already weighted with collection-wide IDF, and the
 * collection-wide avgdl bm25 documents are weighted with (memtable, and sealed in exact search).
 */
export interface SearchOverrides {
  queryVector?: SparseVector;
  avgdl?: number;
  /** A batch lane's search: its batch's searches still to take after it (StoreSearchOptions `lane`). */
  lane?: number;
}

export interface DocumentView {
  id: string;
  title?: string;
  text?: string;
  metadata?: Record<string, unknown>;
  vector?: { tokens: Record<string, number> };
}

export class Collection {
  /** The document model's rules for this collection (document-input.ts). */
  private readonly docRules: DocumentRules;
  /** Open search and scroll cursors (cursors.ts). */
  private readonly cursors: CursorRegistry<CollectionCursor>;

  constructor(
    readonly name: string,
    readonly config: CollectionConfig,
    readonly store: CollectionStore,
    readonly binding: TextBinding,
    private readonly limits: Limits,
    private readonly logger: Logger,
    /** The dense part (config `dense`), null when the collection has none. */
    readonly dense: DensePart | null = null,
  ) {
    this.docRules = { schema: documentSchema(limits), limits, metadataTypes: config.metadata };
    this.cursors = new CursorRegistry({ ttlMs: limits.cursorTtlMs, max: limits.maxCursors });
  }

  info(): CollectionInfo {
    const s = this.store.stats();
    const target = this.config.search.targetRecall;
    const tuned = target != null ? this.store.tunedFor(target) : null;
    return {
      name: this.name,
      config: this.config,
      stats: {
        ...s,
        estimatedRecall: tuned ? tuned.estimatedRecall : s.estimatedRecall,
        tuned: tuned ? { queryCut: tuned.queryCut, heapFactor: tuned.heapFactor } : null,
        calibration: this.store.calibration(),
      },
    };
  }

  /** Validates and indexes documents; valid ones are durable and visible when this resolves. */
  async upsert(raw: readonly unknown[]): Promise<{ indexed: number; errors: DocError[] }> {
    const errors: DocError[] = [];
    /** Valid documents by batch position, so a later duplicate id wins as if the batch were sent in order. */
    const ready = new Map<number, StoreDocument>();
    const textDocs: { doc: StoreDocument; text: string; index: number }[] = [];
    // Validation of 10,000 docs is seconds of CPU: yield to the event loop every few ms (time-slice.ts).
    const slicer = new TimeSlicer();
    for (let i = 0; i < raw.length; i++) {
      if (slicer.due()) await slicer.yield();
      const field = `documents[${i}]`;
      let d: DocumentInput;
      try {
        d = normaliseDocument(raw[i], field, this.docRules);
      } catch (e) {
        if (!(e instanceof SpladexError)) throw e;
        errors.push({ index: i, id: rawDocumentId(raw[i]), code: e.code, message: e.message });
        continue;
      }
      try {
        const doc: StoreDocument = { id: d.id, vector: { indices: new Uint32Array(0), values: new Float32Array(0) } };
        if (d.title !== undefined) doc.title = d.title;
        if (d.text !== undefined) doc.text = d.text;
        if (d.metadata !== undefined) doc.metadata = d.metadata;
        if (d.dense !== undefined) {
          if (this.dense !== null && !this.dense.acceptsDocumentVectors) {
            throw invalidArgument(
              `${field}.dense`,
              `dense vectors are computed by the collection's "${this.config.dense?.encoder}" dense encoder`,
            );
          }
          doc.dense = this.checkDense(d.dense, `${field}.dense`);
        }
        if (d.vector !== undefined) {
          if (!this.binding.acceptsDocumentVectors) {
            throw invalidArgument(
              `${field}.vector`,
              `collection encoder "${this.config.encoder}" computes vectors from text; use encoder "none" for pre-encoded vectors`,
            );
          }
          const r = resolveVector(d.vector, this.binding.vocab, `${field}.vector`, this.binding.kind === 'none');
          if (r.unknown.length > 0) {
            throw invalidArgument(`${field}.vector`, `unknown tokens: ${r.unknown.slice(0, 5).join(', ')}`);
          }
          doc.vector = r.vector;
          ready.set(i, doc);
        } else {
          if (!this.binding.acceptsText) {
            throw invalidArgument(`${field}.vector`, 'this collection has encoder "none": every document must carry a vector');
          }
          textDocs.push({ doc, text: joinTitleText(d.title, d.text), index: i });
        }
      } catch (e) {
        if (e instanceof SpladexError) errors.push({ index: i, id: d.id, code: e.code, message: e.message });
        else throw e;
      }
    }
    if (textDocs.length > 0) {
      const vectors = await this.binding.encodeDocuments(textDocs.map((t) => t.text));
      textDocs.forEach((t, j) => {
        t.doc.vector = vectors[j];
        ready.set(t.index, t.doc);
      });
    }
    // A later duplicate of the same id in one batch wins, as if sent in order; `indexed` counts stored docs.
    const last = new Map<string, StoreDocument>();
    for (const i of [...ready.keys()].sort((a, b) => a - b)) {
      const d = ready.get(i) as StoreDocument;
      last.delete(d.id);
      last.set(d.id, d);
    }
    if (last.size > 0) {
      // Dense vectors computed by the collection's dense encoder (an ONNX `dense` model) are stored with the docs.
      await this.dense?.prepareUpsert?.([...last.values()]);
      await this.store.upsert([...last.values()]);
      this.dense?.afterUpsert([...last.values()]);
    }
    return { indexed: last.size, errors };
  }

  private checkDense(values: number[], field: string): Float32Array {
    const dense = this.config.dense;
    if (!dense) throw invalidArgument(field, 'this collection has no dense part (declare "dense" at creation)');
    if (values.length !== dense.dim) throw invalidArgument(field, `expected ${dense.dim} values, got ${values.length}`);
    return Float32Array.from(values);
  }

  get(id: string, withVector: boolean): DocumentView {
    const d = this.store.get(id);
    if (!d) throw notFound(`document "${id}" not found in collection "${this.name}"`);
    const view: DocumentView = { id: d.id };
    if (d.title !== undefined) view.title = d.title;
    if (d.text !== undefined) view.text = d.text;
    if (d.metadata !== undefined) view.metadata = d.metadata;
    if (withVector) view.vector = { tokens: toTokenMap(d.vector, this.binding.vocab) };
    return view;
  }

  /** The document operations' view of this collection (document-ops.ts). */
  private get ops(): DocumentOpsContext {
    return {
      name: this.name,
      config: this.config,
      store: this.store,
      binding: this.binding,
      dense: this.dense,
      limits: this.limits,
      checkFilter: (f) => this.checkFilter(f),
      upsert: (raw) => this.upsert(raw),
    };
  }

  /** Live documents passing `filter` (all when absent). */
  count(filter?: FilterInput): { count: number } {
    return countDocuments(this.ops, filter);
  }

  /** Deletes by ids or by filter (document-ops.ts); durable when resolved. */
  deleteMany(req: DeleteRequest): Promise<{ deleted: number }> {
    return deleteDocuments(this.ops, req);
  }

  /** Partial update of one document (document-ops.ts); returns the stored document. */
  async patch(id: string, patch: PatchRequest): Promise<DocumentView> {
    await patchDocument(this.ops, id, patch);
    return this.get(id, false);
  }

  /** One scroll page in id order on a point in time (document-ops.ts); `stateless`: after an id, no cursor. */
  scroll(req: ScrollRequest, stateless?: { after: string | null }): ScrollPage {
    return scrollPage(this.ops, this.cursors, req, stateless);
  }

  async delete(id: string): Promise<void> {
    const n = await this.store.delete([id]);
    if (n === 0) throw notFound(`document "${id}" not found in collection "${this.name}"`);
    this.dense?.afterDelete([id]);
  }

  /**
   * Seals and merges the store, then maintains the dense part (LSA: refit). `calibrationQueries` (validated by
   * `optimizeRequestSchema`) are resolved as search resolves its query — text through the query encoder, vectors
   * through the same checks — and replace doc-derived queries in the final build's recall calibration. Throws
   * INVALID_ARGUMENT naming `calibrationQueries[i]…` for a bad item, or `calibrationQueries` when fewer than
   * MIN_CALIBRATION_QUERIES have a term known to the collection.
   */
  async optimize(req: OptimizeRequest = {}): Promise<{ segments: number; tookMs: number }> {
    const t0 = performance.now();
    const calibrationQueries = req.calibrationQueries !== undefined ? await this.calibrationVectors(req.calibrationQueries) : undefined;
    const r = await this.store.optimize({ calibrationQueries });
    if (this.dense !== null) await this.dense.optimize();
    return { segments: r.segments, tookMs: Math.round((performance.now() - t0) * 1000) / 1000 };
  }

  private async calibrationVectors(items: NonNullable<OptimizeRequest['calibrationQueries']>): Promise<SparseVector[]> {
    const out: SparseVector[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      let v: SparseVector;
      if (item.vector !== undefined) {
        v = resolveVector(item.vector, this.binding.vocab, `calibrationQueries[${i}].vector`).vector;
      } else {
        // One at a time: a burst of up to 1000 encodes would overflow the encoder pool's bounded queue (BUSY).
        v = await this.encodeQueryText(item.query ?? '', `calibrationQueries[${i}].query`);
      }
      if (v.indices.length > 0) out.push(v);
    }
    if (out.length < MIN_CALIBRATION_QUERIES) {
      throw invalidArgument(
        'calibrationQueries',
        `needs at least ${MIN_CALIBRATION_QUERIES} queries with terms known to this collection, got ${out.length}`,
      );
    }
    return out;
  }

  /**
   * Query text through the collection's query encoder; INVALID_ARGUMENT naming `field` when it takes no text or
   * is not well-formed (also checked by the request schema; here for callers of the library that skip it), or
   * has more than `limits.maxQueryTerms` distinct terms (the cap vectors have).
   */
  private encodeQueryText(text: string, field: string): Promise<SparseVector> {
    if (!this.binding.acceptsText) throw invalidArgument(field, 'this collection has encoder "none": send a vector instead of query text');
    if (!isWellFormed(text)) throw invalidArgument(field, ILL_FORMED_MESSAGE);
    return this.binding.encodeQuery(text, { maxTerms: this.limits.maxQueryTerms, field });
  }

  async search(req: SearchRequest, overrides: SearchOverrides = {}): Promise<SearchResponse> {
    const t0 = performance.now();
    if (req.searchAfter !== undefined) return this.searchAfter(req, req.searchAfter, t0);
    const warnings: string[] = [];
    // Dense query: given, or encoded from the query text by the collection's dense encoder (e.g. lsa).
    let denseQuery: Float32Array | null = req.dense !== undefined ? this.checkDense(req.dense, 'dense') : null;
    let query: SparseVector | null;
    if (overrides.queryVector !== undefined) {
      query = overrides.queryVector;
    } else if (req.vector !== undefined) {
      const r = resolveVector(req.vector, this.binding.vocab, 'vector');
      if (r.unknown.length > 0) warnings.push(`unknown tokens ignored: ${r.unknown.join(', ')}`);
      query = r.vector;
    } else if (req.query !== undefined) {
      query = await this.encodeQueryText(req.query, 'query');
      if (denseQuery === null && this.dense !== null) denseQuery = await this.dense.encodeQuery(req.query);
    } else if (denseQuery !== null) {
      query = null;
    } else {
      throw invalidArgument('query', 'one of query or vector is required');
    }
    // A dense part without its model yet (lsa before its first fit): the sparse result, with a warning; a query
    // never waits for a fit (issue 12.4).
    const densePending = this.dense?.pending ?? null;
    if (densePending !== null && (denseQuery !== null || req.hybrid !== undefined || req.query !== undefined)) {
      warnings.push(densePending);
      denseQuery = null;
    }
    if (query === null && densePending !== null) query = EMPTY_VECTOR;
    if (req.hybrid !== undefined && denseQuery === null && densePending === null) {
      throw invalidArgument('hybrid', 'needs a dense query: send "dense", or query text to a collection with a dense encoder');
    }
    const t1 = performance.now();
    const k = req.k ?? this.config.search.k;
    const offset = req.offset ?? 0;
    // A library caller skips the request schema: the window holds for every door.
    if (offset + k > this.limits.maxResultWindow) {
      throw invalidArgument(
        'offset',
        `offset + k = ${offset + k} is more than the result window of ${this.limits.maxResultWindow} (SPLADEX_MAX_RESULT_WINDOW); page deeper with searchAfter (nextCursor)`,
      );
    }
    const target = req.params?.targetRecall ?? this.config.search.targetRecall;
    // Parameters calibrated at seal time for the recall target; explicit params still win.
    const tuned = target != null ? this.store.tunedFor(target) : null;
    const shown = storedFieldSet(req.include);
    const want = fetchedFields(shown, req.highlight?.fields);
    // Options objects are built field by field, not with `{ ...base, … }`: V8 (Node 20) allocates object-spread
    // clones directly in the old generation, ~250 B of old-space garbage per search (measured; see zod-errors.ts).
    // The store collects offset + k hits; the page is the last k of them.
    const options: StoreSearchOptions = {
      k: offset + k,
      exact: req.params?.exact ?? false,
      queryCut: req.params?.queryCut ?? tuned?.queryCut ?? this.config.search.queryCut,
      heapFactor: req.params?.heapFactor ?? tuned?.heapFactor ?? this.config.search.heapFactor,
      nKnn: req.params?.nKnn ?? this.config.index.nKnn,
      filter: req.filter ?? null,
      withVectors: req.explain === true,
      // The store reads the shown (and highlighted) fields of its hits while it still holds their source and ord
      // (no id lookup).
      fields: want.title || want.text || want.metadata ? want : null,
    };
    if (overrides.avgdl !== undefined) options.avgdl = overrides.avgdl;
    if (overrides.lane !== undefined) options.lane = overrides.lane;
    if (req.filter) this.checkFilter(req.filter);
    if (req.prf && query !== null) {
      const first = await this.store.searchAsync(query, withK(options, Math.max(k, req.prf.docs), true));
      query = await applyPrf(query, first.hits, req.prf, this.binding.feedbackImportance?.());
    }
    if (query !== null && query.indices.length === 0) warnings.push('the query has no terms known to this collection');
    let result: { docsScored: number; blocksScored: number; blocksSkipped: number; exact: boolean };
    let hits: SearchHit[];
    let nextCursor: string | null = null;
    const hybrid = denseQuery !== null && this.dense !== null;
    if (denseQuery !== null && this.dense !== null) {
      const r = await searchHybrid({
        store: this.store,
        dense: this.dense,
        sparseQuery: query,
        denseQuery,
        options,
        hybrid: req.hybrid ?? HybridSchema.parse({}),
      });
      result = r;
      hits = r.hits.slice(offset).map((h) => {
        const hit = this.hydrate({ id: h.id, score: h.sparse, vector: h.vector }, req, shown, want, query ?? EMPTY_VECTOR);
        hit.score = h.score;
        if (hit.explain) {
          if (h.dense !== null) hit.explain.dense = h.dense;
          if (h.fused !== undefined) hit.explain.fused = h.fused;
        }
        return hit;
      });
      // Hybrid pages continue by offset only: the dense part has no point-in-time view.
    } else {
      const sparse = query as SparseVector;
      // Taken in the same tick as the search's own view (searchAsync reads the state before its first await), so
      // a cursor pins exactly the state this page was computed on.
      const pinned = this.store.snapshot();
      const r = await this.store.searchAsync(sparse, options);
      result = r;
      const page = offset === 0 ? r.hits : r.hits.slice(offset);
      if (page.length === k) nextCursor = this.openSearchCursor(req, sparse, options, page[page.length - 1], pinned);
      hits = this.hydrateAll(page, req, shown, want, sparse);
    }
    const t2 = performance.now();
    return pageResponse(hits, result, req, {
      nextCursor,
      warnings,
      times: [t0, t1, t2],
      totalExact: result.exact && !hybrid,
      tuned: this.tuning(req, options),
    });
  }

  /**
   * What a search with a recall target used (response `stats.tuned`), undefined without a target: the
   * queryCut/heapFactor of `options`, from the calibration unless `params` gave them.
   */
  private tuning(req: SearchRequest, options: StoreSearchOptions): SearchTuning | undefined {
    const target = req.params?.targetRecall ?? this.config.search.targetRecall;
    if (target == null) return undefined;
    const tuned = this.store.tunedFor(target);
    return {
      targetRecall: target,
      queryCut: options.queryCut,
      heapFactor: options.heapFactor,
      estimatedRecall: tuned?.estimatedRecall ?? null,
      calibrated: tuned !== null && req.params?.queryCut === undefined && req.params?.heapFactor === undefined,
    };
  }

  /** Pins the store's current view for the pages after `last` (see cursors.ts); returns the page's nextCursor. */
  private openSearchCursor(
    req: SearchRequest,
    query: SparseVector,
    options: StoreSearchOptions,
    last: StoreHit,
    view: StoreSnapshot,
  ): string {
    const id = this.cursors.open({ kind: 'search', view, query, options, firstPage: req });
    return this.cursors.sign(['s', id, last.score, last.id]);
  }

  /** The page after a `searchAfter` cursor, on the view the first page pinned (API.md "Paging"). */
  private searchAfter(req: SearchRequest, token: string, t0: number): SearchResponse {
    const field = 'searchAfter';
    const p = this.cursors.verify(token, field);
    if (p.length !== 4 || p[0] !== 's' || typeof p[1] !== 'number' || typeof p[2] !== 'number' || typeof p[3] !== 'string') {
      throw invalidArgument(field, 'not a search cursor (a documents scroll cursor goes to GET …/documents?cursor=)');
    }
    const ctx = this.cursors.use(p[1], field);
    if (ctx.kind !== 'search') throw invalidArgument(field, 'not a search cursor');
    if (searchFingerprint(ctx.firstPage) !== searchFingerprint(req)) {
      throw invalidArgument(
        field,
        'belongs to another search: send the query, vector, dense, filter, params, prf and hybrid of its first page',
      );
    }
    const k = req.k ?? this.config.search.k;
    const shown = storedFieldSet(req.include);
    const want = fetchedFields(shown, req.highlight?.fields);
    const o = ctx.options;
    const options: StoreSearchOptions = {
      k,
      exact: o.exact,
      queryCut: o.queryCut,
      heapFactor: o.heapFactor,
      nKnn: o.nKnn,
      filter: o.filter,
      withVectors: req.explain === true,
      after: { score: p[2], id: p[3] },
      fields: want,
    };
    const t1 = performance.now();
    const r = ctx.view.search(ctx.query, options);
    const last = r.hits[r.hits.length - 1];
    const nextCursor = r.hits.length === k ? this.cursors.sign(['s', p[1], last.score, last.id]) : null;
    const hits = this.hydrateAll(r.hits, req, shown, want, ctx.query);
    return pageResponse(hits, r, req, {
      nextCursor,
      warnings: [],
      times: [t0, t1, performance.now()],
      totalExact: r.exact,
      tuned: this.tuning(req, options),
    });
  }

  private checkFilter(filter: NonNullable<SearchRequest['filter']>): void {
    const groups = [
      ['must', filter.must],
      ['mustNot', filter.mustNot],
      ['should', filter.should],
    ] as const;
    for (const [g, clauses] of groups) {
      (clauses ?? []).forEach((c, i) => {
        // Own properties only: `toString`, `constructor` or `__proto__` must not read as declared fields.
        const type = Object.hasOwn(this.config.metadata, c.field) ? this.config.metadata[c.field] : undefined;
        const illFormed = findIllFormed([c.eq, c.in], '');
        if (illFormed !== null) throw invalidArgument(`filter.${g}[${i}]`, `values ${ILL_FORMED_MESSAGE}`);
        if (type === undefined) throw invalidArgument(`filter.${g}[${i}].field`, `"${c.field}" is not a declared metadata field`);
        const numeric = c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined;
        if (numeric && type !== 'number') throw invalidArgument(`filter.${g}[${i}]`, `range on keyword field "${c.field}"`);
      });
    }
  }

  /**
   * A hit with the stored fields `shown`, its explanation and its highlight fragments. Fields come with the hit
   * when it was found in a point-in-time view (`h.fields`), else from the live store. Public for cluster mode,
   * which hydrates the hits a coordinator kept on the shard that holds them (src/cluster/shard-search.ts).
   */
  hydrate(h: StoreHit, req: SearchRequest, shown: StoredFieldSet, want: StoredFieldSet, query: SparseVector): SearchHit {
    const hit: SearchHit = { id: h.id, score: h.score };
    if (want.title || want.text || want.metadata) {
      // Only the asked fields: a full `store.get` copied every hit's vector and decoded its text, ~40% of the
      // bytes a title-only search allocated (SciFact, measured with the sampling heap profiler). Hits of the store
      // search carry them already; hybrid hits found only by the dense part are looked up by id.
      const d = h.fields ?? this.store.getFields(h.id, want);
      if (d) {
        if (shown.title && d.title !== undefined) hit.title = d.title;
        if (shown.text && d.text !== undefined) hit.text = d.text;
        if (shown.metadata && d.metadata !== undefined) hit.metadata = d.metadata;
        if (req.highlight !== undefined) hit.highlight = highlightHit(d, req.highlight, wordMatcher(this.binding, query));
      }
    }
    if (req.explain === true && h.vector) hit.explain = explainHit(query, h.vector, h.score, this.binding.vocab);
    return hit;
  }

  /** `hydrate` over a page (a loop: no closure per search). */
  private hydrateAll(page: StoreHit[], req: SearchRequest, shown: StoredFieldSet, want: StoredFieldSet, query: SparseVector): SearchHit[] {
    const out: SearchHit[] = new Array(page.length);
    for (let i = 0; i < page.length; i++) out[i] = this.hydrate(page[i], req, shown, want, query);
    return out;
  }

  async close(): Promise<void> {
    this.cursors.clear();
    await this.dense?.close();
    await this.store.close();
    this.logger.debug({ collection: this.name }, 'collection closed');
  }
}

/** `options` with another k and withVectors (a copy, see the comment in `search` for why not a spread). */
function withK(o: StoreSearchOptions, k: number, withVectors: boolean): StoreSearchOptions {
  const out: StoreSearchOptions = {
    k,
    exact: o.exact,
    queryCut: o.queryCut,
    heapFactor: o.heapFactor,
    nKnn: o.nKnn,
    filter: o.filter,
    withVectors,
    fields: null,
  };
  if (o.avgdl !== undefined) out.avgdl = o.avgdl;
  if (o.lane !== undefined) out.lane = o.lane;
  return out;
}

/** The text a document is encoded from: title and text, either of which may be absent or empty. */
export function joinTitleText(title: string | undefined, text: string | undefined): string {
  if (title && text) return `${title} ${text}`;
  return title || text || '';
}
