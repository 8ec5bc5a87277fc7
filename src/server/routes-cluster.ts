/**
 * `GET /v1/cluster` (API.md "Cluster"): registered only in cluster mode (the service has `clusterInfo`, see
 * src/cluster/cluster-node.ts): members with their last heartbeat, every collection's shard map with each replica's
 * applied stream sequence and lag, and the health (`ok` when every shard has a live replica).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { responses, type ZodTypeProvider } from './route-schemas.js';
import type { ServerService } from './service-port.js';

const clusterResponse = z
  .object({
    node: z.string().describe('the answering node'),
    health: z.enum(['ok', 'degraded']).describe('ok when every shard of every collection has a live replica'),
    members: z.array(z.record(z.string(), z.unknown())).describe('live members (node id, url, last heartbeat age in ms)'),
    collections: z
      .array(z.record(z.string(), z.unknown()))
      .describe('per collection: shards, replicas and per replica its node, liveness, applied sequence and lag'),
  })
  .describe('cluster state');

export function registerClusterRoutes(fastify: FastifyInstance, service: ServerService): void {
  const clusterInfo = service.clusterInfo?.bind(service);
  if (clusterInfo === undefined) return;
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/v1/cluster',
    {
      schema: {
        tags: ['operations'],
        security: [{ bearer: [] }],
        summary: 'Cluster members, shard map, replica lag and health (cluster mode only)',
        response: responses({ 200: clusterResponse }),
      },
    },
    async () => clusterInfo() as Promise<z.infer<typeof clusterResponse>>,
  );
}
