import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { log } from '../log.js';
import { errorJson, PmapiError } from './errors.js';

/**
 * Access control (docs/SECURITY.md): who may call the agent, and which costly operations a
 * caller may start at all. Every secret is kept and compared as its SHA-256 digest, so each
 * comparison is of 32 bytes with timingSafeEqual and its time says nothing about the secret.
 */

/** A bearer token, Basic users, or both. Without credentials the agent asks nobody. */
export interface Credentials {
  /** SHA-256 of the bearer token (`--token-file`). */
  token?: Buffer;
  /** `--basic-auth-file`: SHA-256 of each user name and of its password. */
  users: ReadonlyArray<{ user: Buffer; password: Buffer }>;
}

/** Token characters: safe in an `Authorization: Bearer` header, a WebSocket subprotocol and a URL. */
const TOKEN = /^[A-Za-z0-9._~+-]{16,}$/;
const SHA256_HEX = /^\$sha256\$([0-9a-f]{64})$/;
/** The prefix of the WebSocket subprotocol that carries the token (browsers cannot set headers). */
export const TOKEN_PROTOCOL_PREFIX = 'bearer.';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The token of a `--token-file`: its one line, at least 16 token characters. */
export function parseToken(text: string, file: string): string {
  const token = text.trim();
  if (!TOKEN.test(token)) {
    throw new Error(`--token-file ${file} must hold one token of at least 16 characters from A-Z a-z 0-9 . _ ~ + -; make one with \`openssl rand -hex 32 > ${file}\``);
  }
  return token;
}

/**
 * The users of a `--basic-auth-file`: lines `user:password` or `user:$sha256$<hex>` (the
 * SHA-256 of the password, `printf %s "$password" | sha256sum`); blank lines and `#` comments
 * are skipped.
 */
export function parseBasicAuth(text: string, file: string): Credentials['users'] {
  const users: Array<{ user: Buffer; password: Buffer }> = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const where = `--basic-auth-file ${file} line ${index + 1}`;
    if (colon < 1 || colon === line.length - 1) throw new Error(`${where} is not "user:password" or "user:$sha256$<hex>"`);
    const secret = line.slice(colon + 1);
    const hashed = SHA256_HEX.exec(secret);
    if (secret.startsWith('$sha256$') && !hashed) throw new Error(`${where}: after $sha256$ put the 64 lowercase hex digits of \`printf %s PASSWORD | sha256sum\``);
    users.push({ user: sha256(line.slice(0, colon)), password: hashed ? Buffer.from(hashed[1]!, 'hex') : sha256(secret) });
  });
  if (users.length === 0) throw new Error(`--basic-auth-file ${file} names no user; add lines "user:password"`);
  return users;
}

/** Reads the files behind `--token-file` and `--basic-auth-file`; undefined when neither is given. */
export function readCredentials(files: { tokenFile?: string; basicAuthFile?: string }): Credentials | undefined {
  if (files.tokenFile === undefined && files.basicAuthFile === undefined) return undefined;
  const read = (flag: string, file: string): string => {
    // Secrets readable by other local users are not secret: say so, but serve (the operator decides).
    if ((statSync(file).mode & 0o077) !== 0) log.warn(`${flag} ${file} is readable by other users; chmod 600 it`);
    return readFileSync(file, 'utf8');
  };
  return {
    token: files.tokenFile === undefined ? undefined : sha256(parseToken(read('--token-file', files.tokenFile), files.tokenFile)),
    users: files.basicAuthFile === undefined ? [] : parseBasicAuth(read('--basic-auth-file', files.basicAuthFile), files.basicAuthFile),
  };
}

/** What a request presented, in the places clients put it. */
export interface Presented {
  authorization?: string;
  /** `Sec-WebSocket-Protocol`: a browser's only header on a WebSocket handshake. */
  protocols?: string;
  /** The `access_token` query parameter (RFC 6750), for links and EventSource-like clients. */
  accessToken?: string | null;
}

/**
 * Whether the request carries valid credentials: the token (as Bearer, as the password of any
 * Basic user name — grafana-pcp only sends Basic —, as a `bearer.<token>` subprotocol or as
 * `access_token`), or a Basic user's name and password. Every candidate is compared, with no
 * early exit, so the time taken does not tell which part matched.
 */
export function authorized(credentials: Credentials, presented: Presented): boolean {
  const tokens: string[] = [];
  let basic: { user: string; password: string } | undefined;
  const [scheme, value] = (presented.authorization ?? '').trim().split(/\s+/, 2);
  if (/^bearer$/i.test(scheme ?? '') && value) tokens.push(value);
  if (/^basic$/i.test(scheme ?? '') && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      basic = { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      tokens.push(basic.password);
    }
  }
  for (const protocol of (presented.protocols ?? '').split(',')) {
    const p = protocol.trim();
    if (p.startsWith(TOKEN_PROTOCOL_PREFIX)) tokens.push(p.slice(TOKEN_PROTOCOL_PREFIX.length));
  }
  if (presented.accessToken) tokens.push(presented.accessToken);

  let ok = false;
  if (credentials.token) for (const token of tokens) ok = timingSafeEqual(sha256(token), credentials.token) || ok;
  if (basic) {
    const user = sha256(basic.user);
    const password = sha256(basic.password);
    for (const entry of credentials.users) {
      const match = Number(timingSafeEqual(user, entry.user)) & Number(timingSafeEqual(password, entry.password));
      ok = match === 1 || ok;
    }
  }
  return ok;
}

function presentedBy(request: FastifyRequest): Presented {
  const q = request.url.indexOf('?');
  const protocols = request.headers['sec-websocket-protocol'];
  return {
    authorization: request.headers.authorization,
    protocols: Array.isArray(protocols) ? protocols.join(',') : protocols,
    accessToken: q < 0 ? undefined : new URLSearchParams(request.url.slice(q + 1)).get('access_token'),
  };
}

/**
 * Demands credentials on every route — REST, the WebSocket handshake (fastify routes it through
 * the same hooks) and the console's files — except `openPaths` and CORS preflights, which
 * browsers send without credentials. A refusal is pmproxy's: 401 with a Basic challenge (a
 * browser then asks for a user and password) and a JSON error body.
 */
export function requireCredentials(app: FastifyInstance, credentials: Credentials, openPaths: readonly string[]): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) return undefined;
    if (openPaths.includes(request.url.split('?')[0]!)) return undefined;
    if (authorized(credentials, presentedBy(request))) return undefined;
    const what = request.headers.authorization === undefined ? 'credentials are required' : 'the credentials sent are not valid';
    return reply
      .code(401)
      .header('WWW-Authenticate', 'Basic realm="pmapi"')
      .type('application/json')
      .send(errorJson(new PmapiError(`${what}: send "Authorization: Bearer <token>" or Basic user:password (docs/SECURITY.md)`, 401)));
  });
}

/** `--no-profiling`: the profiling routes answer 403 and start nothing. */
export async function profilingDisabledPlugin(app: FastifyInstance): Promise<void> {
  const refuse = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(403).send({ error: 'profiling is disabled on this agent (it was started with --no-profiling); restart it without that flag to profile' });
  for (const url of ['/profile', '/profile/*', '/flamegraphs/*']) app.all(url, refuse);
}

/** Loopback addresses and `localhost`: the only listening addresses that need no protection. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}
