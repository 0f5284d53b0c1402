import type { MetricDesc } from '../metrics/types.js';
import type { PmapiContext } from './contexts.js';
import { PmapiError } from './errors.js';
import { seriesId } from './identity.js';
import { instancesJson } from './json.js';
import type { Params } from './params.js';
import type { ContextSample, IndomReply, Labels, Pmapi } from './pmapi.js';

/**
 * JSON bodies shared by the PCP dialects. Where the dialects differ (how pmids and indoms
 * are printed, the instance of a singular metric) the plugin passes its own choice in.
 */
export interface Dialect {
  /** `"60.2.0"` (native) or `251660288` (compat). */
  pmid(pmid: string): string;
  /** `"60.2"` (native) or `251658242` (compat). */
  indom(indom: string): string;
  /** The instance of a singular metric: `null` (native) or `-1` (compat). */
  singular: string;
}

/** Precomputed `{"pmid":…,"name":…,"instances":` per metric and dialect, so a fetch only prints values. */
const fetchPrefixes = new WeakMap<Dialect, WeakMap<MetricDesc, string>>();

function fetchPrefix(dialect: Dialect, desc: MetricDesc): string {
  let cache = fetchPrefixes.get(dialect);
  if (!cache) fetchPrefixes.set(dialect, (cache = new WeakMap()));
  let prefix = cache.get(desc);
  if (prefix === undefined) {
    prefix = `{"pmid":${dialect.pmid(desc.pmid)},"name":${JSON.stringify(desc.name)},"instances":`;
    cache.set(desc, prefix);
  }
  return prefix;
}

/** The `values` array of a fetch reply. */
export function fetchValuesJson(pmapi: Pmapi, context: PmapiContext, sample: ContextSample, descs: readonly MetricDesc[], dialect: Dialect): string {
  let out = '[';
  for (const desc of descs) {
    // a metric without values (like a derived rate() at its first sample) is singular 0 or indom [], as in pmproxy
    const values = pmapi.values(context, sample, desc);
    if (out.length > 1) out += ',';
    out += fetchPrefix(dialect, desc) + instancesJson(desc.type, desc.indom === null, values, dialect.singular) + '}';
  }
  return out + ']';
}

/** One entry of a `/pmapi/metric` reply. */
export function metricJson(pmapi: Pmapi, context: PmapiContext, desc: MetricDesc, dialect: Dialect, labels: (desc: MetricDesc) => Labels): string {
  const oneline = JSON.stringify(desc.oneline);
  return (
    `{"name":${JSON.stringify(desc.name)},"series":"${seriesId(pmapi.source(context), desc.name)}",` +
    `"pmid":${dialect.pmid(desc.pmid)},${desc.indom === null ? '' : `"indom":${dialect.indom(desc.indom)},`}` +
    `"type":"${desc.type}","sem":"${desc.sem}","units":${JSON.stringify(desc.units)},` +
    `"labels":${JSON.stringify(labels(desc))},"text-oneline":${oneline},"text-help":${desc.help === undefined ? oneline : JSON.stringify(desc.help)}}`
  );
}

/** How pmproxy lists a name it could not find among found metrics. */
export function unknownMetricJson(name: string): string {
  return `{"name":${JSON.stringify(name)},"message":"Unknown metric name","success":false}`;
}

/** A per-request memo of metric labels by pmid domain (one object per domain, not per metric). */
export function labelsByDomain(pmapi: Pmapi, context: PmapiContext): (desc: MetricDesc) => Labels {
  const memo = new Map<string, Labels>();
  return (desc) => {
    const domain = desc.pmid.slice(0, desc.pmid.indexOf('.'));
    let labels = memo.get(domain);
    if (!labels) memo.set(domain, (labels = pmapi.metricLabels(context, desc)));
    return labels;
  };
}

/** The body of an `/pmapi/indom` reply after its leading fields: labels, help, instances. */
export function indomJson(pmapi: Pmapi, context: PmapiContext, reply: IndomReply, dialect: Dialect): string {
  const labels = pmapi.indomLabels(context, reply.indom);
  let out = `"indom":${dialect.indom(reply.indom)},"labels":${JSON.stringify(labels)}`;
  if (reply.desc) {
    const oneline = JSON.stringify(reply.desc.oneline);
    out += `,"text-oneline":${oneline},"text-help":${reply.desc.help === undefined ? oneline : JSON.stringify(reply.desc.help)}`;
  }
  const instances = reply.instances.map(({ id, name, labels: own }) =>
    `{"instance":${id},"name":${JSON.stringify(name)},"labels":${JSON.stringify(own ? { ...labels, ...own } : labels)}}`,
  );
  return `${out},"instances":[${instances.join(',')}]`;
}

type CommonVerb = (pmapi: Pmapi, context: PmapiContext, params: Params, data: string | undefined) => Promise<string> | string;

/** Verbs whose replies both dialects print alike: what follows `{"context":N`. */
export const commonVerbs: Readonly<Record<string, CommonVerb>> = {
  children: (pmapi, context, params) => {
    const prefix = params.get('prefix') ?? params.get('name') ?? '';
    const children = pmapi.children(context, prefix);
    if (!children) throw new PmapiError('child traversal failed - Unknown metric name', 400, context.id);
    return `,"name":${JSON.stringify(prefix)},"leaf":${JSON.stringify(children.leaf)},"nonleaf":${JSON.stringify(children.nonleaf)}`;
  },
  profile: async (pmapi, context, params) => {
    await pmapi.profile(context, params);
    return ',"success":true';
  },
  store: async (pmapi, context, params, data) => {
    await pmapi.store(context, params, data);
    return ',"success":true';
  },
  derive: (pmapi, context, params, data) => {
    pmapi.derive(context, params, data);
    return ',"success":true';
  },
};
