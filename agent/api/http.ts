import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { log } from '../log.js';
import type { PmapiContext } from './contexts.js';
import { BadRequest, errorJson, htmlPage, PmapiError } from './errors.js';
import { requestParams, type Params } from './params.js';
import type { Pmapi } from './pmapi.js';

/**
 * pmproxy's HTTP conventions, shared by every PCP dialect: URL routing with prefix-matched
 * verbs, CORS, the URL length limit, HTML pages for bad requests and unknown URLs (pmproxy
 * never answers 404), and request bodies.
 */

/** Verbs in the order pmproxy tries them: `metrics` before `metric`. */
const VERBS = ['context', 'metrics', 'metric', 'fetch', 'indom', 'profile', 'store', 'derive', 'children'];
const PMAPI_URL = new RegExp(`^/pmapi/(?:(\\d+)/)?(_?)(${VERBS.join('|')})[^?]*`);

/** pmproxy refuses request URLs of this length or more. */
export const MAX_URL_LENGTH = 8192;

/** Allowed in a CORS preflight, whatever the browser asks, so the common request headers pass. */
const ALLOWED_HEADERS = ['Accept', 'Accept-Language', 'Content-Language', 'Content-Type'];

/**
 * The routable form of a /pmapi URL: pmproxy matches the verb as a prefix, so `/pmapi/fetchx`
 * and `/pmapi/12/_fetch/` reach fetch. Other URLs are returned unchanged.
 */
export function canonicalUrl(url: string): string {
  return url.replace(PMAPI_URL, (_all, context: string | undefined, compat: string, verb: string) =>
    `/pmapi/${context === undefined ? '' : `${context}/`}${compat}${verb}`,
  );
}

/** Methods a CORS preflight may ask for on a URL (pmproxy's lists), or undefined for other URLs. */
function preflightMethods(url: string): string | undefined {
  const path = url.split('?')[0]!;
  const m = PMAPI_URL.exec(path);
  if (m) return m[3] === 'derive' || m[3] === 'store' ? 'GET, HEAD, POST, TRACE, OPTIONS' : 'GET, HEAD, TRACE, OPTIONS';
  return path === '/metrics' ? 'GET, HEAD, TRACE, OPTIONS' : undefined;
}

/**
 * Which browser origins may read the answers: pmproxy's `*` when undefined, else only the listed
 * ones, which may then send credentials (a browser never sends them to `*`).
 */
export type CorsOrigins = readonly string[] | undefined;

/** Installs pmproxy's HTTP behaviour on the root instance (hooks apply to every route). */
export function installPmproxyHttp(app: FastifyInstance, cors?: CorsOrigins): void {
  app.addHook('onRequest', async (request, reply) => {
    if ((request.originalUrl ?? request.url).length >= MAX_URL_LENGTH) {
      return reply.code(414).type('text/html').send(
        htmlPage(414, 'unknown', `request URL too long: the limit is ${MAX_URL_LENGTH - 1} bytes; send fewer names per request`),
      );
    }
    const method = request.headers['access-control-request-method'];
    if (request.method === 'OPTIONS' && typeof method === 'string') {
      const allowed = preflightMethods(request.url);
      if (allowed !== undefined) return preflight(request, reply, method, allowed, cors);
    }
    allowOrigin(reply, cors, request.headers.origin);
    reply.header('Access-Control-Allow-Headers', ALLOWED_HEADERS.join(', '));
    reply.header('Access-Control-Max-Age', '86400');
    return undefined;
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(400).type('text/html').send(htmlPage(400, 'unknown', 'no handler for URL'));
  });
}

/**
 * Answers a CORS preflight as pmproxy does (echo the Origin, list the methods, 405 for
 * another method) except that the headers the browser asks for are allowed: Grafana sends
 * X-Grafana-* and Authorization headers, and pmproxy's fixed list makes browsers refuse.
 */
