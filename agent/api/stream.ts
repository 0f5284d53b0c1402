import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { noContainers, type ContainerScope } from '../containers/scope.js';
import type { MetricTable } from '../metrics/table.js';
import { log } from '../log.js';
import type { Interest } from '../demand.js';
import type { Sampler } from '../sampler.js';
import { Slices } from '../slices.js';
import type { History } from '../store/history.js';
import type { Sample } from '../store/sample.js';
import { historyPlugin } from './history.js';
import { DEFAULT_STREAM_LIMITS, StreamConnection, type StreamLimits, type StreamSocket } from './stream-connection.js';
import { StreamStats } from './stream-stats.js';

export interface StreamOptions {
  table: MetricTable;
  sampler: Sampler;
  history: History;
  containers?: ContainerScope;
  /** Shared with the stream's stats collector; a private one when absent. */
  streamStats?: StreamStats;
  streamLimits?: Partial<StreamLimits>;
  /** Told what subscriptions watch (the agent collects on demand). */
  interest?: Interest;
}

/**
 * Frames larger than this are refused by ws itself (it closes with 1009 and no reason);
 * below it, messages over `limits.messageBytes` get an error message naming the limit.
 */
const HARD_MAX_PAYLOAD = 1024 * 1024;

/** Samples waiting to go out to stream clients while an earlier one still is. */
const MAX_WAITING_SAMPLES = 4;

/**
 * The live stream (docs/STREAM.md): one WebSocket per console at `/stream`, fed from the history
 * as each sample is recorded; and `GET /history` for the same columns over plain HTTP.
 */
export async function streamPlugin(app: FastifyInstance, options: StreamOptions): Promise<void> {
  const limits: StreamLimits = { ...DEFAULT_STREAM_LIMITS, ...options.streamLimits };
  const stats = options.streamStats ?? new StreamStats();
  const { history, sampler } = options;
  const context = {
    table: options.table,
    history,
    scope: options.containers ?? noContainers,
    intervalMs: sampler.intervalMs,
    limits,
    stats,
    latest: () => sampler.latest,
    interest: options.interest,
  };
  const connections = new Set<StreamConnection>();
  let serial = 0;

  await app.register(websocket, {
    options: { maxPayload: HARD_MAX_PAYLOAD },
    // Replaces the plugin's own, which closes clients with no code: 1001 tells them to reconnect later.
    preClose: (done) => {
      for (const connection of connections) connection.close(1001, 'agent shutting down');
      done();
    },
  });

  app.get('/stream', { websocket: true }, (socket: StreamSocket, request) => {
    if (connections.size >= limits.connections) {
      socket.close(1013, `too many stream clients (${limits.connections}); try again later`);
      return;
    }
    const name = `#${++serial} ${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const connection = new StreamConnection(name, socket, context);
    connections.add(connection);
    stats.clients.add(connection);
    socket.on('close', () => {
      connections.delete(connection);
      stats.clients.delete(connection);
    });
  });

  // Samples wait here while the previous one is still going out: a hundred clients take tens of
  // milliseconds, so delivery gives the event loop a turn between clients (API requests due
  // meanwhile wait for one client's messages, not all of them). Bounded: a host too busy to
  // deliver one sample per interval drops the oldest waiting, and clients see a longer interval.
  const waiting: Array<readonly [Sample, number]> = [];
  let delivering = false;
  let dropping = false;
  const deliverOne = (connection: StreamConnection, sample: Sample, seq: number): void => {
    try {
      connection.deliver(sample, seq);
    } catch (error) {
      // A bug must cost this client, not the sampler or the other clients.
      log.error('streaming a sample failed; closing that client (this is a bug in the agent)', { client: connection.name, error });
      connection.close(1011, 'internal error; reconnect');
    }
  };
  const drain = async (): Promise<void> => {
    delivering = true;
    try {
      for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) {
        const [sample, seq] = next;
        const slices = new Slices();
        for (const connection of [...connections]) {
          stats.timed(() => deliverOne(connection, sample, seq));
          await slices.next();
        }
      }
    } finally {
      delivering = false;
    }
  };
  const onRecord = (sample: Sample, seq: number): void => {
    if (connections.size === 0) return;
    waiting.push([sample, seq]);
    if (waiting.length > MAX_WAITING_SAMPLES !== dropping) {
      dropping = !dropping;
      if (dropping) log.warn('stream clients get samples slower than they are taken; skipping the oldest (is the host short of CPU?)', { waiting: waiting.length });
    }
    if (dropping) waiting.splice(0, waiting.length - MAX_WAITING_SAMPLES);
    if (!delivering) void drain();
  };
  history.on('record', onRecord);
  const pinger = setInterval(() => {
    for (const connection of connections) connection.ping();
  }, limits.pingMs);
  pinger.unref();
  app.addHook('onClose', async () => {
    clearInterval(pinger);
    history.off('record', onRecord);
  });

  await app.register(historyPlugin, { table: options.table, history, containers: context.scope, intervalMs: sampler.intervalMs, maxValues: limits.backfillValues, latest: context.latest });
}
