import type { FastifyRequest } from 'fastify';
import { BadRequest } from './errors.js';

/**
 * Request parameters as pmproxy reads them: `&`-separated, `+` is a space, %-escapes decoded,
 * the FIRST occurrence of a repeated parameter wins, and the order of first appearance is
 * kept (the compat fetch serves names and pmids in request order).
 */
export type Params = Map<string, string>;

/** Every parameter some /pmapi verb reads: a form body made only of these is parameters, not data. */
const KNOWN = new Set([
  'context', 'hostspec', 'hostname', 'polltimeout', 'client', 'exclusive', 'names', 'name', 'pmids', 'pmid',
  'prefix', 'indom', 'instance', 'iname', 'match', 'expr', 'value', 'times', 'delta', 'filter',
]);

export function parseQuery(query: string, into: Params = new Map()): Params {
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (!into.has(key)) into.set(key, decode(eq < 0 ? '' : pair.slice(eq + 1)));
  }
  return into;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new BadRequest(`malformed %-escape in "${text}"`);
  }
}

/** Names in a pmproxy list parameter: split on `,` only (no trimming), empty elements ignored. */
export function listParam(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').filter((s) => s.length > 0);
}

/**
 * Parameters of a request: the query string, then those of a POST body — a form, or a JSON
 * object (arrays become comma lists) — where the query does not already have them. A body
 * that is neither is returned as `data` (a derive configuration or a store value).
 */
export function requestParams(request: FastifyRequest): { params: Params; data?: string } {
  const url = request.url;
  const q = url.indexOf('?');
  const params = parseQuery(q < 0 ? '' : url.slice(q + 1));
  const body = request.body;
  if (body === undefined || body === null || body === '') return { params };
  if (typeof body === 'object') {
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (params.has(key)) continue;
      if (Array.isArray(value)) params.set(key, value.join(','));
      else if (['string', 'number', 'boolean'].includes(typeof value)) params.set(key, String(value));
    }
    return { params };
  }
  const text = String(body);
  // curl --data sends any text as a form: only treat it as one if it holds only parameters
  const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? formParams(text) : undefined;
  if (form) {
    for (const [key, value] of form) if (!params.has(key)) params.set(key, value);
    return { params };
  }
  return { params, data: text };
}

/** The body as form parameters, or undefined when it is data that merely came as a form. */
function formParams(text: string): Params | undefined {
  try {
    const form = parseQuery(text);
    return form.size > 0 && [...form.keys()].every((k) => KNOWN.has(k)) ? form : undefined;
  } catch {
    return undefined;
  }
}
