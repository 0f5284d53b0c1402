import type { ContainerScope } from '../containers/scope.js';
import type { MetricDesc, Value } from '../metrics/types.js';
import { grown } from '../store/bits.js';
import { historyTime, type History } from '../store/history.js';
import { counterRate, deliveryOf, type Delivery } from '../store/rate.js';
import type { Sample } from '../store/sample.js';
import type { Selection } from './stream-selection.js';
import { PROTOCOL_VERSION, instancesJson, seriesRefJson, windowJson, wireValue } from './stream-wire.js';

export interface SubscriptionOptions {
  /** The client's name for it; re-subscribing under the same id replaces it. */
  id: string;
  selection: Selection;
  /** Deliver every n-th sample (the agent's interval × n). */
  every: number;
  /** Counters as per-second rates / utilization instead of raw values. */
  rate: boolean;
  /** The agent's sampling interval, ms. */
  intervalMs: number;
  /** Resolves the selection's containers on each sample. */
  scope: ContainerScope;
}

/** Instances of one indom that the client knows: id → name and how many of its series use it. */
type KnownInstances = Map<number, { name: string; series: number }>;

/**
 * One subscription of one stream client. It remembers the series list the client holds (the
 * order of every `sample` message's values) and announces changes to it in `instances`
 * messages, so that client and agent stay in step without a second request.
 */
export class Subscription {
  readonly id: string;
  readonly every: number;
  readonly rate: boolean;
  private readonly selection: Selection;
  private readonly scope: ContainerScope;
  private readonly intervalMs: number;
  private readonly stepMs: number;
  private readonly metricIndex: Map<string, number>;
  private readonly deliveries: Delivery[];
  /** The client's series list: metric index × 2^32 + instance id + 1, in value order. */
  private keys: number[] = [];
  /** The values last sent (raw), aligned with keys: what the next rate is computed from. */
  private previous: Array<Value | null> = [];
  /**
   * The wire text of raw values last sent, aligned with keys (empty when the list changed): an
   * idle container's counters do not move, and printing a bigint allocates its digits.
   */
  private previousWire: string[] = [];
  /**
   * Room for the series and values of the sample being delivered, reused sample after sample:
   * the values become `previous`, and the previous array becomes the room for the next sample.
   */
  private sampleKeys = new Float64Array(256);
  private spareValues: Array<Value | null> = [];
  private previousTime = NaN;
  /** Index of each key in `keys`, built when a sample lists the series in another order. */
  private position: Map<number, number> | undefined;
  /**
   * Once the client's list has grown, samples list the same series in another order, pass
   * after pass: that order (`sampleOrder`) and where each of its series is in `keys`.
   */
  private sampleOrder: Float64Array | undefined;
  private placement: Int32Array | undefined;
  private readonly known = new Map<string, KnownInstances>();

  constructor(options: SubscriptionOptions) {
    this.id = options.id;
    this.every = options.every;
    this.rate = options.rate;
    this.selection = options.selection;
    this.scope = options.scope;
    this.intervalMs = options.intervalMs;
    this.stepMs = options.intervalMs * options.every;
    this.metricIndex = new Map(this.metrics.map((desc, i) => [desc.name, i]));
    this.deliveries = this.metrics.map((desc) => deliveryOf(desc, options.rate));
  }

  get metrics(): readonly MetricDesc[] {
    return this.selection.metrics;
  }

  /** Whether the sample with this sequence number is one this subscription delivers. */
  due(seq: number): boolean {
    return seq % this.every === 0;
  }

