/**
 * Puts one host's series on another host's time axis so both can share one uPlot chart. Hosts
 * sample every `stepMs` on their own clocks, in some phase to each other; each base time takes
 * the value sampled within half a step of the same moment on the other clock (base time plus
 * the phase), or NaN. The phase comes from the newest samples: matching on the nearest time
 * alone, clocks about half a step apart jitter across that half step, and every other point
 * would be a gap or a sample shown twice. Both time columns are ascending; one merge pass,
 * O(n + m).
 */
export function alignTo(
  base: ArrayLike<number>,
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  stepMs: number,
  out: Float64Array = new Float64Array(base.length),
): Float64Array {
  if (times.length === 0 || base.length === 0) return out.fill(NaN);
  // Where the other clock's samples fall between base times, in [-step/2, step/2).
  const lag = times[times.length - 1]! - base[base.length - 1]! + stepMs / 2;
  const phase = lag - Math.floor(lag / stepMs) * stepMs - stepMs / 2;
  let j = 0;
  for (let i = 0; i < base.length; i++) {
    const t = base[i]! + phase;
    while (j + 1 < times.length && Math.abs(times[j + 1]! - t) <= Math.abs(times[j]! - t)) j++;
    out[i] = Math.abs(times[j]! - t) <= stepMs / 2 ? values[j]! : NaN;
  }
  return out;
}
