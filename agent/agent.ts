import type { FastifyInstance } from 'fastify';
import type { StreamLimits } from './api/stream-connection.js';
import { StreamStats, streamCollector, streamFamily } from './api/stream-stats.js';
import { createCollectors } from './collectors/index.js';
import { Demand, KEPT, type Interest } from './demand.js';
import { HostDerived } from './derive/host.js';
import { hostDerivedDefinitions } from './metrics/derived.js';
import { discoveryFor, type DiscoveryOptions } from './containers/discovery.js';
import { log } from './log.js';
import { containerScope } from './containers/view.js';
import { pmcdClientFamily } from './metrics/pmcd-client.js';
import { MetricTable } from './metrics/table.js';
import { Sampler, selfFamily } from './sampler.js';
import { buildServer, type ServerOptions } from './server.js';
import { DEFAULT_HISTORY_BYTES, DEFAULT_HISTORY_MS, History } from './store/history.js';

export interface AgentOptions extends DiscoveryOptions {
  intervalMs: number;
  /**
   * `demand` (default): collect what clients watch plus the console's main view (KEPT);
   * `all`: every metric every pass (`--collect`).
   */
  collect?: 'demand' | 'all';
  /** Run only these collectors (tests); all by default. */
  collectors?: readonly string[];
  /** How far back the sample history reaches, ms (`--history`). */
  historyMs?: number;
  /** Memory budget of the sample history, bytes (`--history-memory`). */
  historyBytes?: number;
  /** Limits of the /stream WebSocket (tests lower them). */
  streamLimits?: Partial<StreamLimits>;
  /** TLS, credentials, CORS, profiling and pmapi limits of the HTTP server (docs/SECURITY.md). */
  access?: Pick<ServerOptions, 'tls' | 'credentials' | 'corsOrigins' | 'profiling' | 'limits'>;
}

export interface Agent {
  table: MetricTable;
  sampler: Sampler;
  demand: Demand;
  history: History;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Wires kernel → collectors → table → sampler → API, the one direction data flows. */
export async function createAgent(options: AgentOptions): Promise<Agent> {
  const collectors = createCollectors(options, options.collectors);
  const table = new MetricTable([selfFamily, pmcdClientFamily, streamFamily, ...collectors.map((c) => c.family)]);
  const derived = new HostDerived(table, hostDerivedDefinitions);
  table.add(derived.family);
  const history = new History(table, { retentionMs: options.historyMs ?? DEFAULT_HISTORY_MS, maxBytes: options.historyBytes ?? DEFAULT_HISTORY_BYTES });
  const streamStats = new StreamStats();
  const demand = new Demand(table, { all: options.collect === 'all', kept: KEPT, operands: derived.operands });
  const sampler = new Sampler(table, [...collectors, streamCollector(streamStats, history)], options.intervalMs, {
    derive: (sample) => derived.apply(sample),
    demand,
  });
  const interest: Interest = {
    async ask(names) {
      if (demand.ask(names)) await sampler.fresh();
    },
    // New metrics a subscription holds arrive with the next regular pass: an extra pass now
    // would put one short, noisy interval into every subscriber's rates.
    hold: (owner, names) => void demand.hold(owner, names),
    release: (owner) => demand.release(owner),
  };
  // In slices: recording a pass at once held up the API for milliseconds (issue #8, paced p99).
  sampler.on('sample', (sample) => {
    history.recordSliced(sample).catch((error) => log.error('recording a sample in the history failed; it is missing from history reads', { error }));
  });
  // The container collectors made from `options` share this discovery (one per Roots object).
  const discovery = discoveryFor(options);
  const app = await buildServer({
    table, sampler, containers: containerScope(discovery, table), roots: options, history, streamStats, interest,
    streamLimits: options.streamLimits, ...options.access,
  });
  return {
    table,
    sampler,
    demand,
    history,
    app,
    async close() {
      sampler.stop();
      discovery.close();
      await app.close();
    },
  };
}
