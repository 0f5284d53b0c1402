import type { FastifyInstance } from 'fastify';
import type { PmapiContext } from './contexts.js';
import { acceptBodies, contextVerb, sendError } from './http.js';
import { timestampJson } from './json.js';
import type { Params } from './params.js';
import type { Pmapi } from './pmapi.js';
import { commonVerbs, fetchValuesJson, indomJson, labelsByDomain, metricJson, unknownMetricJson, type Dialect } from './render.js';

/** pmproxy's native dialect: dotted pmid and indom strings, `null` for a singular instance. */
const NATIVE: Dialect = {
  pmid: (pmid) => `"${pmid}"`,
  indom: (indom) => `"${indom}"`,
  singular: 'null',
};

/**
 * The native pmproxy REST dialect (`/pmapi/<verb>` with `?context=N` or `/pmapi/N/<verb>`)
 * that grafana-pcp and pmproxy scripts speak. Every JSON body ends in CRLF, as pmproxy's.
 */
export async function nativePlugin(app: FastifyInstance, { pmapi }: { pmapi: Pmapi }): Promise<void> {
  acceptBodies(app, pmapi.limits.bodyBytes);
  app.setErrorHandler((error, _request, reply) => sendError(reply, error, pmapi.limits.bodyBytes));

  /** The reply starts `{"context":N` and, when the request has one, `,"client":…` right after. */
  const verb = (name: string, run: (context: PmapiContext, params: Params, head: string, data: string | undefined) => Promise<string> | string) =>
    contextVerb(app, pmapi, name, async (context, params, data) => {
      const client = params.get('client');
      const head = `{"context":${context.id}${client === undefined ? '' : `,"client":${JSON.stringify(client)}`}`;
      return `${await run(context, params, head, data)}}`;
    });

  verb('context', (context, _params, head) => {
    const labels = JSON.stringify(pmapi.labels(context));
    return `${head},"source":"${pmapi.source(context)}","hostspec":${JSON.stringify(pmapi.hostname)},"labels":${labels}`;
  });

  verb('metric', (context, params, head) => {
    const labels = labelsByDomain(pmapi, context);
    const entries = pmapi.metricSelection(context, params).map((m) =>
      'unknown' in m ? unknownMetricJson(m.unknown) : metricJson(pmapi, context, m, NATIVE, labels),
    );
    return `${head},"metrics":[${entries.join(',')}]`;
  });

  verb('fetch', async (context, params, head) => {
    const descs = pmapi.fetchSelection(context, params);
    const sample = await pmapi.sample(context, descs);
    return `${head},"timestamp":${timestampJson(sample.time)},"values":${fetchValuesJson(pmapi, context, sample, descs, NATIVE)}`;
  });

  verb('indom', async (context, params, head) => {
    const reply = await pmapi.indom(context, params);
    return `${head},${indomJson(pmapi, context, reply, NATIVE)}`;
  });

  for (const [name, run] of Object.entries(commonVerbs)) {
    verb(name, async (context, params, head, data) => head + (await run(pmapi, context, params, data)));
  }
}
