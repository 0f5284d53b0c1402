#!/usr/bin/env -S node --max-semi-space-size=4
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isLoopback, readCredentials, type Credentials } from './api/auth.js';
import type { CorsOrigins } from './api/http.js';
import { log, setLogFormat, setLogLevel, type Level, type LogFormat } from './log.js';
import { tuneV8 } from './v8-settings.js';

const HELP = `vigil — per-host container performance agent speaking the PCP web API

Usage: vigil [options]

  --port N          TCP port for the HTTP API, stream and console (default 44322,
                    pmproxy's, so grafana-pcp, Vector and pmproxy scripts work unchanged)
  --host ADDR       address to listen on (default 127.0.0.1: loopback only)
  --procfs DIR      where procfs is mounted (default /proc); point it at the host's
                    /proc mounted into a container, or at a fixture tree in tests
  --sysfs DIR       where sysfs is mounted (default /sys); cgroup hierarchies are found
                    through <procfs>/self/mountinfo and looked up under this root
  --docker-socket P Docker Engine API socket for container names and events
                    (default /var/run/docker.sock)
  --podman-socket P podman's docker-compatible API socket (default /run/podman/podman.sock)
  --interval T      sampling interval: 1s, 500ms, 2s (default 1s)
  --history T       how far back the in-memory history behind /stream and /history
                    reaches: 15m, 1h; 0 keeps only the latest sample (default 15m)
  --history-memory B  memory budget of that history; the oldest data goes first when
                    it is reached: 64MiB, 512KiB, 1GiB (default 64MiB)
  --collectors L    comma-separated collectors to run (default: all)
  --collect M       demand: read only what clients watch, plus the console's main
                    view (cheap on busy hosts); all: every metric every pass, so
                    history holds everything (default demand)
  --token-file F    require this bearer token (the file's one line) on every request
                    but /health; see docs/SECURITY.md for browsers and WebSockets
  --basic-auth-file F  accept these HTTP Basic users: lines user:password or
                    user:$sha256$<hex of sha256(password)>
  --insecure        allow a non-loopback --host without --token-file/--basic-auth-file
  --tls-cert F      serve HTTPS with this PEM certificate (needs --tls-key)
  --tls-key F       the PEM private key of --tls-cert
  --cors-origin L   comma-separated browser origins allowed to read answers and send
                    credentials (default *, as pmproxy, on loopback or with --insecure;
                    none but the agent's own beyond loopback with credentials)
  --no-profiling    refuse /profile and Vector flame graphs (403): perf costs the host
  --max-contexts N  pmapi contexts alive at once (default 1000)
  --max-derived N   derived metrics per pmapi context (default 100)
  --log-level L     debug, info, warn or error (default info)
  --log-format F    text (for people) or json (one object per line) (default text)
  -h, --help        show this help and exit

Example: curl 'http://127.0.0.1:44322/pmapi/fetch?names=kernel.all.load'
`;

/** A duration in milliseconds: `500ms`, `1s`, `15m`, `1h`; a bare number is seconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`${flag} "${text}" is not a duration; use e.g. 500ms, 1s, 15m or 1h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
}

export function parseInterval(text: string): number {
  const ms = parseDuration('--interval', text);
  if (ms < 100 || ms > 3_600_000) throw new Error(`--interval ${text} is out of range; use 100ms to 1h`);
  return ms;
}

/** A size in bytes: `64MiB`, `512KiB`, `1GiB`, or a bare number of bytes. */
export function parseBytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(B|KiB|MiB|GiB)?$/.exec(text.trim());
  if (!m) throw new Error(`${flag} "${text}" is not a size; use e.g. 64MiB, 512KiB or 1GiB`);
  return Math.round(Number(m[1]) * { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] ?? 'B']!);
}

function parseCount(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} "${text}" is not a positive whole number`);
  return n;
}

/** `--cors-origin`: `*`, or origins as browsers send them (`https://grafana.example:3000`, no path). */
export function parseCorsOrigins(text: string): CorsOrigins {
  const origins = text.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.includes('*')) return undefined;
  for (const origin of origins) {
    let parsed: string | undefined;
    try {
      parsed = new URL(origin).origin;
    } catch {
      // reported below
    }
    if (parsed !== origin) throw new Error(`--cors-origin "${origin}" is not an origin; write scheme://host[:port] with no path or trailing slash, e.g. https://grafana.example.com`);
  }
  return origins;
}

/** How long a graceful shutdown may take before the agent exits anyway. */
const SHUTDOWN_MS = 5000;

/**
 * The access policy for the address the agent listens on: refuses to expose the host's metrics
 * and profiler beyond loopback by accident, and never lets browsers send credentials to `*`.
 */
function accessPolicy(
  host: string,
  credentials: Credentials | undefined,
  insecure: boolean,
  corsFlag: string | undefined,
): CorsOrigins {
  const cors = corsFlag === undefined ? undefined : parseCorsOrigins(corsFlag);
  if (isLoopback(host)) return cors;
  if (!credentials && !insecure) {
    throw new Error(
      `refusing to listen on ${host} without access control: anyone who can reach it could read this host's metrics and profile it. ` +
        `Add --token-file FILE (or --basic-auth-file FILE), or --insecure to serve it unprotected on purpose`,
    );
  }
  if (!credentials) return cors;
  if (corsFlag !== undefined && cors === undefined) {
    throw new Error(`--cors-origin * cannot be combined with credentials beyond loopback: browsers must not send credentials to every site; list the origins, e.g. --cors-origin https://grafana.example.com`);
  }
  return cors ?? [];
}

