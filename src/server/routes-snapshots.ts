/**
 * Snapshot routes (API.md "Snapshots"): `POST /v1/collections/{name}/snapshots` makes a consistent snapshot while
 * the collection serves (201 with its id and snapshot point), `GET` lists the complete ones, and
 * `POST /v1/collections/{name}/restore` `{"snapshot", "as"}` restores one into a new collection after verifying
 * every file's sha256 (201; a damaged snapshot answers 500 CORRUPT_INDEX naming the file and creates nothing).
 * `{name}` may be an alias (its target's snapshots). Snapshot durations feed /metrics.
 */
import type { FastifyInstance } from 'fastify';
import { restoreBodySchema, restoreResponse, snapshotListResponse, snapshotResponse } from './admin-schemas.js';
import type { AppMetrics } from './metrics.js';
import { collectionParamsSchema, responses, type ZodTypeProvider } from './route-schemas.js';
import type { ServerService } from './service-port.js';

/** POST /v1/collections/{name}/restore (the snapshot id is one this route's GET would list). */
export const restoreExample = { snapshot: '20261201T233000123Z-0a', as: 'docs-restored' };

/** Registers the snapshot and restore routes. */
export function registerSnapshotRoutes(fastify: FastifyInstance, service: ServerService, metrics: AppMetrics): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['snapshots'];
  const security = [{ bearer: [] }];

  app.post(
    '/v1/collections/:name/snapshots',
    {
      schema: {
        tags,
        security,
        summary: 'Snapshot a collection while it serves (segments hard-linked, WAL up to the snapshot point, sha256 per file)',
        params: collectionParamsSchema,
        response: responses({ 201: snapshotResponse }),
      },
    },
    async (request, reply) => {
      const info = await service.createSnapshot(request.params.name);
      metrics.observeSnapshot('create', info.tookMs / 1000);
      return reply.code(201).send(info);
    },
  );

  app.get(
    '/v1/collections/:name/snapshots',
    {
      schema: {
        tags,
        security,
        summary: 'List the snapshots of a collection (also of a deleted one)',
        params: collectionParamsSchema,
        response: responses({ 200: snapshotListResponse }),
      },
    },
    async (request) => service.listSnapshots(request.params.name),
  );

  app.post(
    '/v1/collections/:name/restore',
    {
      schema: {
        tags,
        security,
        summary: 'Restore a snapshot of this collection into a new collection, verifying every checksum first',
        params: collectionParamsSchema,
        body: restoreBodySchema.meta({ examples: [restoreExample] }),
        response: responses({ 201: restoreResponse }),
      },
    },
    async (request, reply) => {
      const t0 = performance.now();
      const result = await service.restoreSnapshot(request.params.name, request.body);
      metrics.observeSnapshot('restore', (performance.now() - t0) / 1000);
      return reply.code(201).send(result);
    },
  );
}
