/**
 * Puts one host's series on another host's time axis so both can share one uPlot chart. Hosts
 * sample on their own clocks; each base time takes the value sampled within `toleranceMs` of it
 * (the nearest), or NaN. Both time columns are ascending; one merge pass, O(n + m).
 */
export function alignTo(
  base: ArrayLike<number>,
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  toleranceMs: number,
  out: Float64Array = new Float64Array(base.length),
): Float64Array {
  let j = 0;
  for (let i = 0; i < base.length; i++) {
    const t = base[i]!;
    while (j + 1 < times.length && Math.abs(times[j + 1]! - t) <= Math.abs(times[j]! - t)) j++;
    out[i] = j < times.length && Math.abs(times[j]! - t) <= toleranceMs ? values[j]! : NaN;
  }
  return out;
}
