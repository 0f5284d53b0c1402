import { CounterRate, toNumber, type RawValue } from './rate.js';
import { Ring } from './ring.js';
import { displayOf, type Display } from './units.js';

/** A metric's descriptor as the agent serves it (the fields of /pmapi/metric). */
export interface MetricMeta {
  name: string;
  pmid: string;
  indom: string | null;
  type: string;
  sem: string;
  units: string;
  oneline: string;
  help: string;
}

/**
 * Samples for which an instance's newest value and its existence outlive a miss: an overloaded
 * agent may drop a collector's values for a pass, and a container should not blink out of a
 * table for that. Rates (`current`) are never stale: a missed sample reads as no value.
 */
const RECENT = 3;

/** The instance id of a singular metric (PCP's PM_IN_NULL). */
export const SINGULAR = -1;

export type Labels = Readonly<Record<string, string>>;

/**
 * PCP declares these cumulative kernel counts `instant` (cpu.stat's nr_periods and nr_throttled
 * only ever grow); showing them raw is useless, so they are rated like counters.
 */
const CUMULATIVE_INSTANT = new Set(['cgroup.cpusched.periods', 'cgroup.cpusched.throttled']);

export function isRated(meta: Pick<MetricMeta, 'name' | 'sem' | 'type'>): boolean {
  return meta.type !== 'string' && (meta.sem === 'counter' || CUMULATIVE_INSTANT.has(meta.name));
}

/** How a metric's stored values read on screen (counters are stored as per-second rates). */
export function displayOfMeta(meta: MetricMeta): Display {
  return displayOf(meta.units, isRated(meta));
}

/** What one agent has said about its metrics and instances; shared by all of its series stores. */
export class Catalog {
  readonly meta = new Map<string, MetricMeta>();
  /** indom → id → name. */
  readonly names = new Map<string, Map<number, string>>();
  /** indom → id → PCP instance labels (containers: pod, namespace, image…). */
  readonly labels = new Map<string, Map<number, Labels>>();
  version = 0;

  setMeta(descs: Iterable<MetricMeta>): void {
    for (const d of descs) this.meta.set(d.name, d);
    this.version++;
  }

  /** Instance names that became known. Names are never forgotten here: history still needs its legends. */
  setNames(indom: string, names: Iterable<readonly [number, string]>): void {
    let byId = this.names.get(indom);
    if (!byId) this.names.set(indom, (byId = new Map()));
    for (const [id, name] of names) byId.set(id, name);
    this.version++;
  }

  setLabels(indom: string, labels: Iterable<readonly [number, Labels]>): void {
    let byId = this.labels.get(indom);
    if (!byId) this.labels.set(indom, (byId = new Map()));
    for (const [id, l] of labels) byId.set(id, l);
    this.version++;
  }

  instanceName(metric: string, instance: number): string | undefined {
    const indom = this.meta.get(metric)?.indom;
    return indom ? this.names.get(indom)?.get(instance) : undefined;
  }

  instanceLabels(metric: string, instance: number): Labels | undefined {
    const indom = this.meta.get(metric)?.indom;
    return indom ? this.labels.get(indom)?.get(instance) : undefined;
  }
}

/** One metric+instance of a store. Writers hold on to it (the stream's series list). */
export interface Series {
  readonly metric: string;
  readonly instance: number;
  /** Recent values, aligned with the store's times; absent for latest-only metrics. */
  values?: Ring;
  rate?: CounterRate;
  /** The newest raw value as it came (strings for string metrics, exact integers). */
  latest: RawValue;
  /** The newest value in the store's terms (a rate for counters). */
  current: number;
  /** The ring holds values up to this sample number (gaps included). */
  stamp: number;
  /** Sample number of the latest value actually written. */
  seen: number;
}

