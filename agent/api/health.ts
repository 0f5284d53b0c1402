import type { FastifyInstance } from 'fastify';
import type { Sampler } from '../sampler.js';

/** A sampler that has missed this many intervals is stuck: the agent is alive but serves stale values. */
const STALE_INTERVALS = 3;

/**
 * `GET /health` for liveness/readiness probes and people: 200 `{"status":"ok",…}` while samples
 * keep coming, 503 `{"status":"stale",…}` when none has completed for three intervals (or none
 * yet), so an orchestrator restarts an agent whose sampling has hung. A failing collector is
 * reported but does not make the agent unhealthy: the others still serve.
 */
export async function healthPlugin(app: FastifyInstance, { sampler }: { sampler: Sampler }): Promise<void> {
  app.get('/health', async (_request, reply) => {
    // The sampler stamps samples on the monotonic clock (timeOrigin + now), so a jump of the
    // wall clock neither ages nor rejuvenates the latest sample.
    const now = performance.timeOrigin + performance.now();
    const latest = sampler.latest;
    const ageMs = latest ? Math.max(0, Math.round(now - latest.time)) : null;
    const stale = ageMs === null || ageMs > STALE_INTERVALS * sampler.intervalMs;
    return reply
      .code(stale ? 503 : 200)
      .header('cache-control', 'no-store')
      .send({
        status: stale ? 'stale' : 'ok',
        lastSampleAgeMs: ageMs,
        intervalMs: sampler.intervalMs,
        failingCollectors: sampler.failing,
        uptimeSeconds: Math.round(process.uptime()),
      });
  });
}
