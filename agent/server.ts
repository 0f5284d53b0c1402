import Fastify, { type FastifyInstance } from 'fastify';
import { profilingDisabledPlugin, requireCredentials, type Credentials } from './api/auth.js';
import { compatPlugin } from './api/compat.js';
import { consolePlugin } from './api/console.js';
import { healthPlugin } from './api/health.js';
import type { ContextMetric } from './api/context-metrics.js';
import { DEFAULT_LIMITS, type PmapiLimits } from './api/contexts.js';
import { canonicalUrl, installPmproxyHttp, type CorsOrigins } from './api/http.js';
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
import type { Interest } from './demand.js';

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
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
  /** Who may call (docs/SECURITY.md); anyone when absent. */
  credentials?: Credentials;
  /** Where the APIs say what their clients read (the agent collects on demand); all is collected when absent. */
  interest?: Interest;
  /** Browser origins allowed to read answers; pmproxy's `*` when absent. */
  corsOrigins?: CorsOrigins;
  /** False: the profiling routes answer 403 and Vector's flame-graph metric is not served. */
  profiling?: boolean;
}

/** Answered without credentials: probes cannot hold secrets, and /health reveals no metric. */
const OPEN_PATHS = ['/health'];

/** The HTTP face of the agent: each API dialect is a plugin over the same table and sampler. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    routerOptions: { maxParamLength: 1024 },
    // pmproxy matches /pmapi verbs by prefix (/pmapi/fetchx is fetch)
    rewriteUrl: (request) => canonicalUrl(request.url ?? '/'),
    // The https overloads of Fastify() type the instance differently; both serve the same routes.
    ...(options.tls ? { https: options.tls } : {}),
  }) as unknown as FastifyInstance;
  installPmproxyHttp(app, options.corsOrigins);
  if (options.credentials) requireCredentials(app, options.credentials, OPEN_PATHS);
  // perf flame graphs: the REST API and Vector's vector.task.cpuflamegraph (a context metric)
  const profiling = options.profiling === false ? undefined : createProfiling(options);
  const pmapi = new Pmapi({
    table: options.table,
    sampler: options.sampler,
    containers: options.containers ?? noContainers,
    roots: options.roots ?? { procfs: '/proc' },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    contextMetrics: [...(options.contextMetrics ?? []), ...(profiling ? [profiling.vectorTask] : [])],
    interest: options.interest,
  });
  app.addHook('onClose', async () => pmapi.close());
  await app.register(nativePlugin, { pmapi });
  await app.register(compatPlugin, { pmapi });
  await app.register(openMetricsPlugin, { pmapi });
  if (profiling) await app.register(profilingPlugin, profiling);
  else await app.register(profilingDisabledPlugin);
  if (options.history) await app.register(streamPlugin, { ...options, history: options.history });
  await app.register(healthPlugin, { sampler: options.sampler });
  await app.register(consolePlugin);
  return app;
}
