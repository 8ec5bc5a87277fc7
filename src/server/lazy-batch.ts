/**
 * Batch search bodies used as they are parsed (issue 14, "Every core"). A 256-search body took ~10 ms to parse and
 * validate on this 2-core machine (JSON.parse alone 3 ms), all on the event loop while the search workers had
 * nothing to do: one client sending batches back to back left both workers idle that long per batch. Here the
 * body parser (body-parsers.ts) only scans a `{"searches": [...]}` body (json-scan.ts: key counts, `__proto__`,
 * where each element lies) and hands the route a `LazySearchBatch`; the service reads search i when a lane takes
 * it (spladex-service.ts `runBatch`), and only then is element i JSON.parsed and validated with the element schema.
 * So parsing runs while the first searches are in the workers.
 *
 * Same answers, same errors, by construction:
 * - a body of any other shape (other members, an empty or too long array, a broken top level) is parsed whole
 *   and validated by the route schema, as before;
 * - a search that passes the element schema, and a batch whose summed response cost fits the budgets, are
 *   exactly what the whole-body schema accepts (it is that array of that element schema, plus the budget);
 * - when anything goes wrong (an element does not parse or validate, the budget is exceeded, or a search fails),
 *   the route asks `rejection()`: the body parsed whole and validated by the route schema, as before, and
 *   answers with that error if there is one, so a body error still wins over a search error, with the old message.
 */
import type { z } from 'zod';
import { addResponseCost, responseBudgetMessage, type Limits, type ResponseCost, type SearchRequest } from '../config/request-schemas.js';
import { type ParseJsonOptions, parseJsonChunked, scanSingleArrayMember } from './json-scan.js';
import { safeParseForFastify } from './validation.js';

/** Thrown by `at` for a search the whole-body validation would refuse; the route replaces it with `rejection()`. */
export class BatchElementRejected extends Error {
  constructor(readonly index: number) {
    super(`searches[${index}] is refused (the body's own error is reported instead)`);
    this.name = 'BatchElementRejected';
  }
}

/** The schemas a batch body is checked with: the route's whole-body schema and its element schema. */
export interface BatchSchemas {
  body: z.ZodType;
  element: z.ZodType<SearchRequest>;
  limits: Limits;
}

/** The searches of a `{"searches": [...]}` body, each parsed and validated when it is first read (see the header). */
export class LazySearchBatch {
  readonly length: number;
  private readonly cost: ResponseCost = { hits: 0, explainTerms: 0, includedHits: 0 };
  /** Per search: 1 once its cost is counted (`at` may be asked twice for one search). */
  private readonly counted: Uint8Array;

  private constructor(
    private readonly text: string,
    private readonly starts: number[],
    private readonly ends: number[],
    private readonly schemas: BatchSchemas,
    private readonly parse: ParseJsonOptions,
  ) {
    this.length = starts.length;
    this.counted = new Uint8Array(starts.length);
  }

  /**
   * A lazy batch for `text` when it is a non-empty `{"searches": [...]}` within the batch size limit; otherwise the
   * body parsed whole (parseJsonChunked), for the route schema to validate as before. Throws what the scan throws.
   */
  static async from(text: string, schemas: BatchSchemas, parse: ParseJsonOptions): Promise<LazySearchBatch | unknown> {
    const spans = await scanSingleArrayMember(text, parse, 'searches');
    if (spans === null || spans.starts.length === 0 || spans.starts.length > schemas.limits.maxBatchSearches) {
      return parseJsonChunked(text, parse);
    }
    return new LazySearchBatch(text, spans.starts, spans.ends, schemas, parse);
  }

  /** Search `i`, parsed and validated now; BatchElementRejected when the body would be refused for it. */
  at(i: number): SearchRequest {
    let value: unknown;
    try {
      value = JSON.parse(this.text.slice(this.starts[i], this.ends[i]));
    } catch {
      throw new BatchElementRejected(i);
    }
    const r = this.schemas.element.safeParse(value);
    if (!r.success) throw new BatchElementRejected(i);
    if (this.counted[i] === 0) {
      this.counted[i] = 1;
      addResponseCost(this.cost, r.data, this.schemas.limits);
      // Costs only grow: once over a budget, the whole body is over it.
      if (responseBudgetMessage(this.cost, this.schemas.limits) !== null) throw new BatchElementRejected(i);
    }
    return r.data;
  }

  /** The error the body gets when parsed whole and validated by the route schema (as without laziness); null: valid. */
  async rejection(): Promise<Error | null> {
    let value: unknown;
    try {
      value = await parseJsonChunked(this.text, this.parse);
    } catch (e) {
      return e as Error;
    }
    const r = safeParseForFastify(this.schemas.body, value, '');
    return 'error' in r ? r.error : null;
  }

  /** Every search, validated as a whole (a service without `searchBatchJson`); throws the body's error. */
  async all(): Promise<SearchRequest[]> {
    const value = await parseJsonChunked(this.text, this.parse);
    const r = safeParseForFastify(this.schemas.body, value, '');
    if ('error' in r) throw r.error;
    return (r.value as { searches: SearchRequest[] }).searches;
  }
}
