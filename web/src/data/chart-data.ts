import { alignTo } from './align.js';
import { SINGULAR, displayOfMeta, type SeriesSource } from './host-data.js';
import { toNumber } from './rate.js';
import type { Kind } from './units.js';
import { widgetMetrics, type Widget } from './widgets.js';

/** One column of one host, times a factor that converts it to the chart's base unit. */
export interface Term {
  source: SeriesSource;
  metric: string;
  instance: number;
  factor: number;
}

/** A line: the sum of its terms, divided by the sum of `over` when given; or a constant (a limit). */
export interface Line {
  label: string;
  /** The host the line belongs to (its name), for legends and colours in overlays. */
  host: string;
  terms: Term[];
  over?: Term[];
  /** A horizontal line at this value (limits), drawn dashed. */
  constant?: number;
}

export interface ChartSpec {
  id: string;
  title: string;
  kind: Kind;
  lines: Line[];
  stacked?: boolean;
  max?: number;
  help?: string;
  /** Metrics the chart wants that a host does not serve: `host: metric, …`. */
  missing: string[];
  /** Why there are no lines, when that is known (shown instead of "no data yet"). */
  note?: string;
}

/** The columns uPlot draws: a time axis in ms and one value column per line, all the same length. */
export interface Frame {
  xs: Float64Array | Float32Array;
  ys: Array<Float64Array | Float32Array>;
  /** Multiply plotted values by this to get the kind's base unit (lines may be passed unscaled). */
  scale: number;
}

/** Lines for a widget over the given hosts (one host: side by side; several: overlaid). */
export function widgetChart(widget: Widget, hosts: ReadonlyArray<{ source: SeriesSource; name: string }>): ChartSpec {
  const lines: Line[] = [];
  const missing: string[] = [];
  const prefix = hosts.length > 1;
  for (const { source, name } of hosts) {
    const absent = widgetMetrics(widget).filter((m) => !source.meta.has(m));
    for (const m of absent) missing.push(hosts.length > 1 ? `${name}: ${m}` : m);
    const ncpu = toNumber(source.latest('hinv.ncpu', SINGULAR));
    const hostFactor = (widget.factor ?? 1) / (widget.perCpu ? (ncpu > 0 ? ncpu : NaN) : 1);
    const term = (metric: string, instance: number): Term => ({
      source, metric, instance, factor: displayOfMeta(source.meta.get(metric)!).scale * hostFactor,
    });
    const label = (base: string | undefined, instanceName: string | undefined): string =>
      [prefix ? name : '', base ?? '', instanceName ?? ''].filter(Boolean).join(' ') || widget.title;
    const summed = prefix && widget.overlaySum;
    for (const s of widget.series) {
      if (summed && !('sum' in s)) {
        const [metric, den] = 'metric' in s ? [s.metric, undefined] : s.ratio;
        if (!source.meta.has(metric) || (den && !source.meta.has(den))) continue;
        const ids = (m: string): number[] => instancesOf(source, m).filter((id) => source.instanceName(m, id) !== 'lo');
        const line: Line = { label: label(s.label, undefined), host: name, terms: ids(metric).map((id) => term(metric, id)) };
        if (den) line.over = ids(den).map((id) => ({ ...term(den, id), factor: displayOfMeta(source.meta.get(den)!).scale }));
        if (line.terms.length) lines.push(line);
        continue;
      }
      if ('metric' in s) {
        if (!source.meta.has(s.metric)) continue;
        for (const id of instancesOf(source, s.metric)) {
          const iname = source.instanceName(s.metric, id);
          if (s.instance !== undefined && iname !== s.instance) continue;
          lines.push({ label: label(s.label, s.instance === undefined ? iname : undefined), host: name, terms: [term(s.metric, id)] });
        }
      } else if ('sum' in s) {
        const [first, ...rest] = s.sum;
        if (!first || !s.sum.every((m) => source.meta.has(m))) continue;
        for (const id of instancesOf(source, first)) {
          const iname = source.instanceName(first, id);
          const others = rest.map((m) => idOfName(source, m, iname));
          if (others.some((o) => o === undefined)) continue;
          lines.push({ label: label(s.label, iname), host: name, terms: [term(first, id), ...rest.map((m, i) => term(m, others[i]!))] });
        }
      } else {
        const [num, den] = s.ratio;
        if (!source.meta.has(num) || !source.meta.has(den)) continue;
        for (const id of instancesOf(source, num)) {
          const iname = source.instanceName(num, id);
          const d = idOfName(source, den, iname);
          if (d === undefined) continue;
          const over = { ...term(den, d), factor: displayOfMeta(source.meta.get(den)!).scale };
          lines.push({ label: label(s.label, iname), host: name, terms: [term(num, id)], over: [over] });
        }
      }
    }
  }
  // Stacking adds lines up: across hosts that would be a sum nobody asked for.
  const stacked = widget.stacked && hosts.length === 1;
  return { id: widget.id, title: widget.title, kind: widget.kind, lines, stacked, max: widget.max, help: widget.help, missing };
}

