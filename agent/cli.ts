#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createAgent } from './agent.js';
import { log, setLogLevel, type Level } from './log.js';

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
  --log-level L     debug, info, warn or error (default info)
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
      'log-level': { type: 'string', default: 'info' },
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
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port "${values.port}" is not a TCP port number`);

  const agent = await createAgent({
    procfs: values.procfs,
    sysfs: values.sysfs,
    dockerSocket: values['docker-socket'],
    podmanSocket: values['podman-socket'],
    intervalMs: parseInterval(values.interval),
    historyMs: parseDuration('--history', values.history),
    historyBytes: parseBytes('--history-memory', values['history-memory']),
    collectors: values.collectors?.split(',').filter(Boolean),
  });
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
  log.info('vigil listening', { address: `http://${shown}/`, metrics: agent.table.size, interval: values.interval });

  const shutdown = (signal: string): void => {
    log.info('shutting down', { signal });
    agent.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main(process.argv.slice(2)).catch((error: Error) => {
  log.error(error.message);
  process.exit(2);
});
