import Fastify, { type FastifyInstance } from 'fastify';
import { pmapiPlugin } from './api/pmapi.js';
import type { MetricTable } from './metrics/table.js';
import type { Sampler } from './sampler.js';

export interface ServerOptions {
  table: MetricTable;
  sampler: Sampler;
}

/** The HTTP face of the agent: each API dialect is a plugin over the same table and sampler. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 1024 } });
  await app.register(pmapiPlugin, options);
  return app;
}
