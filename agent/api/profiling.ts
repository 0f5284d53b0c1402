import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { noContainers, type ContainerScope } from '../containers/scope.js';
import type { MetricTable } from '../metrics/table.js';
import { vectorTaskFamily } from '../metrics/vector.js';
import { callTree } from '../profile/tree.js';
import { renderFlameGraph } from '../profile/svg.js';
import { Profiler, ProfileError, type Profile, type ProfilerOptions } from '../profile/profiler.js';
import { TargetError, type ProfileTarget } from '../profile/target.js';
import type { ContextMetric, ContextView } from './context-metrics.js';
import { PmapiError } from './errors.js';

/**
 * CPU flame graphs over HTTP, two ways:
 * - our REST API (`POST /profile`, `GET /profile/<id>[/tree|/folded|/svg]`, live profiles),
 *   documented in docs/PROFILING.md;
 * - Vector's protocol: store seconds into `vector.task.cpuflamegraph`, fetch it for the status
 *   until `DONE flamegraphs/cpuflamegraph.<id>.svg`, then GET that path.
 */

const VECTOR_METRIC = 'vector.task.cpuflamegraph';
/** Vector's default when the stored value is empty, as its PMDA's script had it. */
const VECTOR_DEFAULT_SECONDS = 60;
/** How long fetches keep reporting DONE (see VectorFlameGraphTask). */
const DONE_HOLD_MS = 10_000;
/** A Vector request waiting for a free slot gives up after this long. */
const PENDING_MAX_MS = 10 * 60_000;
const SVG_FILE = /^cpuflamegraph\.([0-9a-f]{12})\.svg$/;

interface VectorTask {
  /** The profile made for this context, once started. */
  profileId?: string;
  /** Waiting for a free slot (REQUESTED): what to start. */
  pending?: { seconds: number; target: ProfileTarget; since: number };
  error?: string;
  /** When a fetch first saw DONE. */
  doneSeenAt?: number;
  updatedAt: number;
}

/**
 * `vector.task.cpuflamegraph` per client context, with the Vector PMDA's status words.
 *
 * The PMDA reports DONE exactly once. pmapi evaluates every context metric on every fetch in
 * the context, not only the metrics asked for, and Vector 1.x polls this metric in requests of
 * its own beside the dashboard's: a once-only DONE could be used up by a dashboard poll and
 * never shown. So DONE is reported for DONE_HOLD_MS after the first fetch that saw it (Vector
 * stops polling on the first DONE anyway), then IDLE.
 */
export class VectorFlameGraphTask implements ContextMetric {
  readonly name = VECTOR_METRIC;
  private readonly tasks = new Map<number, VectorTask>();

  constructor(private readonly profiler: Profiler) {}

  read(context: ContextView): string {
    const task = this.tasks.get(context.id);
    if (!task) return 'IDLE';
    if (task.pending) this.tryStart(context.id, task);
    if (task.error !== undefined) return `ERROR ${task.error}`;
    if (task.pending) {
      return `REQUESTED (waiting for a free profiling slot: at most ${this.profiler.limits.maxRunning} profiles run at once)`;
    }
    const profile = task.profileId === undefined ? undefined : this.profiler.get(task.profileId);
    if (!profile) {
      this.tasks.delete(context.id);
      return 'IDLE';
    }
    switch (profile.state) {
      case 'running':
        return `Profiling ${profile.target.description} for ${profile.seconds} seconds (${Math.min(profile.seconds, Math.floor(profile.elapsedSeconds))}/${profile.seconds})`;
      case 'processing':
        return 'Processing profile';
      case 'error':
        return `ERROR ${profile.error ?? 'the profile failed'}`;
      case 'done':
      case 'cancelled': {
        const now = performance.now();
        task.doneSeenAt ??= now;
        if (now - task.doneSeenAt > DONE_HOLD_MS) {
          this.tasks.delete(context.id);
          return 'IDLE';
        }
        return `DONE flamegraphs/cpuflamegraph.${profile.id}.svg`;
      }
    }
  }

