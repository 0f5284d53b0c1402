import type { MetricDesc, Value } from '../metrics/types.js';

/**
 * What a client asking for rates receives for a metric: counters become per-second rates,
 * time counters (CPU nanoseconds, disk milliseconds…) become utilization in seconds per
 * second, everything else stays raw.
 */
export type Delivery = 'raw' | 'rate' | 'utilization';

/** Seconds per unit of PCP's time units, as pmUnitsStr spells them. */
const SECONDS_PER: Readonly<Record<string, number>> = { nanosec: 1e-9, microsec: 1e-6, millisec: 1e-3, sec: 1 };

export function deliveryOf(desc: MetricDesc, rate: boolean): Delivery {
  if (!rate || desc.sem !== 'counter' || desc.type === 'string') return 'raw';
  return SECONDS_PER[desc.units] !== undefined ? 'utilization' : 'rate';
}

/**
 * How much later than the expected step a point may follow its predecessor and still be
 * rated against it. A missed sampling pass (1 step late) already makes a gap.
 */
const GAP_FACTOR = 1.5;

/**
 * The counter's change per second between two samples, scaled to seconds per second for time
 * counters; null when there is nothing honest to say: no previous value, a counter that went
 * backwards (reset or 32-bit wrap), or more than GAP_FACTOR × `stepMs` between the samples.
 * A delta is small even when the counter is not, so converting it to a double loses nothing.
 */
export function counterRate(
  desc: MetricDesc,
  previous: Value | null | undefined,
  previousTime: number,
  current: Value | null | undefined,
  currentTime: number,
  stepMs: number,
): number | null {
  if (previous === null || previous === undefined || current === null || current === undefined) return null;
  const elapsed = currentTime - previousTime;
  if (!(elapsed > 0) || elapsed > stepMs * GAP_FACTOR) return null;
  let delta: number;
  if (typeof current === 'bigint' && typeof previous === 'bigint') {
    if (current < previous) return null;
    delta = Number(current - previous);
  } else if (typeof current === 'number' && typeof previous === 'number') {
    if (current < previous) return null;
    delta = current - previous;
  } else {
    return null;
  }
  return (delta * (SECONDS_PER[desc.units] ?? 1) * 1000) / elapsed;
}

/** Applies counterRate along a column of values sampled at `times` (null where absent). */
export function rateColumn(
  desc: MetricDesc,
  values: ReadonlyArray<Value | null>,
  times: readonly number[],
  stepMs: number,
): Array<number | null> {
  const out: Array<number | null> = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = i === 0 ? null : counterRate(desc, values[i - 1], times[i - 1]!, values[i], times[i]!, stepMs);
  }
  return out;
}
