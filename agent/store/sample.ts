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

/**
 * Buffers one collector's output so that it lands in the sample only if the collector
 * finished in time; a late or failing collector cannot leave half its values behind.
 */
export class CollectorBuffer implements SampleWriter {
  // One entry per put, in parallel columns rather than an array per value: a pass over a
  // thousand cgroups puts tens of thousands of values, and each object would be garbage.
  private readonly descs: MetricDesc[] = [];
  private readonly ids: number[] = [];
  private readonly names: Array<string | undefined> = [];
  private readonly values: Value[] = [];
  private readonly labelRows: Array<[string, number, InstanceLabels]> = [];

  /** @param keep which metrics to keep (collection on demand); every one when absent. */
  constructor(
    private readonly table: MetricTable,
    private readonly now: number,
    private readonly keep?: (metric: string) => boolean,
  ) {}

  put(metric: string, value: Value, instance?: string): void {
    const desc = this.table.metric(metric);
    if (!desc) throw new Error(`collector wrote undeclared metric ${metric}`);
    if (this.keep && !this.keep(metric)) return;
    let id = SINGULAR;
    if (desc.indom !== null) {
      if (instance === undefined) throw new Error(`${metric} needs an instance name`);
      id = this.table.indom(desc.indom)!.idOf(instance, this.now);
    } else if (instance !== undefined) {
      throw new Error(`${metric} is singular but got instance ${instance}`);
    }
    this.descs.push(desc);
    this.ids.push(id);
    this.names.push(instance);
    this.values.push(coerce(desc, value));
  }

  labels(indom: string, instance: string, labels: InstanceLabels): void {
    const domain = this.table.indom(indom);
    if (!domain) throw new Error(`collector labelled an instance of undeclared indom ${indom}`);
    this.labelRows.push([indom, domain.idOf(instance, this.now), labels]);
  }

  mergeInto(sample: Sample): void {
    for (let i = 0; i < this.descs.length; i++) {
      const desc = this.descs[i]!;
      const id = this.ids[i]!;
      let values = sample.values.get(desc.name);
      if (!values) sample.values.set(desc.name, (values = new Map()));
      values.set(id, this.values[i]!);
      if (desc.indom !== null) {
        let names = sample.instances.get(desc.indom);
        if (!names) sample.instances.set(desc.indom, (names = new Map()));
        // Every metric of a cgroup names it again: keep the first string, let the copies die young.
        if (!names.has(id)) names.set(id, this.names[i]!);
      }
    }
    for (const [indom, id, labels] of this.labelRows) {
      let byId = sample.instanceLabels.get(indom);
      if (!byId) sample.instanceLabels.set(indom, (byId = new Map()));
      byId.set(id, labels);
    }
  }
}

function coerce(desc: MetricDesc, value: Value): Value {
  if (desc.type === 'string') return String(value);
  if (is64(desc.type)) {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    throw new Error(`${desc.name} is ${desc.type}; got ${typeof value} ${String(value)}`);
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'number') throw new Error(`${desc.name} is ${desc.type}; got string`);
  return value;
}