function preflight(request: FastifyRequest, reply: FastifyReply, method: string, allowed: string, cors: CorsOrigins): FastifyReply {
  if (!allowed.split(', ').includes(method.trim().toUpperCase())) return reply.code(405).send();
  const requested = String(request.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h));
  const headers = [...ALLOWED_HEADERS];
  for (const h of requested) if (!headers.some((known) => known.toLowerCase() === h.toLowerCase())) headers.push(h);
  if (cors === undefined) reply.header('Access-Control-Allow-Origin', request.headers.origin ?? '*');
  else allowOrigin(reply, cors, request.headers.origin);
  return reply
    .code(200)
    .header('Access-Control-Allow-Methods', allowed)
    .header('Access-Control-Max-Age', '86400')
    .header('Access-Control-Allow-Headers', headers.join(', '))
    .header('Vary', 'Origin')
    .send();
}

/**
 * Access-Control-Allow-Origin: `*`, or the request's origin when it is on the allow-list, which
 * may then send credentials; another origin gets no CORS headers and the browser hides the answer.
 */
function allowOrigin(reply: FastifyReply, cors: CorsOrigins, origin: string | undefined): void {
  if (cors === undefined) {
    reply.header('Access-Control-Allow-Origin', '*');
    return;
  }
  reply.header('Vary', 'Origin');
  if (origin !== undefined && cors.includes(origin)) {
    reply.header('Access-Control-Allow-Origin', origin).header('Access-Control-Allow-Credentials', 'true');
  }
}

export type VerbHandler = (request: FastifyRequest, reply: FastifyReply, pathContext: string | undefined) => Promise<unknown>;

/**
 * Registers a /pmapi verb at `/pmapi/<verb>` and `/pmapi/<N>/<verb>`, for GET and for POST
 * and PUT (pmproxy answers those like GET, with parameters also in the body). HEAD answers
 * with the headers only and runs nothing, as pmproxy does.
 */
export function pmapiRoute(app: FastifyInstance, verb: string, handler: VerbHandler): void {
  for (const url of [`/pmapi/${verb}`, `/pmapi/:context(^\\d+)/${verb}`]) {
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT'],
      url,
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        if (request.method === 'HEAD') return reply.type('application/json').send('');
        return handler(request, reply, (request.params as { context?: string }).context);
      },
    });
  }
}

/**
 * A /pmapi verb that runs in a context (the one the request names, or a new implicit one) and
 * answers JSON: `run` returns the body, which gets pmproxy's CRLF. An error about a request
 * that had a context names it, as pmproxy's do.
 */
export function contextVerb(
  app: FastifyInstance,
  pmapi: Pmapi,
  verb: string,
  run: (context: PmapiContext, params: Params, data: string | undefined) => Promise<string> | string,
): void {
  pmapiRoute(app, verb, async (request, reply, pathContext) => {
    const { params, data } = requestParams(request);
    const context = pmapi.context(params, pathContext);
    try {
      return reply.type('application/json').send(`${await run(context, params, data)}\r\n`);
    } catch (error) {
      if (error instanceof PmapiError) error.context ??= context.id;
      throw error;
    }
  });
}

/**
 * Request bodies for a dialect plugin's scope: JSON objects (fastify's parser), and any other
 * content as text, which is a form or the data itself (derive configuration, store value).
 */
export function acceptBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (error) {
      done(new BadRequest(`malformed JSON body: ${(error as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));
}

/** Sends an error the way pmproxy does: JSON for operation errors, HTML for bad requests. */
export function sendError(reply: FastifyReply, error: unknown, bodyLimit: number): FastifyReply {
  if (error instanceof PmapiError) return reply.code(error.status).type('application/json').send(errorJson(error));
  if (error instanceof BadRequest) {
    return reply.code(error.status).type('text/html').send(htmlPage(error.status, 'webapi', `failed to process URL: ${error.reason}`));
  }
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply.code(413).type('application/json').send(errorJson(new PmapiError(
      `request body too large: at most ${bodyLimit} bytes are accepted; split derived metric definitions over several requests`, 413,
    )));
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(status).type('application/json').send(errorJson(new PmapiError((error as Error).message, status)));
  }
  log.error('PCP API request failed; the agent keeps serving', { url: reply.request.url, error });
  return reply.code(500).type('application/json').send(errorJson(new PmapiError(`internal error: ${(error as Error).message}`, 500)));
}
