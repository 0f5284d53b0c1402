import Fastify, { type FastifyInstance } from 'fastify';
import { compatPlugin } from './api/compat.js';
import { consolePlugin } from './api/console.js';
import type { ContextMetric } from './api/context-metrics.js';
import { DEFAULT_LIMITS, type PmapiLimits } from './api/contexts.js';
import { canonicalUrl, installPmproxyHttp } from './api/http.js';
import type { IdentityRoots } from './api/identity.js';
import { nativePlugin } from './api/native.js';
import { openMetricsPlugin } from './api/openmetrics.js';
import { createProfiling, profilingPlugin } from './api/profiling.js';
import { Pmapi } from './api/pmapi.js';
import type { StreamLimits } from './api/stream-connection.js';
import type { StreamStats } from './api/stream-stats.js';
import { streamPlugin } from './api/stream.js';
import { noContainers, type ContainerScope } from './containers/scope.js';
import type { MetricTable } from './metrics/table.js';
import type { Sampler } from './sampler.js';
import type { History } from './store/history.js';

export interface ServerOptions {
  table: MetricTable;
  sampler: Sampler;
  /** Container discovery, for contexts scoped to one container; none known when absent. */
  containers?: ContainerScope;
  /** Where the host's name and machine id are read (context labels); the running host by default. */
  roots?: IdentityRoots;
  /** Bounds on contexts, derived metrics, names per request and body size; see DEFAULT_LIMITS. */
  limits?: Partial<PmapiLimits>;
  /** Metrics answered per client context and/or writable through /pmapi/store (declared in the table too). */
  contextMetrics?: readonly ContextMetric[];
  /** The sample history behind /stream and GET /history; neither is served without it. */
  history?: History;
  /** Counters the stream keeps for its stats collector. */
  streamStats?: StreamStats;
  streamLimits?: Partial<StreamLimits>;
}

/** The HTTP face of the agent: each API dialect is a plugin over the same table and sampler. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    routerOptions: { maxParamLength: 1024 },
    // pmproxy matches /pmapi verbs by prefix (/pmapi/fetchx is fetch)
    rewriteUrl: (request) => canonicalUrl(request.url ?? '/'),
  });
  installPmproxyHttp(app);
  // perf flame graphs: the REST API and Vector's vector.task.cpuflamegraph (a context metric)
  const profiling = createProfiling(options);
  const pmapi = new Pmapi({
    table: options.table,
    sampler: options.sampler,
    containers: options.containers ?? noContainers,
    roots: options.roots ?? { procfs: '/proc' },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    contextMetrics: [...(options.contextMetrics ?? []), profiling.vectorTask],
  });
  app.addHook('onClose', async () => pmapi.close());
  await app.register(nativePlugin, { pmapi });
  await app.register(compatPlugin, { pmapi });
  await app.register(openMetricsPlugin, { pmapi });
  await app.register(profilingPlugin, profiling);
  if (options.history) await app.register(streamPlugin, { ...options, history: options.history });
  await app.register(consolePlugin);
  return app;
}