/** Instance ids of a metric in a stable order (by name), singular metrics as [SINGULAR]. */
export function instancesOf(source: SeriesSource, metric: string): number[] {
  const ids = [...source.instances(metric)];
  return ids.sort((a, b) => (source.instanceName(metric, a) ?? '').localeCompare(source.instanceName(metric, b) ?? '', undefined, { numeric: true }));
}

function idOfName(source: SeriesSource, metric: string, name: string | undefined): number | undefined {
  for (const id of source.instances(metric)) if (source.instanceName(metric, id) === name) return id;
  return undefined;
}

/** Index of the first time ≥ `t` in an ascending column. */
export function firstAtOrAfter(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Builds (or refreshes) the columns of a chart. Lines that are one column of the chart's own
 * time axis at the chart's scale are handed over as views, without copying; others are
 * computed into per-line buffers that are reused from frame to frame. `copy` snapshots every
 * column (a paused chart must not change under the cursor as rings move on). `from` (ms) drops
 * older samples: a live chart shows its window, not the whole history kept for scrolling back.
 */
export class FrameBuilder {
  private buffers: Float64Array[] = [];
  private xsCopy?: Float64Array;

  build(spec: ChartSpec, copy = false, from = -Infinity): Frame {
    const base = spec.lines.find((l) => l.terms.length > 0)?.terms[0];
    const all = base ? base.source.times.view() : new Float64Array(0);
    // One sample before the window, so the line enters from the left edge.
    const start = Math.max(0, firstAtOrAfter(all, from) - 1);
    const times = all.subarray(start);
    const n = times.length;
    const scale = base && base.factor !== 0 && Number.isFinite(base.factor) ? base.factor : 1;
    const ys: Array<Float64Array | Float32Array> = [];
    spec.lines.forEach((line, k) => {
      const direct =
        !copy && !line.over && line.terms.length === 1 && line.terms[0]!.source === base!.source && line.terms[0]!.factor === scale;
      if (direct) {
        const column = line.terms[0]!.source.column(line.terms[0]!.metric, line.terms[0]!.instance);
        if (column && column.length === all.length) {
          ys.push(column.view().subarray(start));
          return;
        }
      }
      let out = this.buffers[k];
      if (!out || out.length !== n) this.buffers[k] = out = new Float64Array(n);
      if (line.constant !== undefined) out.fill(line.constant / scale);
      else this.compute(line, times, scale, out);
      ys.push(out);
    });
    this.buffers.length = spec.lines.length;
    let xs = times;
    if (copy) {
      if (!this.xsCopy || this.xsCopy.length !== n) this.xsCopy = new Float64Array(n);
      this.xsCopy.set(times);
      xs = this.xsCopy;
    }
    return { xs, ys, scale };
  }

  private compute(line: Line, times: Float64Array | Float32Array, scale: number, out: Float64Array): void {
    this.sum(line.terms, times, scale, out);
    if (!line.over) return;
    const den = new Float64Array(out.length);
    this.sum(line.over, times, 1, den);
    // No operations in an interval: no latency to speak of (a gap, not 0 or infinity).
    for (let i = 0; i < out.length; i++) out[i] = den[i]! > 0 ? out[i]! / den[i]! : NaN;
  }

  /**
   * Σ term × factor / scale on the base time axis. A term without a value at a time (an
   * interface that appeared later) counts as nothing; where no term has a value, NaN (a gap).
   */
  private sum(terms: readonly Term[], times: Float64Array | Float32Array, scale: number, out: Float64Array): void {
    out.fill(NaN);
    let scratch: Float64Array | undefined;
    for (const term of terms) {
      const column = term.source.column(term.metric, term.instance);
      if (!column) continue;
      const f = term.factor / scale;
      let values: ArrayLike<number> = column.view();
      const own = term.source.times.view();
      const offset = own.length - times.length;
      if (offset >= 0 && own[offset] === times[0] && own[own.length - 1] === times[times.length - 1]) {
        // The same time axis (the chart's own host), maybe longer: the same tail.
        values = (values as Float64Array | Float32Array).subarray(offset);
      } else {
        // Another host's clock: put its samples on this axis.
        const step = own.length > 1 ? (own[own.length - 1]! - own[0]!) / (own.length - 1) : 1000;
        scratch ??= new Float64Array(times.length);
        values = alignTo(times, own, values, step, scratch);
      }
      for (let i = 0; i < out.length; i++) {
        const v = values[i]!;
        if (Number.isNaN(v)) continue;
        const acc = out[i]!;
        out[i] = Number.isNaN(acc) ? v * f : acc + v * f;
      }
    }
  }
}