  /**
   * The `subscribed` message: metadata, instance names and up to `backfillMs` of history in
   * columns, ending with the latest recorded sample. It also sets the series list live samples continue.
   */
  subscribed(history: History, backfillMs: number, maxValues: number): string {
    const newest = history.newest ?? 0;
    const window = history.read({
      metrics: this.metrics,
      start: backfillMs > 0 ? newest - backfillMs : Infinity,
      end: Infinity,
      accept: (desc, _instance, name) => this.selection.accept(desc, name),
      every: this.every,
      maxValues,
    });
    this.keys = [];
    this.position = undefined;
    this.sampleOrder = undefined;
    this.previous = [];
    this.previousWire = [];
    this.known.clear();
    const last = window.times.length - 1;
    for (const series of window.series) {
      this.keys.push(key(this.metricIndex.get(series.desc.name)!, series.instance));
      this.previous.push(last >= 0 ? series.values[last]! : null);
      if (series.desc.indom !== null && series.name !== undefined) this.know(series.desc.indom, series.instance, series.name);
    }
    this.previousTime = last >= 0 ? window.times[last]! : NaN;
    return (
      `{"v":${PROTOCOL_VERSION},"type":"subscribed","id":${JSON.stringify(this.id)},"every":${this.every},` +
      `"rate":${this.rate},"interval":${this.intervalMs},"truncated":${window.truncated},` +
      `${windowJson(this.metrics, this.rate, window, this.stepMs)}}`
    );
  }

  /** Messages for one sample: `instances` when the series list changed, then `sample`. */
  onSample(sample: Sample, seq: number): string[] {
    if (!this.due(seq)) return [];
    this.selection.refresh(this.scope, sample);
    const time = historyTime(sample.time);

    // The series this sample has for the subscription, in metric then instance order.
    const values = this.spareValues;
    let count = 0;
    const metrics = this.metrics;
    for (let m = 0; m < metrics.length; m++) {
      const desc = metrics[m]!;
      const instances = sample.get(desc.name);
      if (!instances) continue;
      const names = desc.indom === null ? undefined : sample.instances.get(desc.indom);
      if (count + instances.size > this.sampleKeys.length) this.sampleKeys = grown(this.sampleKeys, count + instances.size);
      const keys = this.sampleKeys;
      instances.forEach((value, instance) => {
        if (!this.selection.accept(desc, names?.get(instance))) return;
        keys[count] = key(m, instance);
        values[count++] = value;
      });
    }
    values.length = count;

    const messages: string[] = [];
    let ordered: Array<Value | null> = values;
    if (this.sampleOrder && sameKeys(this.sampleKeys, count, this.sampleOrder)) {
      ordered = new Array(count);
      for (let i = 0; i < count; i++) ordered[this.placement![i]!] = values[i]!;
    } else if (!sameKeys(this.sampleKeys, count, this.keys)) {
      const keys = Array.from(this.sampleKeys.subarray(0, count));
      // Same series in another order (the client's list appends new series at its end)?
      this.position ??= new Map(this.keys.map((k, i) => [k, i]));
      ordered = new Array(this.keys.length).fill(null);
      const placement = new Int32Array(count);
      let found = 0;
      for (let i = 0; i < keys.length; i++) {
        const p = this.position.get(keys[i]!);
        if (p === undefined) continue;
        ordered[p] = values[i]!;
        placement[i] = p;
        found++;
      }
      if (found === keys.length && found === this.keys.length) {
        this.sampleOrder = this.sampleKeys.slice(0, count);
        this.placement = placement;
      } else {
        this.sampleOrder = undefined;
        const at = new Map(keys.map((k, i) => [k, i]));
        const previous = new Map(this.keys.map((k, i) => [k, this.previous[i]!]));
        const removed = this.keys.filter((k) => !at.has(k));
        const added = keys.filter((k) => !previous.has(k));
        this.keys = [...this.keys.filter((k) => at.has(k)), ...added];
        this.position = undefined;
        this.previous = this.keys.map((k) => previous.get(k) ?? null);
        this.previousWire = [];
        ordered = this.keys.map((k) => values[at.get(k)!]!);
        messages.push(this.instancesMessage(time, added.map((k) => [k, this.instanceName(sample, k)]), removed));
      }
    }

    const wire: string[] = new Array(ordered.length);
    const previousWire = this.previousWire;
    for (let i = 0; i < ordered.length; i++) {
      const value = ordered[i]!;
      const m = Math.floor(this.keys[i]! / 2 ** 32);
      if (this.deliveries[m] !== 'raw') {
        wire[i] = wireValue(counterRate(this.metrics[m]!, this.previous[i], this.previousTime, value, time, this.stepMs));
      } else {
        const same = value === this.previous[i] && previousWire[i] !== undefined;
        wire[i] = same ? previousWire[i]! : wireValue(value);
      }
    }
    if (ordered === values) this.spareValues = this.previous;
    this.previous = ordered;
    this.previousWire = wire;
    this.previousTime = time;
    messages.push(`{"v":${PROTOCOL_VERSION},"type":"sample","id":${JSON.stringify(this.id)},"t":${time},"values":[${wire.join(',')}]}`);
    return messages;
  }

