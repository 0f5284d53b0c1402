import type { FastifyInstance } from 'fastify';
import { indomToNumber, pmidToNumber } from '../metrics/pmid.js';
import type { PmapiContext } from './contexts.js';
import { ContextError } from './errors.js';
import { acceptBodies, contextVerb, sendError } from './http.js';
import type { Params } from './params.js';
import type { Pmapi } from './pmapi.js';
import { commonVerbs, fetchValuesJson, indomJson, labelsByDomain, metricJson, unknownMetricJson, type Dialect } from './render.js';

/** The pmwebd dialect: numeric pmids and indoms, `-1` for a singular instance. */
const COMPAT: Dialect = {
  pmid: (pmid) => String(pmidToNumber(pmid)),
  indom: (indom) => String(indomToNumber(indom)),
  singular: '-1',
};

/** PCP's PM_INDOM_NULL, the indom pmwebd reports for a singular metric. */
const PM_INDOM_NULL = 0xffffffff;

/**
 * The pmwebd-compatible dialect (`/pmapi/N/_verb`) that Netflix Vector 1.x and 2.x speak.
 * Its quirks, all here: `_context` is `{"context":N}`; `_fetch` has no context, a `{s,us}`
 * timestamp and serves `names` and `pmids` together; `_indom` of a singular metric is an
 * empty list (Vector 1.x fails its whole poll on an error there); and a dead context is a
 * text/plain 400 carrying PM_ERR_NOCONTEXT (-12376), the one thing Vector looks for before
 * it creates a new context.
 */
export async function compatPlugin(app: FastifyInstance, { pmapi }: { pmapi: Pmapi }): Promise<void> {
  acceptBodies(app, pmapi.limits.bodyBytes);
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof ContextError) {
      return reply.code(400).type('text/plain').send(
        `PMWEBD error, code ${ContextError.PM_ERR_NOCONTEXT}: Attempt to use an illegal context (${error.message}); ` +
          `create a new one with /pmapi/context\n`,
      );
    }
    return sendError(reply, error, pmapi.limits.bodyBytes);
  });

  const verb = (name: string, run: (context: PmapiContext, params: Params, data: string | undefined) => Promise<string> | string) =>
    contextVerb(app, pmapi, `_${name}`, run);

  verb('context', (context) => `{"context":${context.id}}`);

  verb('metric', (context, params) => {
    const labels = labelsByDomain(pmapi, context);
    const entries = pmapi.metricSelection(context, params).map((m) =>
      'unknown' in m ? unknownMetricJson(m.unknown) : metricJson(pmapi, context, m, COMPAT, labels),
    );
    return `{"context":${context.id},"metrics":[${entries.join(',')}]}`;
  });

  verb('fetch', async (context, params) => {
    const descs = pmapi.fetchSelection(context, params, true);
    const sample = await pmapi.sample(context, descs);
    const s = Math.floor(sample.time / 1000);
    const us = Math.min(999_999, Math.round((sample.time - s * 1000) * 1000));
    return `{"timestamp":{"s":${s},"us":${us}},"values":${fetchValuesJson(pmapi, context, sample, descs, COMPAT)}}`;
  });

  verb('indom', async (context, params) => {
    const reply = await pmapi.indom(context, params, true);
    if (!reply) return `{"indom":${PM_INDOM_NULL},"labels":${JSON.stringify(pmapi.labels(context))},"instances":[]}`;
    return `{${indomJson(pmapi, context, reply, COMPAT)}}`;
  });

  for (const [name, run] of Object.entries(commonVerbs)) {
    verb(name, async (context, params, data) => `{"context":${context.id}${await run(pmapi, context, params, data)}}`);
  }
}
