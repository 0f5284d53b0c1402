import type { InstanceDomain } from '../metrics/instances.js';
import type { MetricTable } from '../metrics/table.js';
import { is64, type MetricDesc, type Value } from '../metrics/types.js';

/** PCP's PM_IN_NULL: the instance of a singular metric. Dialects print it as `null` or `-1`. */
export const SINGULAR = -1;

/** Values of one metric at one instant: instance id → value, in the order the collector gave them. */
export type InstanceValues = Map<number, Value>;

/** One sampling pass over every collector: an immutable snapshot once published. */
export class Sample {
  /** metric name → values. */
  readonly values = new Map<string, InstanceValues>();
  /** indom → (instance id → name) for every instance some metric reported in this sample. */
  readonly instances = new Map<string, Map<number, string>>();
  /** indom → (instance id → PCP instance labels) for instances a collector labelled (containers: engine, image, pod…). */
  readonly instanceLabels = new Map<string, Map<number, InstanceLabels>>();

  /** @param time wall-clock milliseconds (fractional) when sampling started. */
  constructor(readonly time: number) {}

  get(metric: string): InstanceValues | undefined {
    return this.values.get(metric);
  }

  instanceName(indom: string, id: number): string | undefined {
    return this.instances.get(indom)?.get(id);
  }

  labelsOf(indom: string, id: number): InstanceLabels | undefined {
    return this.instanceLabels.get(indom)?.get(id);
  }
}

/** PCP labels of one instance: name → value (names are `[a-z_][a-z0-9_]*` by PCP convention). */
export type InstanceLabels = Readonly<Record<string, string>>;

/** What a collector writes through. Errors in use are programming errors and throw. */
export interface SampleWriter {
  /** @param instance the instance name; omit for a singular metric. */
  put(metric: string, value: Value, instance?: string): void;
  /** Attaches PCP labels to an instance of an indom (the instance still needs values from put to appear). */
  labels?(indom: string, instance: string, labels: InstanceLabels): void;
}

/** What a put needs to know about a metric: looked up once per name, then reused for every value of it. */
interface Route {
  readonly desc: MetricDesc;
  /** The metric's instance domain; undefined for a singular metric. */
  readonly domain: InstanceDomain | undefined;
  /** Whether its values are kept (collection on demand). */
  readonly kept: boolean;
  readonly kind: ValueKind;
}

/** What a value of the metric is stored as: its type's string, bigint (64-bit) or number. */
type ValueKind = 'text' | 'wide' | 'number';

/**
 * Metric names → routes, for buffers that share one keep filter. The sampler keeps one across
 * passes (a new one when the demand changes): collectors build metric names afresh for every
 * value, so each lookup hashes the string, and one lookup here replaces three (the table's,
 * the demand's and the indom's).
 */
export class MetricRoutes {
  private readonly byName = new Map<string, Route>();

  /** @param keep which metrics to keep (collection on demand); every one when absent. */
  constructor(
    private readonly table: MetricTable,
    private readonly keep?: (metric: string) => boolean,
  ) {}

  get(metric: string): Route | undefined {
    const route = this.byName.get(metric);
    return route ?? this.add(metric);
  }

  private add(metric: string): Route | undefined {
    const desc = this.table.metric(metric);
    if (!desc) return undefined;
    const kind = desc.type === 'string' ? 'text' : is64(desc.type) ? 'wide' : 'number';
    const domain = desc.indom === null ? undefined : this.table.indom(desc.indom)!;
    const route: Route = { desc, domain, kept: this.keep?.(metric) ?? true, kind };
    this.byName.set(metric, route);
    return route;
  }
}

/**
 * Buffers one collector's output so that it lands in the sample only if the collector
 * finished in time; a late or failing collector cannot leave half its values behind.
 */