  store(value: string, context: ContextView): void {
    const refuse = (reason: string): PmapiError => new PmapiError(`failed to store value to metric ${VECTOR_METRIC}: ${reason}`, 400, context.id);
    const text = value.trim();
    if (!/^\d*$/.test(text)) throw refuse('Bad input to pmstore (store the profile length in seconds, digits only)');
    const asked = text === '' ? VECTOR_DEFAULT_SECONDS : Number(text);
    if (asked < 1) throw refuse('Bad input to pmstore (a profile lasts at least 1 second)');
    const status = this.read(context);
    if (!/^(IDLE|DONE|ERROR)/.test(status)) {
      throw refuse(`Try again. Information not currently available (this context's flame graph is not finished: ${status})`);
    }
    const task: VectorTask = {
      // Vector offers 120 s; profiles are capped, so a long request is shortened rather than refused.
      pending: {
        seconds: Math.min(asked, this.profiler.limits.maxSeconds),
        target: context.container ? { kind: 'container', container: context.container.id } : { kind: 'host' },
        since: performance.now(),
      },
      updatedAt: performance.now(),
    };
    this.tasks.set(context.id, task);
    this.tryStart(context.id, task);
    this.forgetStale();
  }

  private tryStart(contextId: number, task: VectorTask): void {
    const pending = task.pending!;
    try {
      const profile = this.profiler.start({ target: pending.target, seconds: pending.seconds, owner: `context ${contextId}` });
      task.pending = undefined;
      task.profileId = profile.id;
    } catch (error) {
      if (error instanceof ProfileError && error.status === 503 && performance.now() - pending.since < PENDING_MAX_MS) return;
      task.pending = undefined;
      task.error = (error as Error).message;
    }
    task.updatedAt = performance.now();
  }

  /** Contexts come and go without telling context metrics: drop tasks untouched for an hour. */
  private forgetStale(): void {
    const old = performance.now() - 3600_000;
    for (const [id, task] of this.tasks) if (task.updatedAt < old) this.tasks.delete(id);
  }
}

export interface Profiling {
  profiler: Profiler;
  vectorTask: VectorFlameGraphTask;
}

/**
 * The profiler and its Vector metric for one server. Declares `vector.task.cpuflamegraph` in
 * the table (pmapi requires context metrics to be there) unless it already is.
 */
export function createProfiling(
  options: { table: MetricTable; containers?: ContainerScope; roots?: { procfs: string } },
  extra: Pick<ProfilerOptions, 'perf' | 'limits'> = {},
): Profiling {
  if (!options.table.metric(VECTOR_METRIC)) options.table.add(vectorTaskFamily);
  const profiler = new Profiler({ procfs: options.roots?.procfs ?? '/proc', containers: options.containers ?? noContainers, ...extra });
  return { profiler, vectorTask: new VectorFlameGraphTask(profiler) };
}

/** `target` of a request: `"host"`, `{"cgroup": "/path"}` or `{"container": "name-or-id"}`. */
export function parseTarget(target: unknown): ProfileTarget {
  if (target === 'host') return { kind: 'host' };
  if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
    const t = target as Record<string, unknown>;
    const keys = Object.keys(t);
    if (keys.length === 1 && typeof t.cgroup === 'string') return { kind: 'cgroup', cgroup: t.cgroup };
    if (keys.length === 1 && typeof t.container === 'string' && t.container.length > 0 && t.container.length <= 256) {
      return { kind: 'container', container: t.container };
    }
  }
  throw new TargetError('target must be "host", {"cgroup": "/path/of/cgroup"} or {"container": "name-or-id"}');
}

/** The status of a profile as GET /profile/<id> answers it. */
export function profileJson(profile: Profile): Record<string, unknown> {
  const folded = profile.folded();
  const elapsed = profile.elapsedSeconds;
  const base = `/profile/${profile.id}`;
  return {
    id: profile.id,
    state: profile.state,
    live: profile.live,
    target: {
      ...(profile.target.target.kind === 'host' ? { host: true } : {}),
      ...(profile.target.cgroup !== undefined ? { cgroup: profile.target.cgroup } : {}),
      ...(profile.target.container ? { container: profile.target.container } : {}),
      description: profile.target.description,
    },
    frequency: profile.frequency,
    ...(profile.live ? { window: profile.seconds } : { seconds: profile.seconds }),
    startedAt: new Date(profile.startedAt).toISOString(),
    elapsed: Math.round(elapsed * 10) / 10,
    progress: profile.live ? null : profile.state === 'running' ? Math.min(1, elapsed / profile.seconds) : 1,
    samples: folded.total,
    stacks: folded.counts.size,
    idleSamples: profile.idleSamples,
    perfCpuSeconds: Math.round(profile.perfCpuSeconds * 100) / 100,
    // perf's share of one CPU while it ran: the cost of this profile.
    perfCpuPercent: elapsed > 0 ? Math.round((10_000 * profile.perfCpuSeconds) / elapsed) / 100 : 0,
    ...(profile.error !== undefined ? { error: profile.error } : {}),
    links: { status: base, tree: `${base}/tree`, folded: `${base}/folded`, svg: `${base}/svg` },
  };
}

