import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContainerScope } from '../containers/scope.js';
import type { MetricTable } from '../metrics/table.js';
import type { History } from '../store/history.js';
import type { Sample } from '../store/sample.js';
import { BadRequest } from './errors.js';
import { parseQuery } from './params.js';
import { RequestError, Selection } from './stream-selection.js';
import { PROTOCOL_VERSION, errorJson, windowJson } from './stream-wire.js';

export interface HistoryRouteOptions {
  table: MetricTable;
  history: History;
  containers: ContainerScope;
  intervalMs: number;
  /** Most values (series × times) in one answer; older times are cut to fit. */
  maxValues: number;
  latest(): Sample | undefined;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A window bound: epoch milliseconds, `now`, or an offset before now (`-15m`, `-30s`, `-500ms`).
 * @throws RequestError naming the parameter.
 */
export function parseTime(text: string, now: number, parameter: string): number {
  if (text === 'now') return now;
  const relative = /^-(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2]!]!;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  throw new RequestError('bad-request', `${parameter}=${JSON.stringify(text)} is not a time; use epoch milliseconds, "now" or an offset like -15m, -30s, -500ms`);
}

const list = (value: string | undefined): string[] | undefined => value?.split(',').filter((s) => s.length > 0);

/**
 * The request's parameters, each once: a repeated one keeps its first value, as the /pmapi
 * verbs do (a framework query object would hand over an array instead).
 */
function queryOf(url: string): Record<string, string | undefined> {
  const q = url.indexOf('?');
  try {
    return Object.fromEntries(parseQuery(q < 0 ? '' : url.slice(q + 1)));
  } catch (error) {
    if (error instanceof BadRequest) throw new RequestError('bad-request', error.reason);
    throw error;
  }
}

/**
 * `GET /history?names=a,b&instances=…&containers=…&start=-15m&end=now&rate=0|1&every=1`: a window
 * of the agent's history in the same columns as the stream's back-fill (docs/STREAM.md).
 */
export async function historyPlugin(app: FastifyInstance, options: HistoryRouteOptions): Promise<void> {
  const { table, history, containers, intervalMs, maxValues } = options;
  app.get('/history', async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const query = queryOf(request.url);
      const names = list(query.names);
      if (!names?.length) throw new RequestError('bad-request', 'names= is required: comma-separated metric names or PMNS prefixes');
      // Sample times are on the sampler's monotonic clock (timeOrigin + now); windows relative to
      // "now" must be too, or a step of the wall clock moves them away from every sample.
      const now = performance.timeOrigin + performance.now();
      const start = parseTime(query.start ?? `-${history.retentionMs}ms`, now, 'start');
      const end = parseTime(query.end ?? 'now', now, 'end');
      if (query.rate !== undefined && query.rate !== '0' && query.rate !== '1') throw new RequestError('bad-request', 'rate= must be 0 or 1');
      const rate = query.rate === '1';
      const every = Number(query.every ?? 1);
      if (!Number.isInteger(every) || every < 1 || every > 3600) throw new RequestError('bad-request', 'every= must be an integer from 1 to 3600');
      const selection = Selection.resolve(
        table,
        { metrics: names, instances: list(query.instances), containers: list(query.containers) },
        containers,
        options.latest(),
      );
      const window = history.read({
        metrics: selection.metrics,
        start,
        end,
        accept: (desc, _instance, name) => selection.accept(desc, name),
        every,
        maxValues,
      });
      const body =
        `{"v":${PROTOCOL_VERSION},"start":${start},"end":${end},"interval":${intervalMs},"every":${every},"rate":${rate},` +
        `"truncated":${window.truncated},${windowJson(selection.metrics, rate, window, intervalMs * every)}}\n`;
      return reply.type('application/json').send(body);
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      return reply.code(400).type('application/json').send(errorJson(error.code, error.message) + '\n');
    }
  });
}
