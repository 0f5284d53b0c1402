import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MetricTable } from '../metrics/table.js';
import type { MetricDesc } from '../metrics/types.js';
import { parsePmid } from '../metrics/pmid.js';
import type { Sampler } from '../sampler.js';
import { SINGULAR, type Sample } from '../store/sample.js';
import { timestampJson, valueJson } from './json.js';

export interface PmapiOptions {
  table: MetricTable;
  sampler: Sampler;
}

/** `{"pmid":…,"name":…,"instances":[…]}` for one metric in pmproxy's native fetch shape. */
export function fetchValueJson(desc: MetricDesc, sample: Sample): string {
  const values = sample.get(desc.name);
  let instances = '';
  if (values) {
    for (const [id, value] of values) {
      if (instances) instances += ',';
      instances += `{"instance":${id === SINGULAR ? 'null' : id},"value":${valueJson(desc.type, value)}}`;
    }
  }
  return `{"pmid":"${desc.pmid}","name":${JSON.stringify(desc.name)},"instances":[${instances}]}`;
}

/** Names in a pmproxy list parameter: split on `,` only, empty elements ignored. */
export function listParam(value: unknown): string[] {
  return typeof value === 'string' ? value.split(',').filter((s) => s.length > 0) : [];
}

/** The native pmproxy dialect. */
export async function pmapiPlugin(app: FastifyInstance, { table, sampler }: PmapiOptions): Promise<void> {
  app.get('/pmapi/fetch', async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Record<string, string | undefined>;
    let descs: MetricDesc[];
    if (query.names !== undefined) {
      descs = listParam(query.names).map((n) => table.metric(n)).filter((d): d is MetricDesc => d !== undefined);
    } else if (query.pmids !== undefined) {
      descs = listParam(query.pmids)
        .map((p) => parsePmid(p))
        .map((p) => (p === undefined ? undefined : table.metricByPmid(p)))
        .filter((d): d is MetricDesc => d !== undefined);
    } else {
      return reply.code(400).type('application/json').send('{"message":"bad parameters passed","success":false}\r\n');
    }
    const sample = await sampler.ready();
    const body =
      `{"timestamp":${timestampJson(sample.time)},"values":[` +
      descs.map((d) => fetchValueJson(d, sample)).join(',') +
      ']}\r\n';
    return reply.type('application/json').send(body);
  });
}
