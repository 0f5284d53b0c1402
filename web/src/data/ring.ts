/**
 * A fixed-capacity column of numbers that uPlot can draw without a copy.
 *
 * Every value is written twice, at `i` and `i + capacity`, so the newest `length` values are
 * always one contiguous run of the backing array: `view()` is a `subarray`, O(1), and pushing is
 * O(1) with no allocation. The cost is twice the memory of a plain circular buffer, which buys
 * handing typed arrays straight to the chart on every frame.
 *
 * Gaps are NaN (typed arrays cannot hold null); the chart layer knows that NaN means "no value".
 */
export class Ring {
  private readonly buf: Float64Array | Float32Array;
  /** Next slot to write, in [0, capacity). */
  private write = 0;
  private count = 0;

  /**
   * @param precision 64 for timestamps and exact values; 32 halves the memory of value columns
   * whose readers show three significant digits anyway.
   */
  constructor(
    readonly capacity: number,
    precision: 32 | 64 = 64,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`ring capacity must be a positive integer, got ${capacity}`);
    this.buf = precision === 32 ? new Float32Array(capacity * 2) : new Float64Array(capacity * 2);
  }

  get length(): number {
    return this.count;
  }

  push(value: number): void {
    this.buf[this.write] = value;
    this.buf[this.write + this.capacity] = value;
    this.write = this.write + 1 === this.capacity ? 0 : this.write + 1;
    if (this.count < this.capacity) this.count++;
  }

  /** Appends NaN until the ring holds `length` values (or is full): a series that starts late. */
  padTo(length: number): void {
    const target = Math.min(length, this.capacity);
    while (this.count < target) this.push(NaN);
  }

  /** Overwrites the newest value (a second message for the same sample time). */
  setLast(value: number): void {
    if (this.count === 0) throw new Error('setLast on an empty ring');
    const i = this.write === 0 ? this.capacity - 1 : this.write - 1;
    this.buf[i] = value;
    this.buf[i + this.capacity] = value;
  }

  /** The values oldest first, as a view into the backing store: valid until the next push. */
  view(): Float64Array | Float32Array {
    const start = this.count < this.capacity ? 0 : this.write;
    return this.buf.subarray(start, start + this.count);
  }

  /** The i-th value oldest first; negative counts from the newest (-1 is the newest). */
  at(i: number): number {
    const k = i < 0 ? this.count + i : i;
    if (k < 0 || k >= this.count) return NaN;
    const start = this.count < this.capacity ? 0 : this.write;
    return this.buf[start + k]!;
  }

  /** The newest value that is not a gap, or NaN. */
  lastValue(): number {
    for (let i = this.count - 1; i >= 0; i--) {
      const v = this.at(i);
      if (!Number.isNaN(v)) return v;
    }
    return NaN;
  }

  /** True when every value held is a gap: the series can be dropped. */
  isEmpty(): boolean {
    const values = this.view();
    for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) return false;
    return true;
  }

  clear(): void {
    this.write = 0;
    this.count = 0;
  }
}
