import { reconnectDelay } from './backoff.js';
import { Catalog, HostData, SINGULAR, type Labels, type MetricMeta, type Series, type StoreOptions } from './host-data.js';
import type { RawValue } from './rate.js';

/**
 * One agent, over one WebSocket (`/stream`, docs/STREAM.md) plus its REST API for the metric
 * catalogue and instance labels. This is the only module that knows the wire format: the rest
 * of the console sees a Catalog and HostData stores, one per subscription.
 *
 * Stream protocol v1 as the agent speaks it: the agent says `hello` (interval, history kept);
 * the client sends `subscribe` {id, metrics, containers?, history}; the agent answers
 * `subscribed` with metadata, instance names, the series list ([metric index, instance id]) and
 * the back-fill in columns, then per sample `sample` {t, values in series-list order}, preceded
 * by `instances` when series came or went. `gap` says samples were skipped; `error` says what
 * was wrong with a request. 64-bit integers are decimal strings.
 */

export type ConnState =
  /** Opening the socket or waiting for the first data. */
  | 'connecting'
  /** Samples are arriving. */
  | 'live'
  /** No answer, or the connection broke; retrying with backoff. */
  | 'unreachable'
  /** The agent wants credentials (HTTP 401/403). */
  | 'auth'
  /** The agent answered but not in a way this console understands (old agent, not an agent). */
  | 'incompatible'
  | 'closed';

export const PROTOCOL_VERSION = 1;

/** What a view asks an agent for. */
export interface SubscriptionSpec {
  /** Metric names or PMNS prefixes; names the agent does not serve are left out (see `missing`). */
  metrics: readonly string[];
  /** Restrict cgroup.* and containers.* instances to these containers (name, id or label k=v). */
  containers?: readonly string[];
  /** Only these instance names (singular metrics are unaffected). */
  instances?: readonly string[];
  /** Which metrics keep a ring of values (the rest keep their newest value only). */
  keep?: (metric: string) => boolean;
}

/** The slice of the browser's WebSocket this module uses (the `ws` package provides it in tests). */
export interface SocketLike {
  readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface ConnectionOptions {
  /** The console's time window, seconds: stores keep at least this much. */
  windowSeconds: number;
  WebSocket?: new (url: string) => SocketLike;
  fetch?: typeof fetch;
  /** Called after every change (a sample, a state change); the app schedules a render. */
  onChange?: () => void;
  /** Milliseconds before an attempt with no `hello` counts as unreachable. */
  openTimeoutMs?: number;
}

interface Subscription {
  spec: SubscriptionSpec;
  store: HostData;
  /** Metric indices of the agent's `subscribed` message → names. */
  metrics: string[];
  /** The series list: where each value of a `sample` goes. */
  list: Series[];
  /** Requested names the agent does not serve. */
  missing: string[];
  /** The agent confirmed it (`subscribed` arrived). */
  ready: boolean;
  error?: string;
}

const OPEN = 1;

/** Most history a store keeps beyond the console's window (per series: 900 samples at 1 s). */
const KEEP_MS = 15 * 60_000;

/** `http://h:p/x` → `ws://h:p/x/stream`. */
export function streamUrl(agentUrl: string): string {
  return `${agentUrl.replace(/^http/, 'ws')}/stream`;
}

type Message = Record<string, unknown>;

const isObject = (v: unknown): v is Message => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A metric descriptor from the stream or /pmapi/metric (the same field names). */
export function metaFromJson(m: Message): MetricMeta | undefined {
  if (typeof m.name !== 'string' || typeof m.type !== 'string') return undefined;
  return {
    name: m.name,
    pmid: String(m.pmid ?? ''),
    indom: typeof m.indom === 'string' ? m.indom : null,
    type: m.type,
    sem: String(m.sem ?? 'instant'),
    units: String(m.units ?? 'none'),
    oneline: String(m['text-oneline'] ?? ''),
    help: String(m['text-help'] ?? m['text-oneline'] ?? ''),
  };
}

/** `[metric index, instance id | null]` → the series it names. */
function seriesRef(ref: unknown, metrics: readonly string[]): { metric: string; instance: number } | undefined {
  if (!Array.isArray(ref) || typeof ref[0] !== 'number') return undefined;
  const metric = metrics[ref[0]];
  if (metric === undefined) return undefined;
  return { metric, instance: typeof ref[1] === 'number' ? ref[1] : SINGULAR };
}

export class AgentConnection {
  readonly catalog = new Catalog();
  state: ConnState = 'connecting';
  /** Why the state is what it is, in words for the user. */
  detail = '';
  hostname = '';
  /** What the console calls this agent: its hostname, with the port when two agents share one. */
  label = '';
  intervalMs = 1000;
  /** How much history the agent keeps, ms. */
  historyMs = 0;
  /** Receive time minus sample time of the latest sample (network, agent work and clock skew), ms. */
  lagMs = NaN;
  /** When the latest message arrived (browser clock, ms). */
  lastMessageAt = 0;
  /** Whether the full catalogue (/pmapi/metric) was loaded: every metric the agent serves is known. */
  catalogLoaded = false;
  private socket?: SocketLike;
  private readonly subs = new Map<string, Subscription>();
  /** Names the agent said it does not serve. */
  private readonly unknown = new Set<string>();
  private attempt = 0;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private openTimer?: ReturnType<typeof setTimeout>;
  private labelsTimer?: ReturnType<typeof setTimeout>;
  private closed = false;
  private readonly fetchImpl: typeof fetch;
  private readonly SocketImpl: new (url: string) => SocketLike;

