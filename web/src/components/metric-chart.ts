import { LitElement, css, html, nothing, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { FrameBuilder, type ChartSpec, type Frame, type Line } from '../data/chart-data.js';
import type { SeriesSource } from '../data/host-data.js';
import { formatValue } from '../data/units.js';
import { ticker } from './ticker.js';

/** What time a chart shows: the live window ending now, or a fixed range (paused, zoomed, scrolled back). */
export interface TimeView {
  /** Live window, seconds. */
  window: number;
  /** Fixed range in ms; absent while live. */
  range?: [number, number];
}

const PALETTE = 10;
const LEGEND_MAX = 16;
/** How long a chart reuses its spec (which lines it has) before asking again. */
const SPEC_TTL_MS = 1000;

/** Axis steps for bytes: 1, 2, 4 … 512 of B, KiB, MiB … so ticks land on round binary numbers. */
const BINARY_INCRS = Array.from({ length: 7 * 10 }, (_, i) => 2 ** (i % 10) * 1024 ** Math.floor(i / 10));

/**
 * NaN-aware gaps for uPlot: typed arrays cannot hold null, so a NaN run is where the line
 * breaks. Canvas skips NaN points, which would join the points either side of a run; the gap
 * clips that join away. Runs at either end join nothing and need no clip (most series start
 * with one: the first rate of a counter). Stacked (filled) layers split into runs themselves
 * (stackedPaths).
 */
function nanGaps(u: uPlot, seriesIdx: number, idx0: number, idx1: number): uPlot.Series.Gaps {
  const xs = u.data[0] as ArrayLike<number>;
  const ys = u.data[seriesIdx] as ArrayLike<number>;
  const gaps: uPlot.Series.Gaps = [];
  let first = idx0;
  let last = idx1;
  while (first <= last && Number.isNaN(ys[first])) first++;
  while (last >= first && Number.isNaN(ys[last])) last--;
  for (let i = first + 1; i < last; i++) {
    if (!Number.isNaN(ys[i])) continue;
    let j = i;
    while (Number.isNaN(ys[j + 1])) j++;
    gaps.push([Math.round(u.valToPos(xs[i - 1]!, 'x', true)), Math.round(u.valToPos(xs[j + 1]!, 'x', true))]);
    i = j;
  }
  return gaps;
}

/**
 * One layer of a stacked chart (its data are running sums): its line, and its band down to the
 * layer below filled as a polygon. uPlot's own bands fill down to the axis and clip that to the
 * lower line's path, and a clip to a path is the slowest thing a software canvas rasterizes: the
 * CPU chart took 1.1–1.5 ms to rasterize with band clips and 0.35 ms without. Gaps split the
 * line and the band into runs, so no clip is needed for them either. Where several points share
 * a pixel column (long windows), the line goes to their lowest and highest and on from the
 * last, and the band takes the last: as uPlot decimates its own lines.
 */
function stackedPaths(u: uPlot, seriesIdx: number, idx0: number, idx1: number): uPlot.Series.Paths {
  const xs = u.data[0] as ArrayLike<number>;
  const ys = u.data[seriesIdx] as ArrayLike<number>;
  const below = seriesIdx > 1 ? (u.data[seriesIdx - 1] as ArrayLike<number>) : undefined;
  const y = (v: number): number => Math.round(u.valToPos(v, 'y', true));
  const stroke = new Path2D();
  const fill = new Path2D();
  /** The run's columns: x, then the last value's y and the lower edge's y in each. */
  let columns: number[] = [];
  let lo = 0;
  let hi = 0;
  const endColumn = (): void => {
    const n = columns.length;
    if (n === 0) return;
    const [x, last] = [columns[n - 3]!, columns[n - 2]!];
    if (n === 3) stroke.moveTo(x, last);
    if (lo !== last || hi !== last) {
      stroke.lineTo(x, lo);
      stroke.lineTo(x, hi);
    }
    stroke.lineTo(x, last);
  };
  const endRun = (): void => {
    endColumn();
    if (columns.length === 0) return;
    fill.moveTo(columns[0]!, columns[1]!);
    for (let k = 3; k < columns.length; k += 3) fill.lineTo(columns[k]!, columns[k + 1]!);
    for (let k = columns.length - 3; k >= 0; k -= 3) fill.lineTo(columns[k]!, columns[k + 2]!);
    fill.closePath();
    columns = [];
  };
  for (let i = idx0; i <= idx1; i++) {
    const v = ys[i]!;
    if (Number.isNaN(v)) {
      endRun();
      continue;
    }
    const x = Math.round(u.valToPos(xs[i]!, 'x', true));
    const py = y(v);
    const base = y(below ? below[i]! : 0);
    const n = columns.length;
    if (n > 0 && columns[n - 3] === x) {
      columns[n - 2] = py;
      columns[n - 1] = base;
      lo = Math.min(lo, py);
      hi = Math.max(hi, py);
      continue;
    }
    endColumn();
    columns.push(x, py, base);
    lo = hi = py;
  }
  endRun();
  return { stroke, fill, clip: null, band: null, flags: 0 };
}

/**
 * A live line chart of one ChartSpec: uPlot over columnar typed arrays, refreshed imperatively
 * by the shared ticker (never through Lit re-renders), skipped while scrolled out of view.
 * Emits `range-select` {from, to} (ms) when the user drags across it.
 */
export class MetricChart extends LitElement {
  static override properties = {
    source: { attribute: false },
    time: { attribute: false },
    syncKey: { attribute: 'sync-key' },
    height: { type: Number },
  };

  /** Produces the chart's spec (its lines); asked again every second so new instances show up. */
  declare source: () => ChartSpec;
  declare time: TimeView;
  declare syncKey: string;
  declare height: number;

  private plot?: uPlot;
  private shape = '';
  private readonly builder = new FrameBuilder();
  private frame?: Frame;
  private spec?: ChartSpec;
  private visible = false;
  private observer?: IntersectionObserver;
  private resizeObserver?: ResizeObserver;
  private unregister?: () => void;
  /** Index under the cursor, or -1: the legend shows the newest values then. */
  private cursorIdx = -1;
  private hiddenLines = new Set<string>();
  /** The range the frozen frame was taken for; a paused chart is not rebuilt until it changes. */
  private frozenFor = '';
  private legendRows: Array<{ label: string; color: string; value: string; off: boolean; dashed: boolean }> = [];
  /** Lines left out of the legend (it names the biggest LEGEND_MAX). */
  private legendMore = 0;
  /** The theme's line colours (and the limit colour last), read once per theme. */
  private palette?: string[];
  /** When the spec was last asked for: instances change slowly, so it is reused for a second. */
  private specAt = -Infinity;
  private stacked?: Array<Float64Array>;
  /** What the plot shows: the time asked for and each host's data at the version drawn. */
  private drawn = '';
  private drawnSources: SeriesSource[] = [];

  constructor() {
    super();
    this.time = { window: 300 };
    this.syncKey = 'vigil';
    this.height = 150;
  }

  static override styles = [
    unsafeCSS(uplotCss),
    css`
      :host {
        display: block;
        background: var(--panel);
        border: 1px solid var(--border);
        border-radius: 6px;
        padding: 8px 10px 6px;
        min-width: 0;
        contain: layout paint;
        /* Charts far off screen (20 hosts side by side) are neither laid out nor painted: every
           repaint then has far fewer paint chunks to sort into compositor layers. */
        content-visibility: auto;
        contain-intrinsic-block-size: auto 200px;
      }
      header { display: flex; gap: 8px; align-items: baseline; }
      h3 { font-size: 13px; font-weight: 600; margin: 0; flex: 1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      .help { color: var(--muted); cursor: help; font-size: 12px; }
      .plot { position: relative; min-height: 40px; }
      .note { color: var(--muted); font-size: 12px; padding: 6px 0; }
      .legend { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 12px; margin-top: 2px; max-height: 64px; overflow: auto; }
      .legend button {
        all: unset; cursor: pointer; display: inline-flex; gap: 4px; align-items: center; white-space: nowrap;
      }
      .legend button:focus-visible { outline: 2px solid var(--focus); }
      .legend .off { opacity: 0.4; }
      .swatch { width: 10px; height: 3px; border-radius: 1px; display: inline-block; }
      .swatch.dashed { height: 0; border-top: 2px dashed; background: none !important; }
      /* A value keeps its width as it changes (up to 10 characters: "12.3 MiB/s", "0.51 cores"):
         otherwise every sample shifts the legend entries after it, and repainting and re-layering the
         moved entries of every redrawn chart cost about a millisecond a frame on the 20-host overview.
         It starts where its box starts: right-aligned, a value of another length moved its text,
         and the browser then re-layerized the whole page (1.6-2.4 ms) in about one frame in four. */
      .value { font-family: var(--mono); color: var(--muted); font-variant-numeric: tabular-nums; display: inline-block; min-width: 10ch; }
      .u-select { background: var(--select); }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    // Each observed element costs the browser an intersection check every frame: where hundreds of
    // charts share a parent (the side-by-side overview), the parent observes for them (see setVisible).
    if (!this.hasAttribute('visibility-from-parent')) {
      this.observer = new IntersectionObserver((entries) => this.setVisible(entries.some((e) => e.isIntersecting)));
      this.observer.observe(this);
    }
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this);
    this.unregister = ticker.add(() => this.refresh());
    window.addEventListener('vigil-theme', this.onTheme);
  }

  /** Whether the chart is on screen: off screen it is not redrawn; coming into view, it is redrawn at once. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    if (visible) ticker.schedule(true);
  }

  /** Colours are read when the plot is made: make it again. */
  private readonly onTheme = (): void => {
    this.palette = undefined;
    this.shape = '';
    this.frozenFor = '';
    ticker.schedule(true);
  };

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
    this.resizeObserver?.disconnect();
    this.unregister?.();
    window.removeEventListener('vigil-theme', this.onTheme);
    this.plot?.destroy();
    this.plot = undefined;
    this.shape = '';
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('time') || changed.has('source')) {
      this.frozenFor = '';
      this.specAt = -Infinity;
      ticker.schedule(true);
    }
  }

  override render() {
    const spec = this.spec;
    const missing = spec?.missing.length ? `Not available here: ${spec.missing.join(', ')}` : '';
    return html`
      <header>
        <h3 title=${spec?.title ?? ''}>${spec?.title ?? ''}</h3>
        ${spec?.help ? html`<span class="help" title=${spec.help} aria-label=${spec.help}>?</span>` : nothing}
      </header>
      <div class="plot" style="height:${this.height}px" ?hidden=${!spec || spec.lines.length === 0}></div>
      ${spec && spec.lines.length === 0
        ? html`<div class="note" role="status" style="height:${this.height}px">${spec.note ?? (missing || 'No data yet.')}</div>`
        : missing
          ? html`<div class="note">${missing}</div>`
          : nothing}
      <div class="legend" role="list">
        ${this.legendRows.map(
          (row) => html`<button role="listitem" class=${row.off ? 'off' : ''} title="show or hide ${row.label}"
            aria-pressed=${!row.off} @click=${() => this.toggle(row.label)}>
            <span class="swatch ${row.dashed ? 'dashed' : ''}" style="background:${row.color};border-color:${row.color}"></span>
            <span>${row.label}</span><span class="value">${row.value}</span>
          </button>`,
        )}
        ${this.legendMore > 0 ? html`<span class="value" title="the legend lists the ${LEGEND_MAX} biggest lines">+${this.legendMore} more</span>` : nothing}
      </div>
    `;
  }

  /** Called by the ticker: new data, new instances, a new time range. */
  refresh(): void {
    if (!this.visible || !this.source) return;
    const paused = this.time.range !== undefined;
    const rangeKey = paused ? this.time.range!.join('-') : '';
    if (paused && this.frozenFor === rangeKey && this.plot) return;
    const now = performance.now();
    const spec = !this.spec || !this.plot || paused || now - this.specAt > SPEC_TTL_MS ? this.source() : this.spec;
    if (spec !== this.spec) this.specAt = now;
    // Lines are told apart by position and kind only: other lines in the same places (a new top 5)
    // take over the plot's series, where making a new plot costs a frame of its own.
    const shape = `${spec.kind}|${spec.stacked}|${spec.lines.map((l) => l.constant === undefined ? 'l' : 'c').join('')}|${spec.missing.join()}|${spec.note}`;
    const rebuild = shape !== this.shape || !this.plot;
    // Hosts' samples arrive all through the second and each pass runs every chart: one whose hosts sent nothing new is left as it is.
    const moved = this.changedSince(spec, rangeKey);
    if (!rebuild && !moved) return;
    this.spec = spec;
    // Live: the window; paused: everything kept, to scroll and zoom through.
    this.frame = this.builder.build(spec, paused, paused ? -Infinity : this.liveFrom(spec));
    if (paused) this.frozenFor = rangeKey;
    if (!rebuild) this.showLines();
    if (rebuild) {
      this.shape = shape;
      this.requestUpdate();
      // The plot container exists once Lit has rendered the new spec.
      void this.updateComplete.then(() => this.createPlot());
      return;
    }
    this.draw();
  }

  /** Whether the spec's lines, their data or the time asked for moved since the plot was drawn; notes them as drawn. */
  private changedSince(spec: ChartSpec, rangeKey: string): boolean {
    const sources = [...new Set(spec.lines.flatMap((l) => [...l.terms, ...(l.over ?? [])].map((t) => t.source)))];
    const drawn = `${rangeKey}|${this.time.window}|${spec.lines.map((l) => l.label).join('\u0000')}|${sources.map((s) => s.version).join()}`;
    const same = drawn === this.drawn && sources.length === this.drawnSources.length && sources.every((s, i) => s === this.drawnSources[i]);
    this.drawn = drawn;
    this.drawnSources = sources;
    return !same;
  }

  /** Start of the live window: the newest sample of the chart's first host minus the window. */
  private liveFrom(spec: ChartSpec): number {
    const base = spec.lines.find((l) => l.terms.length > 0)?.terms[0];
    const last = base ? base.source.times.at(-1) : NaN;
    return Number.isFinite(last) ? last - this.time.window * 1000 : -Infinity;
  }

  /** Limits are always drawn in the warning colour; lines take the palette in order. */
  private colorOf(line: Line, i: number): string {
    if (!this.palette) {
      const style = getComputedStyle(this);
      this.palette = [...Array.from({ length: PALETTE }, (_, k) => `--c${k}`), '--bad'].map((v) => style.getPropertyValue(v).trim() || '#888');
    }
    return line.constant !== undefined ? this.palette[PALETTE]! : this.palette[i % PALETTE]!;
  }

  private createPlot(): void {
    this.plot?.destroy();
    this.plot = undefined;
    const spec = this.spec;
    const container = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (!spec || !container || spec.lines.length === 0) {
      this.legendRows = [];
      this.requestUpdate();
      return;
    }
    const style = getComputedStyle(this);
    const muted = style.getPropertyValue('--muted').trim();
    const grid = style.getPropertyValue('--grid').trim();
    const scaleOf = (): number => this.frame?.scale ?? 1;
    const kind = spec.kind;
    const opts: uPlot.Options = {
      width: Math.max(100, container.clientWidth),
      height: this.height,
      ms: 1,
      legend: { show: false },
      padding: [6, 6, 0, 0],
      cursor: {
        sync: { key: this.syncKey },
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
      },
      scales: {
        x: { time: true },
        y: { range: (u) => this.yRange(u) },
      },
      axes: [
        { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui', size: 28 },
        {
          stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font: '11px system-ui', size: 64,
          values: (_u, splits) => splits.map((v) => formatValue(v * scaleOf(), kind)),
          incrs: kind === 'bytes' || kind === 'bytes/s' ? () => BINARY_INCRS.map((x) => x / scaleOf()) : undefined,
        },
      ],
      series: [
        {},
        ...spec.lines.map((line, i) => {
          const color = this.colorOf(line, i);
          return {
            label: line.label,
            stroke: color,
            // One pixel: the canvas can draw it as a hairline, cheaper to rasterize than a wider
            // stroke (measured on the 20-host overview: 1.25 px cost about 0.8 ms more a frame).
            width: line.constant !== undefined ? 1.5 : 1,
            dash: line.constant !== undefined ? [5, 4] : undefined,
            fill: spec.stacked ? `${color}55` : undefined,
            show: !this.hiddenLines.has(line.label),
            points: { show: false },
            ...(spec.stacked ? { paths: stackedPaths } : { gaps: nanGaps }),
          } satisfies uPlot.Series;
        }),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.dispatchEvent(new CustomEvent('range-select', { detail: { from, to }, bubbles: true, composed: true }));
          },
        ],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx ?? -1;
            if (idx !== this.cursorIdx) {
              this.cursorIdx = idx;
              this.updateLegend();
            }
          },
        ],
      },
    };
    this.plot = new uPlot(opts, this.data(), container);
    this.draw();
  }

  /** Columns for uPlot; stacked charts draw cumulative sums (the legend keeps the own values). */
  private data(): uPlot.AlignedData {
    const frame = this.frame!;
    if (!this.spec?.stacked) return [frame.xs, ...frame.ys] as unknown as uPlot.AlignedData;
    const n = frame.xs.length;
    if (!this.stacked || this.stacked.length !== frame.ys.length || this.stacked[0]?.length !== n) {
      this.stacked = frame.ys.map(() => new Float64Array(n));
    }
    const acc = this.stacked;
    frame.ys.forEach((ys, k) => {
      const out = acc[k]!;
      const below = k > 0 ? acc[k - 1]! : undefined;
      const on = !this.hiddenLines.has(this.spec!.lines[k]!.label);
      for (let i = 0; i < n; i++) {
        const v = on ? ys[i]! : 0;
        // A gap in one layer is a gap in the stack, not a drop to the layer below.
        out[i] = Number.isNaN(v) ? NaN : (below ? below[i]! : 0) + v;
      }
    });
    return [frame.xs, ...acc] as unknown as uPlot.AlignedData;
  }

  private draw(): void {
    const u = this.plot;
    const frame = this.frame;
    if (!u || !frame) return;
    u.batch(() => {
      u.setData(this.data(), false);
      const xs = frame.xs;
      const last = xs.length ? xs[xs.length - 1]! : Date.now();
      const [min, max] = this.time.range ?? [last - this.time.window * 1000, last];
      u.setScale('x', { min, max });
    });
    this.updateLegend();
  }

  /** y axis from the visible points only, ignoring gaps; from 0 unless values go negative. */
  private yRange(u: uPlot): uPlot.Range.MinMax {
    const [i0, i1] = (u.series[0]!.idxs ?? [0, -1]) as [number, number];
    let lo = 0;
    let hi = -Infinity;
    for (let s = 1; s < u.series.length; s++) {
      if (u.series[s]!.show === false) continue;
      const ys = u.data[s] as ArrayLike<number>;
      for (let i = i0; i <= i1; i++) {
        const v = ys[i]!;
        if (v > hi) hi = v;
        if (v < lo) lo = v;
      }
    }
    const max = this.spec?.max !== undefined ? this.spec.max / (this.frame?.scale ?? 1) : undefined;
    if (!(hi > lo)) hi = max ?? lo + 1;
    if (max !== undefined && hi <= max) return [lo, max];
    return [lo, hi + (hi - lo) * 0.08];
  }

  private updateLegend(): void {
    const spec = this.spec;
    const frame = this.frame;
    if (!spec || !frame) return;
    const n = frame.xs.length;
    const values = spec.lines.map((_, k) => {
      const ys = frame.ys[k]!;
      let v = NaN;
      if (this.cursorIdx >= 0) v = ys[this.cursorIdx]!;
      else for (let i = n - 1; i >= 0 && i >= n - 3 && Number.isNaN(v); i--) v = ys[i]!;
      return v;
    });
    const sortKey = (k: number): number => (spec.lines[k]!.constant !== undefined ? Infinity : Number.isNaN(values[k]!) ? -Infinity : values[k]!);
    let order = spec.lines.map((_, k) => k);
    // Many lines (20 hosts × interfaces): the legend names the biggest; the chart still draws all.
    if (order.length > LEGEND_MAX) order = order.sort((a, b) => (sortKey(a) === sortKey(b) ? 0 : sortKey(a) < sortKey(b) ? 1 : -1)).slice(0, LEGEND_MAX);
    const shown = order.map((k) => {
      const line = spec.lines[k]!;
      return {
        label: line.label,
        color: this.colorOf(line, k),
        value: formatValue(values[k]! * frame.scale, spec.kind),
        off: this.hiddenLines.has(line.label),
        dashed: line.constant !== undefined,
      };
    });
    this.legendMore = spec.lines.length - shown.length;
    const changed = shown.length !== this.legendRows.length || shown.some((r, i) => r.value !== this.legendRows[i]!.value || r.off !== this.legendRows[i]!.off || r.label !== this.legendRows[i]!.label);
    if (changed) {
      this.legendRows = shown;
      this.requestUpdate();
    }
  }

  private toggle(label: string): void {
    if (this.hiddenLines.has(label)) this.hiddenLines.delete(label);
    else this.hiddenLines.add(label);
    const i = this.spec?.lines.findIndex((l) => l.label === label) ?? -1;
    if (i >= 0 && this.plot) {
      this.plot.setSeries(i + 1, { show: !this.hiddenLines.has(label) });
      if (this.spec?.stacked) this.draw();
    }
    this.updateLegend();
  }

  /** Hidden lines are hidden by label: after other lines took the plot's series, each shows as its own was. */
  private showLines(): void {
    this.spec?.lines.forEach((line, i) => {
      const show = !this.hiddenLines.has(line.label);
      if (this.plot && this.plot.series[i + 1]?.show !== show) this.plot.setSeries(i + 1, { show });
    });
  }

  private resize(): void {
    const container = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (this.plot && container && container.clientWidth > 0) this.plot.setSize({ width: container.clientWidth, height: this.height });
  }

  /** How many lines the chart draws (the legend may name fewer). */
  get lineCount(): number {
    return this.spec?.lines.length ?? 0;
  }

  /** For tests and the performance readout: the newest drawn value of each line, formatted. */
  get legendValues(): string[] {
    return this.legendRows.map((r) => `${r.label}=${r.value}`);
  }
}

customElements.define('metric-chart', MetricChart);

declare global {
  interface HTMLElementTagNameMap {
    'metric-chart': MetricChart;
  }
}