export class CollectorBuffer implements SampleWriter {
  // One entry per put, in parallel columns rather than an array per value: a pass over a
  // thousand cgroups puts tens of thousands of values, and each object would be garbage. The
  // sampler reuses a collector's buffer pass after pass (see reset), so the columns keep their
  // size: `count` entries are this pass's, the rest are stale.
  private count = 0;
  private readonly descs: MetricDesc[] = [];
  private readonly ids: number[] = [];
  private readonly names: Array<string | undefined> = [];
  private readonly values: Value[] = [];
  private readonly labelRows: Array<[string, number, InstanceLabels]> = [];
  readonly routes: MetricRoutes;
  // The latest instance name resolved, and where: a collector puts every metric of a cgroup
  // (or a disk, an interface) in a row, so most puts name the same instance as the one before.
  private lastIds: object | undefined;
  private lastName: string | undefined;
  private lastId = SINGULAR;

  /**
   * @param keep which metrics to keep (collection on demand); every one when absent.
   * @param routes shared across buffers with the same `keep` (the sampler's), so names are looked up once.
   */
  constructor(
    private readonly table: MetricTable,
    private now: number,
    keep?: (metric: string) => boolean,
    routes?: MetricRoutes,
  ) {
    this.routes = routes ?? new MetricRoutes(table, keep);
  }

  put(metric: string, value: Value, instance?: string): void {
    const route = this.routes.get(metric);
    if (!route) throw new Error(`collector wrote undeclared metric ${metric}`);
    if (!route.kept) return;
    const domain = route.domain;
    let id = SINGULAR;
    if (domain !== undefined) {
      if (instance === undefined) throw new Error(`${metric} needs an instance name`);
      if (instance === this.lastName && domain.ids === this.lastIds) {
        id = this.lastId;
      } else {
        id = domain.idOf(instance, this.now);
        this.lastIds = domain.ids;
        this.lastName = instance;
        this.lastId = id;
      }
    } else if (instance !== undefined) {
      throw new Error(`${metric} is singular but got instance ${instance}`);
    }
    const i = this.count++;
    this.descs[i] = route.desc;
    this.ids[i] = id;
    this.names[i] = instance;
    this.values[i] = coerce(route, value);
  }

  /** Empties the buffer for another pass at `now`, keeping the room its columns have. */
  reset(now: number): void {
    this.now = now;
    this.count = 0;
    this.labelRows.length = 0;
    this.lastIds = undefined;
    this.lastName = undefined;
  }

  labels(indom: string, instance: string, labels: InstanceLabels): void {
    const domain = this.table.indom(indom);
    if (!domain) throw new Error(`collector labelled an instance of undeclared indom ${indom}`);
    this.labelRows.push([indom, domain.idOf(instance, this.now), labels]);
  }

  mergeInto(sample: Sample): void {
    // The instance the previous value named, already in `sample.instances`.
    let namedIndom: string | null = null;
    let namedId = SINGULAR;
    for (let i = 0; i < this.count; i++) {
      const desc = this.descs[i]!;
      const id = this.ids[i]!;
      let values = sample.values.get(desc.name);
      if (!values) sample.values.set(desc.name, (values = new Map()));
      values.set(id, this.values[i]!);
      if (desc.indom === null || (desc.indom === namedIndom && id === namedId)) continue;
      let names = sample.instances.get(desc.indom);
      if (!names) sample.instances.set(desc.indom, (names = new Map()));
      // Every metric of a cgroup names it again: keep the first string, let the copies die young.
      if (!names.has(id)) names.set(id, this.names[i]!);
      namedIndom = desc.indom;
      namedId = id;
    }
    for (const [indom, id, labels] of this.labelRows) {
      let byId = sample.instanceLabels.get(indom);
      if (!byId) sample.instanceLabels.set(indom, (byId = new Map()));
      byId.set(id, labels);
    }
  }
}

function coerce(route: Route, value: Value): Value {
  const { desc, kind } = route;
  if (kind === 'text') return String(value);
  if (kind === 'wide') {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    throw new Error(`${desc.name} is ${desc.type}; got ${typeof value} ${String(value)}`);
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'number') throw new Error(`${desc.name} is ${desc.type}; got string`);
  return value;
}
