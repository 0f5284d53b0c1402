import type { ContainerScope } from '../containers/scope.js';
import { log } from '../log.js';
import type { MetricTable } from '../metrics/table.js';
import { historyTime, type History } from '../store/history.js';
import type { Sample } from '../store/sample.js';
import { RequestError, Selection } from './stream-selection.js';
import type { ClientGauge, StreamStats } from './stream-stats.js';
import { Subscription } from './stream-subscription.js';
import { PROTOCOL_VERSION, errorJson } from './stream-wire.js';
import type { Interest } from '../demand.js';

export interface StreamLimits {
  /** Connected clients; one more is closed with 1013. */
  connections: number;
  /** Subscriptions per client. */
  subscriptions: number;
  /** Largest client message, bytes. */
  messageBytes: number;
  /** Most values (series × times) in one back-fill; older times are cut to fit. */
  backfillValues: number;
  /** Above this many unsent bytes a client is behind: samples are skipped and a gap announced. */
  highWaterBytes: number;
  /** Above this many unsent bytes a client is closed (1008). */
  maxBufferedBytes: number;
  /** A client behind for longer than this is closed (1013). */
  maxBehindMs: number;
  /** Ping period; a client that has not answered the previous ping is terminated. */
  pingMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  connections: 256,
  subscriptions: 64,
  messageBytes: 64 * 1024,
  backfillValues: 250_000,
  highWaterBytes: 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxBehindMs: 30_000,
  pingMs: 15_000,
};