function svgOf(profile: Profile): string {
  const folded = profile.folded();
  const when = new Date(profile.startedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const span = profile.live ? `last ${profile.seconds} s (live)` : `${profile.seconds} s`;
  return renderFlameGraph(callTree(folded.counts), {
    title: `CPU flame graph: ${profile.target.description}`,
    subtitle: `${when} · ${span} at ${profile.frequency} Hz · ${folded.total} samples` +
      (profile.state === 'running' ? ' so far' : '') + (profile.state === 'error' ? ` · ${profile.error}` : ''),
  });
}

const postSchema = {
  body: {
    type: 'object',
    required: ['target'],
    properties: {
      target: {},
      seconds: { type: 'number' },
      frequency: { type: 'integer' },
      live: { type: 'boolean' },
    },
  },
};

/** The REST routes and Vector's SVG path; stops every perf process when the server closes. */
export async function profilingPlugin(app: FastifyInstance, { profiler }: Profiling): Promise<void> {
  app.addHook('onClose', async () => profiler.close());
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error instanceof ProfileError || error instanceof TargetError ? error.status : error.statusCode ?? 500;
    return reply.code(status).type('application/json').send({ error: error.message });
  });

  const find = (request: FastifyRequest, reply: FastifyReply): Profile | undefined => {
    const { id } = request.params as { id: string };
    const profile = profiler.get(id);
    if (!profile) {
      void reply.code(404).send({ error: `no profile ${JSON.stringify(id)}: it never existed, finished over an hour ago, or was a live profile nobody asked about; start one with POST /profile` });
    }
    return profile;
  };

  // The console profiles other hosts' agents too: let browsers send JSON and DELETE across origins
  // (every reply already carries Access-Control-Allow-Origin: *).
  for (const url of ['/profile', '/profile/:id']) {
    app.options(url, async (_request, reply) =>
      reply.code(204).header('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS')
        .header('Access-Control-Allow-Headers', 'Content-Type').header('Access-Control-Max-Age', '86400').send());
  }

  app.post('/profile', { schema: postSchema }, async (request, reply) => {
    const body = request.body as { target: unknown; seconds?: number; frequency?: number; live?: boolean };
    const target = parseTarget(body.target);
    const profile = body.live
      ? profiler.live(target, body.frequency)
      : profiler.start({ target, seconds: body.seconds, frequency: body.frequency, owner: `address ${request.ip}` });
    return reply.code(profile.live ? 200 : 202).header('Cache-Control', 'no-store').send(profileJson(profile));
  });

  app.get('/profile', async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ profiles: profiler.list().map(profileJson) }));

  app.get('/profile/:id', async (request, reply) => {
    const profile = find(request, reply);
    if (profile) return reply.header('Cache-Control', 'no-store').send(profileJson(profile));
  });

  app.delete('/profile/:id', async (request, reply) => {
    const profile = find(request, reply);
    if (profile) return reply.send(profileJson(profiler.cancel(profile.id)!));
  });

  app.get('/profile/:id/tree', async (request, reply) => {
    const profile = find(request, reply);
    if (profile) return reply.header('Cache-Control', 'no-store').send(callTree(profile.folded().counts));
  });

  app.get('/profile/:id/folded', async (request, reply) => {
    const profile = find(request, reply);
    if (profile) return reply.header('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(profile.folded().toText());
  });

  app.get('/profile/:id/svg', async (request, reply) => {
    const profile = find(request, reply);
    if (profile) return reply.header('Cache-Control', 'no-store').type('image/svg+xml; charset=utf-8').send(svgOf(profile));
  });

  // Vector opens the path its DONE status named, relative to the agent's address.
  app.get('/flamegraphs/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const m = SVG_FILE.exec(file);
    const profile = m ? profiler.get(m[1]!) : undefined;
    if (!profile) return reply.code(404).send({ error: `no flame graph ${JSON.stringify(file)}: names look like cpuflamegraph.<12 hex digits>.svg, and are kept for an hour` });
    return reply.type('image/svg+xml; charset=utf-8').send(svgOf(profile));
  });
}
