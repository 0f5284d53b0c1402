/**
 * Counters to per-second rates, in the browser. The agent keeps 64-bit counters exact on the
 * wire (as decimal strings past 2^53), so the difference of two samples is taken in bigint and
 * only the small delta becomes a float: a nanosecond CPU counter at 2^60 still rates exactly.
 */

/** A value as it arrives: a number, an exact 64-bit integer (string or bigint), or no value. */
export type RawValue = number | bigint | string | null | undefined;

/** A counter reading kept exact: bigint when the wire carried a 64-bit integer. */
type Reading = number | bigint;

function reading(raw: RawValue): Reading | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'bigint') return raw;
  // Only integers travel as strings; anything else is not a counter reading.
  return /^-?\d+$/.test(raw) ? BigInt(raw) : undefined;
}

/** a − b, exact while both are integers (the wire switches to strings past 2^53 mid-series). */
function difference(a: Reading, b: Reading): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const integral = (x: Reading): boolean => typeof x === 'bigint' || Number.isInteger(x);
  return integral(a) && integral(b) ? Number(BigInt(a) - BigInt(b)) : Number(a) - Number(b);
}

/** A raw value as a plain number for display (gauges); NaN when absent or not numeric. */
export function toNumber(raw: RawValue): number {
  if (raw === null || raw === undefined) return NaN;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number(raw);
  const n = Number(raw);
  return Number.isFinite(n) ? n : NaN;
}

/**
 * Rate of one counter series. `next` returns units per second since the previous reading, or
 * NaN — a gap, never a spike — when there is no previous reading, the counter went backwards
 * (reset, wrap, restarted process or cgroup), time did not advance, or the previous reading is
 * older than `maxGapMs` (samples were lost in between).
 */
export class CounterRate {
  private prev: Reading | undefined;
  private prevTime = NaN;

  constructor(private readonly maxGapMs = Infinity) {}

  next(timeMs: number, raw: RawValue): number {
    const now = reading(raw);
    const prev = this.prev;
    const dt = (timeMs - this.prevTime) / 1000;
    this.prev = now;
    this.prevTime = now === undefined ? NaN : timeMs;
    if (now === undefined || prev === undefined || !(dt > 0) || dt * 1000 > this.maxGapMs) return NaN;
    const delta = difference(now, prev);
    return delta < 0 ? NaN : delta / dt;
  }

  /** Forget the previous reading: the next value starts a new run (a known gap in the stream). */
  reset(): void {
    this.prev = undefined;
    this.prevTime = NaN;
  }
}