/** What views read: columns on a shared time axis, instances, metadata, newest values. */
export interface SeriesSource {
  readonly times: Ring;
  /** Bumped on every change: a view drawn at this version need not be drawn again. */
  readonly version: number;
  readonly meta: ReadonlyMap<string, MetricMeta>;
  /** Column of a metric+instance (per-second rates for counters), aligned with `times`. */
  column(metric: string, instance?: number): Ring | undefined;
  /** The newest raw value (strings for string metrics, exact integers as they came), if from the last few samples. */
  latest(metric: string, instance?: number): RawValue;
  /** The newest value as a number in the column's terms (a rate for counters); NaN if none. */
  current(metric: string, instance?: number): number;
  /** Instance ids with a recent value (or with history) for this metric. */
  instances(metric: string): Iterable<number>;
  instanceName(metric: string, instance: number): string | undefined;
  instanceLabels(metric: string, instance: number): Labels | undefined;
}

export interface StoreOptions {
  /** Samples kept per series (window ÷ interval). */
  capacity: number;
  /** A counter whose previous reading is older than this rates as a gap. */
  maxGapMs?: number;
  /** Which metrics keep a ring of values; the others keep only their newest value. All by default. */
  keep?: (metric: string) => boolean;
}

/**
 * The values of one stream subscription of one agent: a time column and, per metric+instance,
 * a ring of recent values on it (per-second rates for counters) or just the newest value.
 * Protocol neutral: the connection calls `beginSample`/`write`, `backfill` and `gap`; views read
 * through SeriesSource. Memory is bounded by `capacity` per kept series; series that have not
 * been written for a whole window (a container that went away) are dropped.
 */
export class HostData implements SeriesSource {
  times: Ring;
  /** Bumped on every change; views compare it to skip work. */
  version = 0;
  private readonly series = new Map<string, Map<number, Series>>();
  private sampleNo = 0;
  private capacity: number;
  private maxGapMs: number;
  private readonly keep: (metric: string) => boolean;

  constructor(
    readonly catalog: Catalog,
    options: StoreOptions,
  ) {
    this.capacity = options.capacity;
    this.maxGapMs = options.maxGapMs ?? Infinity;
    this.keep = options.keep ?? (() => true);
    this.times = new Ring(this.capacity);
  }

  get meta(): ReadonlyMap<string, MetricMeta> {
    return this.catalog.meta;
  }

  get length(): number {
    return this.times.length;
  }

  /** Changes how many samples are kept; the newest ones survive. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const keep = Math.min(this.times.length, capacity);
    const copy = (ring: Ring, precision: 32 | 64): Ring => {
      const next = new Ring(capacity, precision);
      const old = ring.view();
      for (let i = old.length - keep; i < old.length; i++) next.push(old[i]!);
      return next;
    };
    for (const byInstance of this.series.values()) {
      for (const s of byInstance.values()) {
        if (!s.values) continue;
        this.catchUp(s);
        s.values = copy(s.values, 32);
      }
    }
    this.times = copy(this.times, 64);
    this.capacity = capacity;
    this.version++;
  }

  /** The series of a metric+instance, created on first use (a writer keeps it). */
  seriesFor(metric: string, instance: number): Series {
    let byInstance = this.series.get(metric);
    if (!byInstance) this.series.set(metric, (byInstance = new Map()));
    let s = byInstance.get(instance);
    if (!s) {
      s = { metric, instance, latest: undefined, current: NaN, stamp: this.sampleNo, seen: this.sampleNo };
      if (this.keep(metric)) {
        s.values = new Ring(this.capacity, 32);
        s.values.padTo(this.times.length);
      }
      const meta = this.catalog.meta.get(metric);
      if (meta && isRated(meta)) s.rate = new CounterRate(this.maxGapMs);
      byInstance.set(instance, s);
    }
    return s;
  }

  /** Starts the sample at `timeMs`; values written next belong to it. Older times are refused (false). */
  beginSample(timeMs: number): boolean {
    const last = this.times.at(-1);
    if (this.times.length > 0 && Math.abs(last - timeMs) < 0.5) return true;
    if (this.times.length > 0 && timeMs < last) return false;
    this.sampleNo++;
    this.times.push(timeMs);
    if (this.sampleNo % 64 === 0) this.dropDead();
    this.version++;
    return true;
  }

