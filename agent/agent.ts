import type { FastifyInstance } from 'fastify';
import { createCollectors } from './collectors/index.js';
import type { Roots } from './collectors/types.js';
import { MetricTable } from './metrics/table.js';
import { Sampler, selfFamily } from './sampler.js';
import { buildServer } from './server.js';

export interface AgentOptions extends Roots {
  intervalMs: number;
  /** Run only these collectors (tests); all by default. */
  collectors?: readonly string[];
}

export interface Agent {
  table: MetricTable;
  sampler: Sampler;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Wires kernel → collectors → table → sampler → API, the one direction data flows. */
export async function createAgent(options: AgentOptions): Promise<Agent> {
  const collectors = createCollectors(options, options.collectors);
  const table = new MetricTable([selfFamily, ...collectors.map((c) => c.family)]);
  const sampler = new Sampler(table, collectors, options.intervalMs);
  const app = await buildServer({ table, sampler });
  return {
    table,
    sampler,
    app,
    async close() {
      sampler.stop();
      await app.close();
    },
  };
}
