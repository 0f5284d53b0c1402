import { LitElement, css, html, nothing } from 'lit';
import { widgetChart, type ChartSpec } from '../data/chart-data.js';
import type { AgentConnection } from '../data/connection.js';
import type { SeriesSource } from '../data/host-data.js';
import type { Layout } from '../data/url-state.js';
import { WIDGETS, type Widget } from '../data/widgets.js';
import { hostLabel } from './host-list.js';
import type { MetricChart, TimeView } from './metric-chart.js';
import { ticker } from './ticker.js';
import './host-state.js';
import './metric-chart.js';

const GROUPS = ['CPU', 'Memory', 'Network', 'Disk', 'Pressure'] as const;
/** Side by side: the narrowest a host's column gets (px), and the gap between columns. */
const COLUMN_MIN = 320;
const GAP = 8;

/** The main store of each connection that has one, with its host label. */
export function sources(connections: readonly AgentConnection[], id = 'main'): Array<{ source: SeriesSource; name: string }> {
  const out: Array<{ source: SeriesSource; name: string }> = [];
  for (const c of connections) {
    const source = c.store(id);
    if (source) out.push({ source, name: hostLabel(c) });
  }
  return out;
}

/**
 * Vector's host dashboard for every connected agent: with one host, or overlaid, a grid of
 * widgets; side by side, one column per host with the same widget in each row, on one time
 * axis with a shared cursor.
 */
export class HostOverview extends LitElement {
  static override properties = {
    connections: { attribute: false },
    layout: {},
    time: { attribute: false },
  };
  declare connections: AgentConnection[];
  declare layout: Layout;
  declare time: TimeView;
  private labels = '';
  private unregister?: () => void;
  /**
   * Side by side, the overview tells its charts whether they are on screen: one observed element
   * per row of 20 instead of one per chart (each costs an intersection check every frame), and
   * the columns in view found from the rows' horizontal scroll.
   */
  private readonly rowObserver = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) this.rowsOnScreen.add(e.target);
      else this.rowsOnScreen.delete(e.target);
    }
    this.showVisibleCharts();
  });
  private readonly rowsResized = new ResizeObserver(() => this.showVisibleCharts());
  /** Rows and scrollers observed, and the rows on screen. */
  private readonly observed = new Set<Element>();
  private readonly rowsOnScreen = new Set<Element>();

  constructor() {
    super();
    this.connections = [];
    this.layout = 'side';
    this.time = { window: 300 };
  }

  static override styles = css`
    :host { display: block; }
    h2 { font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 14px 0 6px; }
    .grid { display: grid; gap: ${GAP}px; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); }
    .rows { overflow-x: auto; }
    .row { display: grid; gap: ${GAP}px; margin-bottom: 8px; }
    /* Rows of charts far off screen are skipped whole: not laid out, painted or checked for
       intersection, which with 20 hosts is most of the page's work every frame. */
    .rows .row { content-visibility: auto; contain-intrinsic-block-size: auto 220px; }
    .hosthead { font-weight: 600; font-size: 12px; padding: 2px 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    // Back in the page: the rows rendered before are observed again.
    if (this.hasUpdated) this.observeRows();
    // Column headings name hosts; hostnames arrive with the first samples.
    this.unregister = ticker.add(() => {
      const labels = this.connections.map(hostLabel).join();
      if (labels !== this.labels) {
        this.labels = labels;
        this.requestUpdate();
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unregister?.();
    this.rowObserver.disconnect();
    this.rowsResized.disconnect();
    this.observed.clear();
    this.rowsOnScreen.clear();
  }

  /** Rows and charts may have been made or replaced. */
  protected override updated(): void {
    this.observeRows();
  }

  /** Observes the rows there are now (a new row is reported once observed), and tells new charts in rows on screen. */
  private observeRows(): void {
    const rows = new Set(this.renderRoot.querySelectorAll('.rows .row'));
    const scrollers = new Set(this.renderRoot.querySelectorAll('.rows'));
    for (const el of this.observed) {
      if (rows.has(el) || scrollers.has(el)) continue;
      this.rowObserver.unobserve(el);
      this.rowsResized.unobserve(el);
      this.observed.delete(el);
      this.rowsOnScreen.delete(el);
    }
    for (const row of rows) if (!this.observed.has(row)) this.rowObserver.observe(row);
    for (const scroller of scrollers) if (!this.observed.has(scroller)) this.rowsResized.observe(scroller);
    for (const el of [...rows, ...scrollers]) this.observed.add(el);
    this.showVisibleCharts();
  }

  /** A chart is on screen when its row is and its column is within the rows' scrolled-to part and the window. */
  private showVisibleCharts(): void {
    for (const scroller of this.renderRoot.querySelectorAll('.rows')) {
      const box = scroller.getBoundingClientRect();
      const left = Math.max(box.left, 0);
      const right = Math.min(box.right, window.innerWidth);
      for (const row of scroller.querySelectorAll('.row')) {
        const onScreen = this.rowsOnScreen.has(row);
        for (const chart of row.querySelectorAll<MetricChart>('metric-chart')) {
          if (!onScreen) {
            chart.setVisible(false);
            continue;
          }
          const r = chart.getBoundingClientRect();
          chart.setVisible(r.right > left && r.left < right);
        }
      }
    }
  }

  override render() {
    const side = this.layout === 'side' && this.connections.length > 1;
    return html`
      <host-state .connections=${this.connections}></host-state>
      ${GROUPS.map((group) => {
        const widgets = WIDGETS.filter((w) => w.group === group);
        return html`<section aria-label=${group}>
          <h2>${group}</h2>
          ${side ? this.sideBySide(widgets) : html`<div class="grid">${widgets.map((w) => this.chart(w, this.connections))}</div>`}
        </section>`;
      })}
    `;
  }

  private sideBySide(widgets: readonly Widget[]) {
    const n = this.connections.length;
    // As wide as all columns: a row's containment clips what overflows it, so nothing may.
    const columns = `grid-template-columns: repeat(${n}, minmax(${COLUMN_MIN}px, 1fr)); min-width: ${n * COLUMN_MIN + (n - 1) * GAP}px`;
    return html`<div class="rows" @scroll=${this.showVisibleCharts}>
      <div class="row" style=${columns}>${this.connections.map((c) => html`<div class="hosthead">${hostLabel(c)}</div>`)}</div>
      ${widgets.map((w) => html`<div class="row" style=${columns}>${this.connections.map((c) => this.chart(w, [c], true))}</div>`)}
    </div>`;
  }

  /** `inRow`: the chart is told by the overview whether it is on screen. */
  private chart(widget: Widget, connections: readonly AgentConnection[], inRow = false) {
    const source = (): ChartSpec => widgetChart(widget, sources(connections));
    if (!connections.length) return nothing;
    return inRow
      ? html`<metric-chart visibility-from-parent data-widget=${widget.id} .source=${source} .time=${this.time}></metric-chart>`
      : html`<metric-chart data-widget=${widget.id} .source=${source} .time=${this.time}></metric-chart>`;
  }
}

customElements.define('host-overview', HostOverview);