  constructor(
    readonly url: string,
    private readonly options: ConnectionOptions,
  ) {
    this.fetchImpl = options.fetch ?? fetch.bind(globalThis);
    this.SocketImpl = options.WebSocket ?? (globalThis.WebSocket as unknown as new (url: string) => SocketLike);
  }

  /** Connects (and keeps reconnecting until `close`). */
  start(): void {
    this.closed = false;
    void this.loadCatalog();
    this.open();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.openTimer);
    clearTimeout(this.labelsTimer);
    this.socket?.close(1000, 'console closed');
    this.socket = undefined;
    this.setState('closed', '');
  }

  /** The store of a subscription (a new one when the subscription changes; views ask each time). */
  store(id: string): HostData | undefined {
    return this.subs.get(id)?.store;
  }

  /** Ids of the current subscriptions. */
  subscriptionIds(): string[] {
    return [...this.subs.keys()];
  }

  /** Names a subscription asked for that this agent does not serve. */
  missing(id: string): readonly string[] {
    return this.subs.get(id)?.missing ?? [];
  }

  subscriptionError(id: string): string | undefined {
    return this.subs.get(id)?.error;
  }

  /** Whether the agent has sent the subscription's back-fill. */
  ready(id: string): boolean {
    return this.subs.get(id)?.ready ?? false;
  }

  /**
   * Creates or replaces a subscription. Replacing with the same metrics is a no-op; otherwise
   * the agent sends a fresh back-fill, so the store is full again at once.
   */
  subscribe(id: string, spec: SubscriptionSpec): HostData {
    const existing = this.subs.get(id);
    if (existing && sameSpec(existing.spec, spec)) return existing.store;
    // A new store: which metrics keep rings may have changed, and the back-fill refills it anyway.
    const store = new HostData(this.catalog, this.storeOptions(spec));
    this.subs.set(id, { spec, store, metrics: [], list: [], missing: [], ready: false });
    this.sendSubscribe(id);
    return store;
  }

  unsubscribe(id: string): void {
    if (!this.subs.delete(id)) return;
    this.send({ v: PROTOCOL_VERSION, type: 'unsubscribe', id });
  }

  /** The console's window changed: stores keep at least that much. */
  setWindow(seconds: number): void {
    this.options.windowSeconds = seconds;
    for (const sub of this.subs.values()) sub.store.resize(this.capacity());
  }