/** The part of a `ws` WebSocket the stream uses (the ws package ships no type declarations). */
export interface StreamSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  on(event: 'pong', listener: () => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

const OPEN = 1;

/** What every connection shares. */
export interface StreamContext {
  table: MetricTable;
  history: History;
  scope: ContainerScope;
  intervalMs: number;
  limits: StreamLimits;
  stats: StreamStats;
  /** The latest sample, for resolving container selectors at subscribe time. */
  latest(): Sample | undefined;
  /** Told what each subscription watches, so the agent collects it. */
  interest?: Interest;
}

/** One /stream client: its subscriptions, its backlog state and its liveness. */
export class StreamConnection implements ClientGauge {
  private readonly subs = new Map<string, Subscription>();
  dropped = 0n;
  private alive = true;
  private closing = false;
  /** While behind: the first and last skipped sample times and how many were skipped. */
  private behind: { from: number; to: number; samples: number } | undefined;

  constructor(
    readonly name: string,
    private readonly socket: StreamSocket,
    private readonly context: StreamContext,
  ) {
    const { limits, history, intervalMs } = context;
    socket.on('message', (data, isBinary) => context.stats.timed(() => this.onMessage(data, isBinary)));
    socket.on('pong', () => (this.alive = true));
    socket.on('error', (error) => log.debug('stream client connection error', { client: name, error }));
    socket.on('close', () => {
      for (const subscription of this.subs.values()) context.interest?.release(subscription);
    });
    this.send(
      `{"v":${PROTOCOL_VERSION},"type":"hello","interval":${intervalMs},"history":${history.retentionMs},` +
        `"limits":{"subscriptions":${limits.subscriptions},"messageBytes":${limits.messageBytes},"backfillValues":${limits.backfillValues}}}`,
    );
  }

  get buffered(): number {
    return this.socket.bufferedAmount;
  }

  get subscriptions(): number {
    return this.subs.size;
  }

  /** Sends what a sample means for this client's due subscriptions, unless the client is behind. */
  deliver(sample: Sample, seq: number): void {
    if (this.closing || this.socket.readyState !== OPEN) return;
    const due = [...this.subs.values()].filter((s) => s.due(seq));
    if (due.length === 0) return;
    const { limits, stats } = this.context;
    const buffered = this.socket.bufferedAmount;
    if (buffered > limits.maxBufferedBytes) {
      this.closeSlow(1008, `too slow: ${mib(buffered)} MiB unsent (limit ${mib(limits.maxBufferedBytes)}); reconnect`);
      return;
    }
    const time = historyTime(sample.time);
    if (buffered > limits.highWaterBytes) {
      // Coalesce: skip this sample; the client hears of the gap once it has caught up.
      this.behind ??= { from: time, to: time, samples: 0 };
      this.behind.to = time;
      this.behind.samples++;
      this.dropped++;
      stats.dropped++;
      if (time - this.behind.from > limits.maxBehindMs) {
        this.closeSlow(1013, `too slow: behind for over ${Math.round(limits.maxBehindMs / 1000)} s; reconnect`);
      }
      return;
    }
    if (this.behind) {
      const { from, to, samples } = this.behind;
      this.send(`{"v":${PROTOCOL_VERSION},"type":"gap","from":${from},"to":${to},"samples":${samples}}`);
      this.behind = undefined;
    }
    for (const subscription of due) for (const message of subscription.onSample(sample, seq)) this.send(message);
  }

  /** Called every ping period: a client that did not answer the last ping is gone. */
  ping(): void {
    if (this.socket.readyState !== OPEN) return;
    if (!this.alive) {
      log.info('stream client did not answer a ping; disconnecting it', { client: this.name });
      this.context.stats.closed++;
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    // Once the agent has decided to close, requests still in flight are moot (and would close it again).
    if (this.closing) return;
    const { limits } = this.context;
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (bytes.length > limits.messageBytes) {
      this.send(errorJson('message-too-large', `a message of ${bytes.length} bytes exceeds the ${limits.messageBytes}-byte limit; subscribe to prefixes rather than long name lists`));
      return;
    }
    if (isBinary) {
      this.send(errorJson('bad-request', 'binary messages are not understood; send JSON text'));
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      this.send(errorJson('bad-json', `the message is not JSON: ${(error as Error).message}`));
      return;
    }
    const id = isObject(message) && typeof message.id === 'string' ? message.id : undefined;
    try {
      this.handle(message);
    } catch (error) {
      if (error instanceof RequestError) {
        this.send(errorJson(error.code, error.message, id));
        return;
      }
      // A bug must cost this request, not the agent.
      log.error('stream request failed; this is a bug in the agent', { client: this.name, error });
      this.send(errorJson('internal-error', `the agent failed to handle this message: ${(error as Error).message}`, id));
    }
  }

  private handle(message: unknown): void {
    if (!isObject(message)) throw new RequestError('bad-request', 'a message is a JSON object {"v":1,"type":…}');
    if (message.v !== PROTOCOL_VERSION) {
      throw new RequestError('unsupported-version', `this agent speaks stream protocol version ${PROTOCOL_VERSION}; send "v":${PROTOCOL_VERSION}`);
    }
    switch (message.type) {
      case 'subscribe':
        return this.subscribe(message);
      case 'unsubscribe': {
        const id = subscriptionId(message.id);
        const subscription = this.subs.get(id);
        if (subscription) this.context.interest?.release(subscription);
        if (!this.subs.delete(id)) throw new RequestError('unknown-subscription', `no subscription has id ${JSON.stringify(id)}`);
        this.send(`{"v":${PROTOCOL_VERSION},"type":"unsubscribed","id":${JSON.stringify(id)}}`);
        return;
      }
      default:
        throw new RequestError('unknown-type', `unknown message type ${JSON.stringify(message.type)}; use subscribe or unsubscribe`);
    }
  }

  private subscribe(message: Record<string, unknown>): void {
    const { table, history, scope, intervalMs, limits } = this.context;
    const id = subscriptionId(message.id);
    if (!this.subs.has(id) && this.subs.size >= limits.subscriptions) {
      throw new RequestError('too-many-subscriptions', `this connection already has ${limits.subscriptions} subscriptions, the limit; unsubscribe one or reuse its id`);
    }
    const every = message.every ?? 1;
    if (!Number.isInteger(every) || (every as number) < 1 || (every as number) > 3600) {
      throw new RequestError('bad-request', '"every" must be an integer from 1 to 3600 (a multiple of the agent\'s interval)');
    }
    const rate = message.rate ?? false;
    if (typeof rate !== 'boolean') throw new RequestError('bad-request', '"rate" must be true or false');
    const backfill = message.history ?? history.retentionMs;
    if (typeof backfill !== 'number' || !(backfill >= 0)) throw new RequestError('bad-request', '"history" must be a number of milliseconds ≥ 0');
    const selection = Selection.resolve(
      table,
      { metrics: stringList(message.metrics, 'metrics', true)!, instances: stringList(message.instances, 'instances'), containers: stringList(message.containers, 'containers') },
      scope,
      this.context.latest(),
    );
    // A back-fill is a large message: a client that is already far behind gets none.
    if (this.socket.bufferedAmount > limits.maxBufferedBytes) {
      this.closeSlow(1008, `too slow: ${mib(this.socket.bufferedAmount)} MiB unsent; reconnect`);
      return;
    }
    const subscription = new Subscription({ id, selection, every: every as number, rate, intervalMs, scope });
    const replaced = this.subs.get(id);
    if (replaced) this.context.interest?.release(replaced);
    this.subs.set(id, subscription);
    this.context.interest?.hold(subscription, selection.metrics.map((m) => m.name));
    this.send(subscription.subscribed(history, backfill, limits.backfillValues));
  }

  private send(text: string): void {
    this.socket.send(text);
    this.context.stats.sent += BigInt(Buffer.byteLength(text));
  }

  /** Closes the connection; the client sees `code` and `reason` (at most 123 bytes). */
  close(code: number, reason: string): void {
    this.closing = true;
    this.socket.close(code, reason);
  }

  private closeSlow(code: number, reason: string): void {
    log.info('closing a stream client that does not keep up', { client: this.name, reason });
    this.context.stats.closed++;
    this.close(code, reason);
  }
}

function subscriptionId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new RequestError('bad-request', '"id" must be a string of 1 to 64 characters naming the subscription');
  }
  return value;
}

function stringList(value: unknown, field: string, required = false): string[] | undefined {
  if (value === undefined && !required) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string') || (required && value.length === 0)) {
    throw new RequestError('bad-request', `"${field}" must be ${required ? 'a non-empty' : 'an'} array of strings`);
  }
  return value as string[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
