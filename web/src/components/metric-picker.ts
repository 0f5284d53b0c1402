import { LitElement, css, html, nothing } from 'lit';
import type { MetricMeta } from '../data/host-data.js';
import { searchMetrics } from '../data/search.js';

/**
 * Search any metric the connected agents serve, by name and help text, and add it as a chart.
 * Arrow keys move through the results, Enter adds. Emits `metric-add` {name}.
 */
export class MetricPicker extends LitElement {
  static override properties = { metas: { attribute: false }, query: { state: true }, active: { state: true } };
  declare metas: MetricMeta[];
  declare query: string;
  declare active: number;

  constructor() {
    super();
    this.metas = [];
    this.query = '';
    this.active = 0;
  }

  static override styles = css`
    :host { display: block; position: relative; max-width: 760px; }
    input {
      font: inherit; width: 100%; box-sizing: border-box; padding: 6px 10px; border: 1px solid var(--border); border-radius: 4px;
      background: var(--panel); color: var(--fg);
    }
    ul { list-style: none; margin: 2px 0 0; padding: 0; border: 1px solid var(--border); border-radius: 4px; background: var(--panel); max-height: 360px; overflow: auto; }
    li { padding: 4px 10px; cursor: pointer; border-bottom: 1px solid var(--grid); }
    li[aria-selected='true'], li:hover { background: var(--select); }
    .name { font-family: var(--mono); font-weight: 600; }
    .meta { color: var(--muted); font-size: 11px; margin-left: 8px; }
    .help { color: var(--muted); font-size: 12px; }
  `;

  override render() {
    const results = searchMetrics(this.metas, this.query);
    return html`
      <input type="search" role="combobox" aria-expanded=${results.length > 0} aria-controls="results" aria-autocomplete="list"
        placeholder="search ${this.metas.length} metrics by name or help text, e.g. “retrans” or “cgroup memory”"
        aria-label="search metrics" .value=${this.query}
        @input=${(e: Event) => {
          this.query = (e.target as HTMLInputElement).value;
          this.active = 0;
        }}
        @keydown=${(e: KeyboardEvent) => this.onKey(e, results)} />
      ${results.length
        ? html`<ul id="results" role="listbox">
            ${results.map(
              (m, i) => html`<li role="option" aria-selected=${i === this.active} @click=${() => this.add(m)}>
                <span class="name">${m.name}</span><span class="meta">${m.sem} · ${m.units}${m.indom ? ' · per instance' : ''}</span>
                <div class="help">${m.oneline}</div>
              </li>`,
            )}
          </ul>`
        : this.query
          ? html`<div class="help" role="status">No metric matches.</div>`
          : nothing}
    `;
  }

  private onKey(e: KeyboardEvent, results: MetricMeta[]): void {
    if (e.key === 'ArrowDown') this.active = Math.min(results.length - 1, this.active + 1);
    else if (e.key === 'ArrowUp') this.active = Math.max(0, this.active - 1);
    else if (e.key === 'Enter' && results[this.active]) this.add(results[this.active]!);
    else return;
    e.preventDefault();
  }

  private add(m: MetricMeta): void {
    this.query = '';
    this.dispatchEvent(new CustomEvent('metric-add', { detail: { name: m.name }, bubbles: true, composed: true }));
  }
}

customElements.define('metric-picker', MetricPicker);