  /** A value of the current sample (null: the agent had none this time). */
  write(s: Series, raw: RawValue): void {
    const time = this.times.at(-1);
    const again = s.stamp === this.sampleNo;
    if (!again && this.sampleNo - s.stamp > 1) s.rate?.reset(); // samples were missed: no rate across them
    if (!again) this.catchUp(s, 1);
    s.current = s.rate ? s.rate.next(time, raw) : toNumber(raw);
    if (raw !== null && raw !== undefined) s.latest = raw;
    if (again) s.values?.setLast(s.current);
    else s.values?.push(s.current);
    s.stamp = s.seen = this.sampleNo;
  }

  /** The agent skipped samples (the client fell behind): a gap at `fromMs`, rates start over. */
  gap(fromMs: number): void {
    if (!this.beginSample(fromMs)) return;
    for (const byInstance of this.series.values()) for (const s of byInstance.values()) s.rate?.reset();
  }

  /**
   * Replaces everything by a columnar history (`values[k][i]` is series k at `times[i]`), as
   * the agent sends it when a subscription starts: charts are full at once. Returns the series
   * in the order given, for the writer to continue with.
   */
  backfill(times: ArrayLike<number>, columns: ReadonlyArray<{ metric: string; instance: number; values: ArrayLike<RawValue> }>): Series[] {
    this.series.clear();
    this.times = new Ring(this.capacity);
    const first = Math.max(0, times.length - this.capacity);
    // One sample more than kept, so that the first kept rate has a predecessor.
    const from = Math.max(0, first - 1);
    this.sampleNo++;
    const out: Series[] = [];
    for (const { metric, instance, values } of columns) {
      const s = this.seriesFor(metric, instance);
      for (let i = from; i < times.length; i++) {
        const raw = values[i];
        s.current = s.rate ? s.rate.next(times[i]!, raw) : toNumber(raw);
        if (i >= first) s.values?.push(s.current);
        if (raw !== null && raw !== undefined) s.latest = raw;
      }
      out.push(s);
    }
    for (let i = first; i < times.length; i++) this.times.push(times[i]!);
    for (const s of out) s.stamp = s.seen = this.sampleNo;
    this.version++;
    return out;
  }

  column(metric: string, instance = SINGULAR): Ring | undefined {
    const s = this.series.get(metric)?.get(instance);
    if (!s?.values) return undefined;
    this.catchUp(s);
    return s.values;
  }

  latest(metric: string, instance = SINGULAR): RawValue {
    const s = this.series.get(metric)?.get(instance);
    return s && this.sampleNo - s.seen < RECENT ? s.latest : undefined;
  }

  current(metric: string, instance = SINGULAR): number {
    const s = this.series.get(metric)?.get(instance);
    return s && s.seen === this.sampleNo ? s.current : NaN;
  }

  instances(metric: string): Iterable<number> {
    const byInstance = this.series.get(metric);
    if (!byInstance) return [];
    const live: number[] = [];
    for (const [id, s] of byInstance) if (this.sampleNo - s.seen < RECENT || s.values) live.push(id);
    return live;
  }

  instanceName(metric: string, instance: number): string | undefined {
    return this.catalog.instanceName(metric, instance);
  }

  instanceLabels(metric: string, instance: number): Labels | undefined {
    return this.catalog.instanceLabels(metric, instance);
  }

  /** Number of series held (memory accounting, tests). */
  get seriesCount(): number {
    let n = 0;
    for (const byInstance of this.series.values()) n += byInstance.size;
    return n;
  }

  /** Pads a series with gaps up to `sampleNo - reserve` for the samples it was not written in (it left the stream). */
  private catchUp(s: Series, reserve = 0): void {
    const missing = this.sampleNo - reserve - s.stamp;
    if (missing <= 0) return;
    if (s.values) for (let i = Math.min(missing, this.capacity); i > 0; i--) s.values.push(NaN);
    s.stamp = this.sampleNo - reserve;
  }

  /** Forgets series not written for a whole window. */
  private dropDead(): void {
    for (const [metric, byInstance] of this.series) {
      for (const [id, s] of byInstance) if (this.sampleNo - s.seen >= this.capacity) byInstance.delete(id);
      if (byInstance.size === 0) this.series.delete(metric);
    }
  }
}
