import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PmapiContext } from './contexts.js';
import { ContextError } from './errors.js';
import { pmapiRoute, sendError } from './http.js';
import { valueJson } from './json.js';
import { listParam, requestParams, type Params } from './params.js';
import type { Labels, Pmapi } from './pmapi.js';

/**
 * OpenMetrics (Prometheus text) as pmproxy prints it: `/metrics` for the host (or a container
 * named by `hostspec=…?container=`), `/pmapi/metrics` within a context, and the older
 * `/pmapi/_metrics` form with `:` separators. Each numeric metric gets a `# PCP5` line with its
 * PCP metadata, `# HELP` and `# TYPE`, then one sample line per instance; string metrics are
 * left out, as pmproxy does. `names` lists PMNS prefixes; `times=true` appends sample times (ms).
 */
export async function openMetricsPlugin(app: FastifyInstance, { pmapi }: { pmapi: Pmapi }): Promise<void> {
  app.setErrorHandler((error, _request, reply) => {
    // scrapers show the body: a dead context is plain text here too
    if (error instanceof ContextError) return reply.code(400).type('text/plain').send(`${error.message}\n`);
    return sendError(reply, error, pmapi.limits.bodyBytes);
  });

  const scrape = async (reply: FastifyReply, context: PmapiContext, params: Params, compat: boolean): Promise<FastifyReply> => {
    const prefixes = listParam(params.get('names'));
    const metrics = prefixes.length === 0 ? pmapi.traverse(context, '') : prefixes.flatMap((p) => pmapi.traverse(context, p));
    const sample = await pmapi.sample(context, metrics);
    const time = params.get('times') === 'true' ? ` ${Math.round(sample.time)}` : '';
    let out = '';
    for (const desc of metrics) {
      if (desc.type === 'string') continue;
      const values = pmapi.values(context, sample, desc);
      if (!values || values.size === 0) continue;
      const name = desc.name.replace(/\./g, compat ? ':' : '_');
      out += compat
        ? `# PCP ${desc.name} ${desc.sem} ${desc.units}\n`
        : `# PCP5 ${desc.name} ${desc.pmid} ${desc.type} ${desc.indom ?? 'PM_INDOM_NULL'} ${desc.sem} ${desc.units}\n`;
      out += `# HELP ${name} ${escapeHelp(desc.oneline)}\n# TYPE ${name} ${desc.sem === 'counter' ? 'counter' : 'gauge'}\n`;
      const labels = pmapi.metricLabels(context, desc);
      for (const [id, value] of values) {
        const text = valueJson(desc.type, value);
        if (text === 'null') continue;
        const instance = desc.indom === null ? undefined : instanceLabels(sample.instances(desc.indom)?.get(id), id, sample.labelsOf(desc.indom, id));
        out += `${name}{${labelText({ ...labels, ...instance })}} ${text}${time}\n`;
      }
    }
    return reply.type('text/plain').send(out);
  };

  app.get('/metrics', async (request, reply) => {
    const { params } = requestParams(request);
    return scrape(reply, pmapi.scrapeContext(params), params, false);
  });
  for (const [verb, compat] of [['metrics', false], ['_metrics', true]] as const) {
    pmapiRoute(app, verb, async (request, reply, pathContext) => {
      const { params } = requestParams(request);
      return scrape(reply, pmapi.context(params, pathContext), params, compat);
    });
  }
}

function instanceLabels(name: string | undefined, id: number, own: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return { ...own, ...(name === undefined ? {} : { instname: name }), instid: String(id) };
}

function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key.replace(/[^A-Za-z0-9_]/g, '_')}="${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