function describeCredentials(credentials: Credentials | undefined): string {
  if (!credentials) return 'none';
  const users = credentials.users.length;
  return [credentials.token ? 'bearer token' : '', users ? `basic (${users} user${users > 1 ? 's' : ''})` : ''].filter(Boolean).join(' + ');
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`${flag} ${file}: ${(error as Error).message}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '44322' },
      host: { type: 'string', default: '127.0.0.1' },
      procfs: { type: 'string', default: '/proc' },
      sysfs: { type: 'string', default: '/sys' },
      'docker-socket': { type: 'string' },
      'podman-socket': { type: 'string' },
      interval: { type: 'string', default: '1s' },
      history: { type: 'string', default: '15m' },
      'history-memory': { type: 'string', default: '64MiB' },
      collectors: { type: 'string' },
      collect: { type: 'string', default: 'demand' },
      'token-file': { type: 'string' },
      'basic-auth-file': { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'cors-origin': { type: 'string' },
      'no-profiling': { type: 'boolean', default: false },
      'max-contexts': { type: 'string' },
      'max-derived': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'log-format': { type: 'string', default: 'text' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const level = values['log-level'] as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error(`--log-level "${level}" is not one of debug, info, warn, error`);
  setLogLevel(level);
  const logFormat = values['log-format'] as LogFormat;
  if (!['text', 'json'].includes(logFormat)) throw new Error(`--log-format "${logFormat}" is not text or json`);
  setLogFormat(logFormat);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port "${values.port}" is not a TCP port number`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new Error('--tls-cert and --tls-key go together: give both, or neither for plain HTTP');
  const tls = values['tls-cert'] && values['tls-key'] ? { cert: readPem('--tls-cert', values['tls-cert']), key: readPem('--tls-key', values['tls-key']) } : undefined;
  const credentials = readCredentials({ tokenFile: values['token-file'], basicAuthFile: values['basic-auth-file'] });
  const corsOrigins = accessPolicy(values.host, credentials, values.insecure, values['cors-origin']);
  const profiling = !values['no-profiling'];
  const maxContexts = parseCount('--max-contexts', values['max-contexts']);
  const maxDerived = parseCount('--max-derived', values['max-derived']);
  const collect = values.collect;
  if (collect !== 'demand' && collect !== 'all') throw new Error(`--collect "${collect}" is not demand or all`);

  tuneV8();
  // Imported only now: loading the agent's modules allocates enough to grow the young
  // generation, which tuneV8 must come before.
  const { createAgent } = await import('./agent.js');
  const agent = await createAgent({
    procfs: values.procfs,
    sysfs: values.sysfs,
    dockerSocket: values['docker-socket'],
    podmanSocket: values['podman-socket'],
    intervalMs: parseInterval(values.interval),
    historyMs: parseDuration('--history', values.history),
    historyBytes: parseBytes('--history-memory', values['history-memory']),
    collectors: values.collectors?.split(',').filter(Boolean),
    collect,
    access: {
      tls,
      credentials,
      corsOrigins,
      profiling,
      limits: { ...(maxContexts && { contexts: maxContexts }), ...(maxDerived && { derivedPerContext: maxDerived }) },
    },
  });
  // Handled before listening: whoever sees the agent listening may already stop it.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn('second signal: exiting now without finishing requests', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal });
    // A client that never answers the WebSocket close handshake must not hold the agent up.
    setTimeout(() => {
      log.warn(`shutdown took over ${SHUTDOWN_MS / 1000} s; exiting without waiting for the rest`);
      process.exit(0);
    }, SHUTDOWN_MS).unref();
    agent.close().then(
      () => process.exit(0),
      (error: Error) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  agent.sampler.start();
  try {
    await agent.app.listen({ port, host: values.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? ` (is pmproxy or another vigil running? choose another --port)` : '';
    throw new Error(`cannot listen on ${values.host}:${port}: ${(error as Error).message}${hint}`);
  }
  const address = agent.app.server.address();
  const shown = typeof address === 'object' && address ? `${address.address}:${address.port}` : `${values.host}:${port}`;
  log.info('vigil listening', { address: `${tls ? 'https' : 'http'}://${shown}/`, metrics: agent.table.size, interval: values.interval });
  log.info('access', {
    reach: isLoopback(values.host) ? 'this host only (loopback)' : `the network (${values.host})`,
    credentials: describeCredentials(credentials),
    tls: tls ? 'on' : 'off',
    cors: corsOrigins === undefined ? '*' : corsOrigins.join(',') || 'same origin only',
    profiling: profiling ? 'on' : 'off',
  });
  if (!isLoopback(values.host) && !credentials) log.warn('serving without credentials beyond loopback (--insecure): anyone who can reach this port can read every metric' + (profiling ? ' and profile this host; add --no-profiling to stop that' : ''));
  if (!isLoopback(values.host) && credentials && !tls) log.warn('credentials and metrics cross the network in clear text; add --tls-cert and --tls-key');
}

main(process.argv.slice(2)).catch((error: Error) => {
  log.error(error.message);
  process.exit(2);
});
