import { LitElement, css, html } from 'lit';
import { instancesOf, type ChartSpec, type Line } from '../data/chart-data.js';
import type { AgentConnection } from '../data/connection.js';
import { displayOfMeta, type MetricMeta } from '../data/host-data.js';
import { hostLabel } from './host-list.js';
import type { TimeView } from './metric-chart.js';
import './metric-chart.js';
import './metric-picker.js';

/** Most lines one custom chart draws (the busiest instances); more would be unreadable. */
const MAX_LINES = 20;

/**
 * Charts of any metrics the user picks, with rates and units from each metric's metadata:
 * counters are rated, time counters become utilization, bytes read as bytes.
 */
export class CustomView extends LitElement {
  static override properties = { connections: { attribute: false }, charts: { attribute: false }, time: { attribute: false } };
  declare connections: AgentConnection[];
  declare charts: string[];
  declare time: TimeView;

  constructor() {
    super();
    this.connections = [];
    this.charts = [];
    this.time = { window: 300 };
  }

  static override styles = css`
    :host { display: block; }
    .grid { display: grid; gap: 8px; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); margin-top: 10px; }
    .chart { position: relative; }
    .remove { position: absolute; right: 8px; top: 6px; z-index: 1; font: inherit; font-size: 12px; border: none; background: none; color: var(--muted); cursor: pointer; }
    .remove:hover { color: var(--bad); }
    .note { color: var(--muted); }
  `;

  override render() {
    const metas = new Map<string, MetricMeta>();
    for (const c of this.connections) for (const m of c.catalog.meta.values()) metas.set(m.name, m);
    return html`
      <metric-picker .metas=${[...metas.values()]} @metric-add=${(e: CustomEvent<{ name: string }>) => this.add(e.detail.name)}></metric-picker>
      ${this.charts.length === 0 ? html`<p class="note">Search for a metric above and press Enter to chart it on every connected host.</p>` : ''}
      <div class="grid">
        ${this.charts.map(
          (name) => html`<div class="chart">
            <button class="remove" aria-label="remove the chart of ${name}" @click=${() => this.removeChart(name)}>✕</button>
            <metric-chart data-metric=${name} .source=${() => this.spec(name)} .time=${this.time}></metric-chart>
          </div>`,
        )}
      </div>
    `;
  }

  private spec(name: string): ChartSpec {
    const lines: Line[] = [];
    const missing: string[] = [];
    let meta: MetricMeta | undefined;
    for (const c of this.connections) {
      const source = c.store('custom');
      const m = c.catalog.meta.get(name);
      if (!m) {
        missing.push(this.connections.length > 1 ? `${hostLabel(c)}: ${name}` : name);
        continue;
      }
      meta ??= m;
      if (!source || m.type === 'string') continue;
      const factor = displayOfMeta(m).scale;
      const ids = instancesOf(source, name)
        .map((id) => ({ id, v: source.current(name, id) }))
        .sort((a, b) => (Number.isNaN(b.v) ? -1 : b.v) - (Number.isNaN(a.v) ? -1 : a.v))
        .slice(0, MAX_LINES);
      for (const { id } of ids) {
        const iname = source.instanceName(name, id);
        const label = [this.connections.length > 1 ? hostLabel(c) : '', iname ?? (m.indom ? `#${id}` : name)].filter(Boolean).join(' ');
        lines.push({ label, host: hostLabel(c), terms: [{ source, metric: name, instance: id, factor }] });
      }
    }
    const display = meta ? displayOfMeta(meta) : { kind: 'number' as const };
    const help = meta ? `${meta.oneline}${meta.help && meta.help !== meta.oneline ? `\n\n${meta.help}` : ''}\n\n${meta.sem}, ${meta.units}${meta.type === 'string' ? ' (text: not charted)' : ''}` : '';
    return { id: name, title: name, kind: display.kind, lines, missing, help };
  }

  private add(name: string): void {
    if (!this.charts.includes(name)) this.emit([...this.charts, name]);
  }

  private removeChart(name: string): void {
    this.emit(this.charts.filter((n) => n !== name));
  }

  private emit(charts: string[]): void {
    this.dispatchEvent(new CustomEvent('state-change', { detail: { charts }, bubbles: true, composed: true }));
  }
}

customElements.define('custom-view', CustomView);