  /**
   * What a store keeps: the console's window, or what the agent keeps (up to KEEP_MS) if that is
   * more, so a paused console can scroll back through the agent's history.
   */
  private keepMs(): number {
    return Math.max(this.options.windowSeconds * 1000, Math.min(this.historyMs, KEEP_MS));
  }

  private capacity(): number {
    return Math.max(10, Math.ceil(this.keepMs() / this.intervalMs) + 1);
  }

  private storeOptions(spec: SubscriptionSpec): StoreOptions {
    // A missed sample already makes a gap (as the agent's own rates do).
    return { capacity: this.capacity(), maxGapMs: this.intervalMs * 1.5, keep: spec.keep };
  }

  private open(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    let socket: SocketLike;
    try {
      socket = new this.SocketImpl(streamUrl(this.url));
    } catch (error) {
      this.setState('unreachable', `cannot open ${streamUrl(this.url)}: ${(error as Error).message}`);
      this.retry();
      return;
    }
    this.socket = socket;
    // Retries keep the state the user saw (unreachable, needs login) rather than flicker to "connecting".
    if (this.attempt === 0 && this.state !== 'auth') this.setState('connecting', '');
    this.openTimer = setTimeout(() => {
      if (this.socket === socket && this.state === 'connecting') socket.close(4000, 'no hello in time');
    }, this.options.openTimeoutMs ?? 10_000);
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.lastMessageAt = Date.now();
      try {
        this.handle(JSON.parse(String(event.data)));
      } catch (error) {
        this.detail = `bad message from the agent: ${(error as Error).message}`;
      }
      this.options.onChange?.();
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      clearTimeout(this.openTimer);
      this.socket = undefined;
      for (const sub of this.subs.values()) sub.ready = false;
      if (this.closed) return;
      void this.diagnose(event.code, event.reason);
    };
    socket.onerror = () => {
      // The close event follows with the details the browser lets us see.
    };
  }

  /**
   * A WebSocket failure tells the page nothing (no status code), so ask the REST API what is
   * wrong: unreachable, credentials needed, or not a Vigil agent.
   */
  private async diagnose(code: number, reason: string): Promise<void> {
    let state: ConnState = 'unreachable';
    let detail = reason ? `connection closed: ${reason} (${code})` : `cannot reach ${this.url}`;
    try {
      const response = await this.fetchImpl(`${this.url}/pmapi/metric?names=pmcd.hostname`, { cache: 'no-store' });
      if (response.status === 401 || response.status === 403) {
        state = 'auth';
        detail = `${this.url} wants credentials (HTTP ${response.status}); open it in this browser once to log in, then it reconnects`;
      } else if (response.ok && code === 1006 && !reason) {
        state = 'incompatible';
        detail = `${this.url} answers HTTP but has no /stream: is it a Vigil agent (pmproxy has no stream)?`;
      }
    } catch {
      // Unreachable it is.
    }
    this.setState(state, detail);
    this.retry();
  }

  private retry(): void {
    if (this.closed) return;
    const delay = reconnectDelay(this.attempt++);
    this.detail += ` — retrying in ${Math.round(delay / 1000)} s`;
    this.options.onChange?.();
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private setState(state: ConnState, detail: string): void {
    this.state = state;
    this.detail = detail;
    this.options.onChange?.();
  }

  private send(message: Message): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private sendSubscribe(id: string): void {
    const sub = this.subs.get(id)!;
    const wanted = sub.spec.metrics;
    // Ask only for what the agent serves: an unknown name fails the whole request.
    const served = wanted.filter((m) => !this.unknown.has(m) && (!this.catalogLoaded || this.serves(m)));
    sub.missing = wanted.filter((m) => !served.includes(m));
    if (served.length === 0) {
      sub.ready = true;
      sub.error = 'the agent serves none of these metrics';
      return;
    }
    const message: Message = {
      v: PROTOCOL_VERSION, type: 'subscribe', id, metrics: served, rate: false,
      history: this.keepMs(),
    };
    if (sub.spec.containers) message.containers = sub.spec.containers;
    if (sub.spec.instances) message.instances = sub.spec.instances;
    this.send(message);
  }

  /** Whether a name is a metric or a PMNS prefix of one in the catalogue. */
  private serves(name: string): boolean {
    if (this.catalog.meta.has(name)) return true;
    for (const m of this.catalog.meta.keys()) if (m.startsWith(`${name}.`)) return true;
    return false;
  }

  /** Applies one message of the stream protocol. Public so it can be tested on recorded messages. */
  handle(message: unknown): void {
    if (!isObject(message)) throw new Error('not a JSON object');
    if (message.v !== PROTOCOL_VERSION) {
      this.setState('incompatible', `the agent speaks stream protocol ${String(message.v)}; this console speaks ${PROTOCOL_VERSION}`);
      return;
    }
    switch (message.type) {
      case 'hello':
        return this.onHello(message);
      case 'subscribed':
        return this.onSubscribed(message);
      case 'instances':
        return this.onInstances(message);
      case 'sample':
        return this.onSample(message);
      case 'gap':
        for (const sub of this.subs.values()) sub.store.gap(Number(message.from));
        return;
      case 'error':
        return this.onError(message);
      default:
        return; // unsubscribed, or types from newer agents
    }
  }

  private onHello(m: Message): void {
    clearTimeout(this.openTimer);
    this.attempt = 0;
    if (typeof m.interval === 'number' && m.interval > 0) this.intervalMs = m.interval;
    if (typeof m.history === 'number') this.historyMs = m.history;
    for (const sub of this.subs.values()) sub.store.resize(this.capacity());
    this.setState('connecting', 'waiting for data');
    for (const id of this.subs.keys()) this.sendSubscribe(id);
  }

  private onSubscribed(m: Message): void {
    const sub = this.subs.get(String(m.id));
    if (!sub) return;
    const metas = (Array.isArray(m.metrics) ? m.metrics : []).filter(isObject).map(metaFromJson);
    sub.metrics = metas.map((d) => d?.name ?? '');
    this.catalog.setMeta(metas.filter((d): d is MetricMeta => d !== undefined));
    this.addNames(m.instances);
    const times = Array.isArray(m.t) ? (m.t as number[]) : [];
    const values = Array.isArray(m.values) ? (m.values as RawValue[][]) : [];
    const columns = [];
    const refs = Array.isArray(m.series) ? m.series : [];
    for (let k = 0; k < refs.length; k++) {
      const ref = seriesRef(refs[k], sub.metrics);
      if (ref) columns.push({ ...ref, values: values[k] ?? [] });
    }
    sub.list = sub.store.backfill(times, columns);
    sub.ready = true;
    sub.error = undefined;
    if (times.length > 0) this.markLive(times[times.length - 1]!);
    this.noteHostname(sub.store);
    if (sub.metrics.some((n) => n.startsWith('containers.'))) this.scheduleLabels();
  }

  private onInstances(m: Message): void {
    const sub = this.subs.get(String(m.id));
    if (!sub) return;
    this.addNames(m.added);
    const changes = isObject(m.series) ? m.series : {};
    const removed = new Set(
      (Array.isArray(changes.removed) ? changes.removed : [])
        .map((ref) => seriesRef(ref, sub.metrics))
        .filter((r) => r !== undefined)
        .map((r) => `${r.metric}\u0000${r.instance}`),
    );
    sub.list = sub.list.filter((s) => !removed.has(`${s.metric}\u0000${s.instance}`));
    for (const ref of Array.isArray(changes.added) ? changes.added : []) {
      const r = seriesRef(ref, sub.metrics);
      if (r) sub.list.push(sub.store.seriesFor(r.metric, r.instance));
    }
    if (isObject(m.added) && '1.0' in m.added) this.scheduleLabels();
  }

  private onSample(m: Message): void {
    const sub = this.subs.get(String(m.id));
    if (!sub || !sub.ready || typeof m.t !== 'number' || !Array.isArray(m.values)) return;
    const values = m.values as RawValue[];
    if (!sub.store.beginSample(m.t)) return;
    const n = Math.min(values.length, sub.list.length);
    for (let i = 0; i < n; i++) sub.store.write(sub.list[i]!, values[i]);
    this.markLive(m.t);
    this.noteHostname(sub.store);
  }

  private onError(m: Message): void {
    const id = typeof m.id === 'string' ? m.id : undefined;
    const text = String(m.message ?? m.code ?? 'error');
    const sub = id ? this.subs.get(id) : undefined;
    if (sub && m.code === 'unknown-metric') {
      // The catalogue was not available (or is stale): the agent names what it lacks; ask again without.
      const named = [...text.matchAll(/"([^"]+)"/g)].map((x) => x[1]!).filter((n) => sub.spec.metrics.includes(n));
      if (named.length > 0) {
        for (const n of named) this.unknown.add(n);
        this.sendSubscribe(id!);
        return;
      }
    }
    if (sub) {
      sub.error = text;
      sub.ready = true;
    } else this.detail = text;
  }

  private markLive(t: number): void {
    this.lagMs = Date.now() - t;
    if (this.state !== 'live') this.setState('live', '');
  }

  private noteHostname(store: HostData): void {
    const name = store.latest('pmcd.hostname') ?? store.latest('kernel.uname.nodename');
    if (typeof name === 'string' && name) this.hostname = name;
  }

  private addNames(byIndom: unknown): void {
    if (!isObject(byIndom)) return;
    for (const [indom, names] of Object.entries(byIndom)) {
      if (!isObject(names)) continue;
      this.catalog.setNames(indom, Object.entries(names).map(([id, name]) => [Number(id), String(name)] as const));
    }
  }

  /** The whole metric catalogue (names, units, help) for subscriptions and the metric picker. */
  private async loadCatalog(): Promise<void> {
    try {
      const response = await this.fetchImpl(`${this.url}/pmapi/metric`, { cache: 'no-store' });
      if (response.status === 401 || response.status === 403) {
        this.setState('auth', `${this.url} wants credentials (HTTP ${response.status}); open it in this browser once to log in`);
        return;
      }
      if (!response.ok) return;
      const body = (await response.json()) as { metrics?: unknown[] };
      const metas = (body.metrics ?? []).filter(isObject).map(metaFromJson).filter((d): d is MetricMeta => d !== undefined);
      this.catalog.setMeta(metas);
      this.catalogLoaded = metas.length > 0;
      this.options.onChange?.();
    } catch {
      // Without the catalogue, subscriptions learn unknown names from the agent's error instead.
    }
  }

  /** Container labels (pod, namespace, image) come with /pmapi/indom, not the stream. */
  private scheduleLabels(): void {
    clearTimeout(this.labelsTimer);
    this.labelsTimer = setTimeout(() => void this.loadLabels(), 300);
  }

  private async loadLabels(): Promise<void> {
    try {
      const response = await this.fetchImpl(`${this.url}/pmapi/indom?name=containers.name`, { cache: 'no-store' });
      if (!response.ok) return;
      const body = (await response.json()) as { instances?: Array<{ instance?: number; labels?: Labels }> };
      const labels = (body.instances ?? [])
        .filter((i) => typeof i.instance === 'number' && isObject(i.labels))
        .map((i) => [i.instance!, i.labels!] as const);
      this.catalog.setLabels('1.0', labels);
      this.options.onChange?.();
    } catch {
      // Labels are a nicety; names and ids still show.
    }
  }
}

function sameSpec(a: SubscriptionSpec, b: SubscriptionSpec): boolean {
  const same = (x?: readonly string[], y?: readonly string[]): boolean => (x ?? []).join('\u0000') === (y ?? []).join('\u0000');
  return same(a.metrics, b.metrics) && same(a.containers, b.containers) && same(a.instances, b.instances);
}