  /** The instance name of a series in a sample; undefined for a singular metric. */
  private instanceName(sample: Sample, k: number): string | undefined {
    const indom = this.metrics[Math.floor(k / 2 ** 32)]!.indom;
    return indom === null ? undefined : sample.instanceName(indom, (k % 2 ** 32) - 1);
  }

  /** Announces added and removed series, and the instances that came or went with them. */
  private instancesMessage(time: number, added: Array<[number, string | undefined]>, removed: number[]): string {
    const addedInstances = new Map<string, Map<number, string>>();
    const removedInstances = new Map<string, number[]>();
    for (const [k, name] of added) {
      const indom = this.metrics[Math.floor(k / 2 ** 32)]!.indom;
      if (indom === null || name === undefined) continue;
      const instance = (k % 2 ** 32) - 1;
      if (this.know(indom, instance, name)) {
        let names = addedInstances.get(indom);
        if (!names) addedInstances.set(indom, (names = new Map()));
        names.set(instance, name);
      }
    }
    for (const k of removed) {
      const indom = this.metrics[Math.floor(k / 2 ** 32)]!.indom;
      if (indom === null) continue;
      const instance = (k % 2 ** 32) - 1;
      const known = this.known.get(indom);
      const entry = known?.get(instance);
      if (!known || !entry || --entry.series > 0) continue;
      known.delete(instance);
      let ids = removedInstances.get(indom);
      if (!ids) removedInstances.set(indom, (ids = []));
      ids.push(instance);
    }
    const removedJson = [...removedInstances].map(([indom, ids]) => `"${indom}":[${ids.join(',')}]`).join(',');
    const refs = (ks: readonly number[]): string => ks.map((k) => seriesRefJson(Math.floor(k / 2 ** 32), (k % 2 ** 32) - 1)).join(',');
    return (
      `{"v":${PROTOCOL_VERSION},"type":"instances","id":${JSON.stringify(this.id)},"t":${time},` +
      `"added":${instancesJson(addedInstances)},"removed":{${removedJson}},` +
      `"series":{"added":[${refs(added.map(([k]) => k))}],"removed":[${refs(removed)}]}}`
    );
  }

  /** Counts one more series using an instance; true when the client did not know it yet. */
  private know(indom: string, instance: number, name: string): boolean {
    let known = this.known.get(indom);
    if (!known) this.known.set(indom, (known = new Map()));
    const entry = known.get(instance);
    if (entry) {
      entry.series++;
      return false;
    }
    known.set(instance, { name, series: 1 });
    return true;
  }
}

/** A series as one number: metric index and instance id (SINGULAR, -1, becomes 0). */
const key = (metric: number, instance: number): number => metric * 2 ** 32 + instance + 1;

/** Whether the first `count` keys of `a` are `b`. */
function sameKeys(a: Float64Array, count: number, b: ArrayLike<number>): boolean {
  if (count !== b.length) return false;
  for (let i = 0; i < count; i++) if (a[i] !== b[i]) return false;
  return true;
}
