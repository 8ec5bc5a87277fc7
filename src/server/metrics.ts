/**
 * Prometheus metrics for one app instance, on its own `Registry` (never prom-client's global one, so several apps
 * in one process — tests — do not collide). Request counters and latency histograms are labelled by route
 * *pattern* (`/v1/collections/:name/search`, or `unmatched` for 404s) to bound cardinality; search latency is
 * labelled by collection. Collection gauges are read from `service.metricsSnapshot()` at scrape time.
 * Process metrics (prom-client's default set: `process_resident_memory_bytes`, CPU, open fds, `nodejs_heap_*`,
 * event-loop lag, GC durations) describe the process, not an app: they are collected once per process into a
 * module-level registry (prom-client's collectors install a GC observer and an event-loop monitor that are never
 * released, so one set per app would pile up in processes that build many apps) and appended to every app's
 * exposition.
 * Engine metrics (documents indexed, WAL fsync latency, seal and merge durations) come from the service's
 * engine events (search/engine-events.ts), subscribed here and unsubscribed when the app closes; snapshot
 * durations from routes-snapshots.ts.
 * Created by app.ts; routes-search.ts calls `observeSearch`; routes-ops.ts serves `render()` at GET /metrics.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServerService, ServiceMetricsSnapshot } from './service-port.js';

/** The metrics of one app. */
export interface AppMetrics {
  readonly registry: Registry;
  /** Records one snapshot's duration (`kind`: `create` or `restore`). */
  observeSnapshot(kind: 'create' | 'restore', seconds: number): void;
  /** Stops the engine subscription (app close). */
  stop(): void;
  /** Records one search request's latency (`kind`: `single` or `batch`). */
  observeSearch(collection: string, kind: 'single' | 'batch', seconds: number): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Request counter and latency histogram, updated by `registerRequestMetrics`. */
  readonly requests: Counter<'method' | 'route' | 'status_code'>;
  readonly latency: Histogram<'method' | 'route' | 'status_code'>;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seals, merges and snapshots take from milliseconds (a few docs) to minutes (millions). */
const SLOW_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

let processRegistry: Registry | null = null;

/** The process-wide registry of prom-client's default metrics, created (and its collectors started) once. */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Creates the registry and the metric families; gauges pull from `service` on every scrape. */
export function createAppMetrics(service: ServerService): AppMetrics {
  const registry = new Registry();
  const proc = processMetrics();
  const requests = new Counter({
    name: 'spladex_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'spladex_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const search = new Histogram({
    name: 'spladex_search_duration_seconds',
    help: 'Search latency (service time, successful requests) by collection and kind (single, batch)',
    labelNames: ['collection', 'kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const indexed = new Counter({
    name: 'spladex_documents_indexed_total',
    help: 'Documents indexed (durable upserts) by collection',
    labelNames: ['collection'] as const,
    registers: [registry],
  });
  const walSync = new Histogram({
    name: 'spladex_wal_fsync_duration_seconds',
    help: 'Write-ahead log group commits (write + fdatasync) by collection',
    labelNames: ['collection'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const seal = new Histogram({
    name: 'spladex_seal_duration_seconds',
    help: 'Memtable seals (segment build, swap, manifest) by collection',
    labelNames: ['collection'] as const,
    buckets: SLOW_BUCKETS,
    registers: [registry],
  });
  const merge = new Histogram({
    name: 'spladex_merge_duration_seconds',
    help: 'Segment merges (background and optimize) by collection',
    labelNames: ['collection'] as const,
    buckets: SLOW_BUCKETS,
    registers: [registry],
  });
  const snapshot = new Histogram({
    name: 'spladex_snapshot_duration_seconds',
    help: 'Snapshots made (create) and restored (restore), successful ones',
    labelNames: ['kind'] as const,
    buckets: SLOW_BUCKETS,
    registers: [registry],
  });
  const stop = service.addObserver((e) => {
    if (e.kind === 'indexed') indexed.inc({ collection: e.collection }, e.documents);
    else if (e.kind === 'walSync') walSync.observe({ collection: e.collection }, e.seconds);
    else if (e.kind === 'seal') seal.observe({ collection: e.collection }, e.seconds);
    else merge.observe({ collection: e.collection }, e.seconds);
  });
  // Each gauge asks the service for a fresh snapshot: it is a cheap in-memory read, and separate reads keep each
  // gauge correct when read on its own (registry.getSingleMetric(...).get()).
  type CollectionNumbers = { documents: number; memtableDocuments: number; segments: number };
  const perCollection = (name: string, help: string, pick: (c: CollectionNumbers) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['collection'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of service.metricsSnapshot().collections) this.set({ collection: c.name }, pick(c));
      },
    });
  perCollection('spladex_collection_documents', 'Live documents per collection', (c) => c.documents);
  perCollection('spladex_memtable_documents', 'Documents in the in-memory memtable per collection', (c) => c.memtableDocuments);
  perCollection('spladex_segments', 'Sealed segments per collection', (c) => c.segments);
  // Cluster mode: one series per shard replica hosted by this node (absent on a single process).
  const perReplica = (name: string, help: string, pick: (r: ReplicaNumbers) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['collection', 'shard'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const r of service.metricsSnapshot().replicas ?? []) {
          const v = pick(r);
          if (v !== null) this.set({ collection: r.collection, shard: String(r.shard) }, v);
        }
      },
    });
  type ReplicaNumbers = NonNullable<ServiceMetricsSnapshot['replicas']>[number];
  perReplica('spladex_replica_applied_seq', 'Last stream sequence a hosted shard replica applied (cluster mode)', (r) => r.applied);
  perReplica('spladex_replica_lag_seq', 'Stream sequences a hosted shard replica is behind its shard subject (cluster mode)', (r) => r.lag);
  perReplica(
    'spladex_replica_lag_seconds',
    "How much older the newest write a hosted shard replica applied is than its shard subject's newest (cluster mode)",
    (r) => (r.lagMs === null ? null : r.lagMs / 1000),
  );
  new Gauge({
    name: 'spladex_encoder_queue_depth',
    help: 'Encode jobs waiting for an encoder worker',
    registers: [registry],
    collect() {
      this.set(service.metricsSnapshot().encoderQueueDepth);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    observeSnapshot(kind, seconds) {
      snapshot.observe({ kind }, seconds);
    },
    stop,
    observeSearch(collection, kind, seconds) {
      search.observe({ collection, kind }, seconds);
    },
    render: async () => `${await registry.metrics()}\n${await proc.metrics()}`,
    requests,
    latency,
  };
}

/** Adds the onResponse hook that counts and times every request (including 404s and auth failures). */
export function registerRequestMetrics(app: FastifyInstance, metrics: AppMetrics): void {
  const { requests, latency } = metrics;
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
}
