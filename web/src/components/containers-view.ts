import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { ChartSpec, Line, Term } from '../data/chart-data.js';
import type { AgentConnection } from '../data/connection.js';
import {
  RESOURCE_OF, ResourceReader, carryOver, containerRows, filterRows, refreshRow, resourceTerms, resourceValue, sortRows, type ContainerRow,
} from '../data/containers.js';
import type { SeriesSource } from '../data/host-data.js';
import { RESOURCES, type Resource } from '../data/url-state.js';
import { hostLabel } from './host-list.js';
import type { TimeView } from './metric-chart.js';
import { ticker, whenIdle, type IdleTime } from './ticker.js';
import type { ContainerTable } from './container-table.js';
import './container-table.js';
import './host-state.js';
import './metric-chart.js';

/** Mean of the newest `n` values of a column, ignoring gaps: a steadier rank than the last value. */
function recentMean(source: SeriesSource, terms: ReadonlyArray<{ metric: string; instance: number; factor: number }>, n = 30): number {
  let sum = 0;
  let count = 0;
  for (const t of terms) {
    const values = source.column(t.metric, t.instance)?.view();
    if (!values) continue;
    for (let i = Math.max(0, values.length - n); i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isNaN(v)) {
        sum += v * t.factor;
        count++;
      }
    }
  }
  return count ? (sum / count) * terms.length : NaN;
}

/** What a host's row set depends on besides its store: its catalog and its name. */
const rowSetStamp = (c: AgentConnection): string => `${c.catalog.version}.${hostLabel(c)}`;

/**
 * How long the table keeps its order, and a host its row set and ranks, while values change.
 * Recomputing and re-sorting thousands of rows for every sample cost most of the view's frame
 * (and made rows jump under the pointer). Like top(1), the order follows the values every few
 * seconds, and at once for another sort, filter or set of rows; the rows in view show every
 * sample's values all the same.
 */
const RESORT_MS = 3000;

/** The longest a due host waits for idle time before its rows are made again all the same. */
const REMAKE_TIMEOUT_MS = 1000;
/** Idle time a host's rows need (about 0.5 ms for 50 rows here), kept in hand before starting another. */
const IDLE_SLACK_MS = 2;

/** One host's rows and what they were computed from. */
interface HostRows {
  /** What the row set depends on: the store, its catalog and the host's name. */
  stamp: string;
  /** The store's version last read (by the rows in view, at least), and when the rows were made. */
  version: number;
  at: number;
  /** The host's instance index, valid as long as the stamp. */
  reader?: ResourceReader;
  rows: ContainerRow[];
  /** Per row key: its chart terms for the top-N resource and its rank (recent mean); absent when it has none. */
  ranks: Map<string, { terms: Term[]; rank: number }>;
}

/**
 * Ranks a host's rows for the top-N charts. Done with the rows, as each host's samples come in,
 * so that the chart's once-a-second pick from every host's rows is a sort and not 1000 means.
 */
function rankRows(source: SeriesSource, rows: readonly ContainerRow[], resource: Resource, reader: ResourceReader): HostRows['ranks'] {
  const ranks: HostRows['ranks'] = new Map();
  for (const row of rows) {
    const terms = resourceTerms(source, row, resource, reader);
    const rank = terms ? recentMean(source, terms) : NaN;
    if (terms && !Number.isNaN(rank)) ranks.set(row.key, { terms: terms.map((t) => ({ ...t, source })), rank });
  }
  return ranks;
}

/**
 * Containers on all connected hosts: a sortable, filterable top table (pcp-ctop) and line
 * charts of the top N by a chosen resource. On hosts without container engines it lists plain
 * cgroups instead, so the view is never empty for a host that has work running.
 */
export class ContainersView extends LitElement {
  static override properties = {
    // The app passes a new array on every render of its own: the same agents are no change.
    connections: { attribute: false, hasChanged: (a?: AgentConnection[], b?: AgentConnection[]) => a?.length !== b?.length || !!a?.some((c, i) => c !== b![i]) },
    time: { attribute: false },
    filter: {},
    sort: {},
    resource: {},
    top: { type: Number },
    cgroups: { type: Boolean },
  };
  declare connections: AgentConnection[];
  declare time: TimeView;
  declare filter: string;
  declare sort: string;
  declare resource: Resource;
  declare top: number;
  declare cgroups: boolean;

  private rows: ContainerRow[] = [];
  /** No containers anywhere: cgroups are shown instead. */
  private fellBack = false;
  private readonly byHost = new Map<string, HostRows>();
  private topSourceOf?: { key: string; source: () => ChartSpec };
  /** The table's rows in order, what they were sorted by and when, and the rows they were taken from. */
  private order?: { by: string; at: number; from: ContainerRow[]; shown: ContainerRow[] };
  private unregister?: () => void;
  /** Hosts due to have their rows made again, in idle time (see refreshHosts), and the idle callback's handle. */
  private readonly due = new Set<string>();
  private cancelIdle?: () => void;
  /** Rows were made again in idle time since the last pass: the next pass renders them. */
  private remade = false;

  constructor() {
    super();
    this.connections = [];
    this.time = { window: 300 };
    this.filter = '';
    this.sort = '-cpu';
    this.resource = 'cpu';
    this.top = 5;
    this.cgroups = false;
  }

  static override styles = css`
    :host { display: block; }
    .toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; font-size: 12px; }
    input[type='search'] {
      font: inherit; padding: 4px 8px; border: 1px solid var(--border); border-radius: 4px; background: var(--panel);
      color: var(--fg); min-width: 260px;
    }
    select, label { font: inherit; }
    select { border: 1px solid var(--border); background: var(--panel); color: var(--fg); border-radius: 4px; padding: 3px 6px; }
    .note { color: var(--muted); font-size: 12px; margin: 6px 0; }
    .count { color: var(--muted); margin-left: auto; }
    metric-chart { margin-bottom: 8px; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    this.unregister = ticker.add(() => {
      if (!this.recompute()) return;
      // Rendered now, not in a microtask after the ticker's frame callback: the ticker's frame
      // budget then counts the table's render too, and the top chart, which refreshes after this
      // view, draws in the next frame when this one is full, each frame laying out and painting
      // half as much.
      this.requestUpdate();
      this.performUpdate();
      this.renderRoot.querySelector<ContainerTable>('container-table')?.renderNow();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unregister?.();
    this.cancelIdle?.();
    this.cancelIdle = undefined;
    this.due.clear();
  }

  /** Rows change with every sample; recomputes the hosts whose data moved. True when any did. */
  private recompute(): boolean {
    if (!this.refreshHosts()) return false;
    // No containers on any host that has sent data: list cgroups instead, until a container shows up.
    const fellBack = !this.cgroups && (this.fellBack
      ? !this.rows.some((r) => r.kind === 'container')
      : this.rows.length === 0 && this.connections.some((c) => c.store('main')?.length));
    if (fellBack !== this.fellBack) {
      this.fellBack = fellBack;
      this.byHost.clear();
      this.refreshHosts();
    }
    return true;
  }

  /**
   * With many hosts, samples arrive all through the second. A host whose data moved has its rows
   * made again (and ranked) every RESORT_MS or so, to pick up new and vanished containers and to
   * re-rank; in between, only its rows in the table's view read the new sample. Making a host's
   * rows again is work no frame needs: it is done in idle time between frames (remakeDue), and
   * the pass after renders what changed. A host seen for the first time, or with another store,
   * has its rows made at once. True when any row changed.
   */
  private refreshHosts(): boolean {
    const now = performance.now();
    const inView = this.renderRoot.querySelector<ContainerTable>('container-table')?.renderedRows ?? [];
    let rowsChanged = this.byHost.size !== this.connections.length;
    let changed = rowsChanged || this.remade;
    this.remade = false;
    for (const c of this.connections) {
      const source = c.store('main');
      const host = this.byHost.get(c.url);
      const version = source?.version ?? -1;
      if (!host || host.reader?.source !== source) {
        this.remake(c, source, host);
        rowsChanged = changed = true;
      } else if (host.version !== version) {
        host.version = version;
        if (now - host.at >= RESORT_MS || host.stamp !== rowSetStamp(c)) this.due.add(c.url);
        if (host.reader) for (const row of inView) if (row.host === c.url) refreshRow(host.reader.source, host.reader, row);
        changed = true;
      }
    }
    if (this.due.size > 0 && !this.cancelIdle) this.cancelIdle = whenIdle(this.remakeDue, REMAKE_TIMEOUT_MS);
    if (rowsChanged) this.collect();
    return changed;
  }

  /** Makes a host's rows again; true when they are other rows (not the same rows with new values). */
  private remake(c: AgentConnection, source: SeriesSource | undefined, old?: HostRows): boolean {
    const cgroups = this.cgroups || this.fellBack;
    const stamp = rowSetStamp(c);
    // The instance index holds as long as the catalog: a new sample alone does not change it.
    const reader = source && (old?.stamp === stamp && old.reader?.source === source ? old.reader : new ResourceReader(source));
    const fresh = reader ? containerRows(source, c.url, hostLabel(c), cgroups, reader) : [];
    const rows = old ? carryOver(old.rows, fresh) : fresh;
    this.byHost.set(c.url, {
      stamp, version: source?.version ?? -1, at: performance.now(), reader, rows,
      ranks: reader ? rankRows(source, rows, this.resource, reader) : new Map(),
    });
    return rows !== old?.rows;
  }

  /** The table's rows: every host's, in the hosts' order. */
  private collect(): void {
    for (const url of this.byHost.keys()) if (!this.connections.some((c) => c.url === url)) this.byHost.delete(url);
    this.rows = this.connections.flatMap((c) => this.byHost.get(c.url)?.rows ?? []);
  }

  /**
   * Idle callback: makes the due hosts' rows again, the longest waiting first, while the idle
   * period lasts, and asks for a pass to render them; hosts left over wait for the next idle
   * period. At least one host a call, and when the timeout forced the call (frames too busy to
   * leave idle time) an eighth of them, as many as a pass used to make.
   */
  private readonly remakeDue = (idle: IdleTime): void => {
    this.cancelIdle = undefined;
    const due = this.connections
      .filter((c) => this.due.has(c.url) && this.byHost.has(c.url))
      .sort((a, b) => this.byHost.get(a.url)!.at - this.byHost.get(b.url)!.at);
    this.due.clear();
    const atLeast = idle.didTimeout ? Math.ceil(this.connections.length / 8) : 1;
    let rowsChanged = false;
    let done = 0;
    for (const c of due) {
      if (done >= atLeast && idle.timeRemaining() < IDLE_SLACK_MS) {
        this.due.add(c.url);
        continue;
      }
      rowsChanged = this.remake(c, c.store('main'), this.byHost.get(c.url)) || rowsChanged;
      done++;
    }
    if (rowsChanged) this.collect();
    if (done > 0) {
      this.remade = true;
      ticker.schedule();
    }
    if (this.due.size > 0) this.cancelIdle = whenIdle(this.remakeDue, REMAKE_TIMEOUT_MS);
  };

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Other hosts or another kind of row apply at once, not at the next sample; filter and sort apply in render.
    if (changed.has('connections') || changed.has('cgroups') || changed.has('resource')) {
      this.byHost.clear();
      this.recompute();
    }
  }

  override render() {
    const shown = this.ordered();
    return html`
      <host-state .connections=${this.connections}></host-state>
      <div class="toolbar" role="toolbar" aria-label="container filters">
        <input type="search" id="filter" .value=${this.filter} placeholder="filter: name, pod, image… or ns:prod engine:docker host:db1"
          aria-label="filter containers" @input=${(e: Event) => this.change({ filter: (e.target as HTMLInputElement).value })} />
        <label><input type="checkbox" .checked=${this.cgroups || this.fellBack} ?disabled=${this.fellBack}
          @change=${(e: Event) => this.change({ cgroups: (e.target as HTMLInputElement).checked })} /> all cgroups</label>
        <label>top
          <select aria-label="how many in the charts" @change=${(e: Event) => this.change({ top: Number((e.target as HTMLSelectElement).value) })}>
            ${[3, 5, 10, 20].map((n) => html`<option ?selected=${n === this.top}>${n}</option>`)}
          </select>
          by
          <select aria-label="resource for the charts" @change=${(e: Event) => this.change({ resource: (e.target as HTMLSelectElement).value as Resource })}>
            ${RESOURCES.map((r) => html`<option value=${r} ?selected=${r === this.resource}>${RESOURCE_OF[r]!.label}</option>`)}
          </select>
        </label>
        <span class="count" role="status">${shown.length} of ${this.rows.length} ${this.cgroups || this.fellBack ? 'cgroups and containers' : 'containers'}</span>
      </div>
      ${this.fellBack
        ? html`<p class="note" role="status">No containers found on ${this.connections.map(hostLabel).join(', ')}: showing cgroups.</p>`
        : nothing}
      ${this.rows.length === 0 && !this.fellBack
        ? html`<p class="note" role="status">Waiting for data…</p>`
        : nothing}
      ${shown.length === 0 && this.rows.length > 0 ? html`<p class="note" role="status">Nothing matches “${this.filter}”.</p>` : nothing}
      <metric-chart id="top" .source=${this.topSource()} .time=${this.time} height="170"></metric-chart>
      <container-table .rows=${shown} sort=${this.sort}></container-table>
    `;
  }

  /**
   * The rows in the table's order: the last sort's while it is recent and the same rows are
   * shown, else a new sort. Always a new array: the table renders values read in place.
   */
  private ordered(): ContainerRow[] {
    const by = `${this.sort}\u0000${this.filter}`;
    const now = performance.now();
    const last = this.order?.by === by && now - this.order.at < RESORT_MS ? this.order : undefined;
    // Only the rows in view read a sample: the same rows, in the same order.
    if (last?.from === this.rows) return [...last.shown];
    const rows = filterRows(this.rows, this.filter);
    if (last && last.shown.length === rows.length) {
      const byKey = new Map(rows.map((r) => [r.key, r]));
      const kept = last.shown.map((r) => byKey.get(r.key));
      if (kept.every((r) => r !== undefined)) {
        this.order = { ...last, from: this.rows, shown: kept as ContainerRow[] };
        return [...this.order.shown];
      }
    }
    this.order = { by, at: now, from: this.rows, shown: sortRows(rows, this.sort) };
    return [...this.order.shown];
  }

  /**
   * The top chart's source: the same function while what it shows stays the same. A new one
   * makes the chart ask for its lines at once; on every render (every few samples) that would
   * rank all rows a few times a second instead of once.
   */
  private topSource(): () => ChartSpec {
    const key = `${this.resource}|${this.top}|${this.filter}|${this.cgroups}`;
    if (this.topSourceOf?.key !== key) this.topSourceOf = { key, source: () => this.topChart() };
    return this.topSourceOf.source;
  }

  /** Lines of the top N rows (after the filter) by the chosen resource, ranked over the last half minute. */
  private topChart(): ChartSpec {
    const def = RESOURCE_OF[this.resource]!;
    const ranked = filterRows(this.rows, this.filter)
      .flatMap((row) => {
        const r = this.byHost.get(row.host)?.ranks.get(row.key);
        return r ? [{ row, ...r }] : [];
      })
      // Ties (idle containers) in a fixed order: the chart's lines do not swap places every second.
      .sort((a, b) => b.rank - a.rank || resourceValue(b.row, this.resource) - resourceValue(a.row, this.resource) || (a.row.key < b.row.key ? -1 : 1))
      .slice(0, this.top);
    const multiHost = this.connections.length > 1;
    const lines: Line[] = ranked.map(({ row, terms }) => ({
      label: multiHost ? `${row.name} @${row.hostname}` : row.name,
      host: row.hostname,
      terms,
    }));
    return {
      id: 'top', title: `Top ${this.top} by ${def.label}`, kind: def.kind, lines, missing: [],
      help: 'The busiest containers (or cgroups) of all hosts over the last 30 s, on one time axis.',
    };
  }

  private change(detail: Record<string, unknown>): void {
    this.dispatchEvent(new CustomEvent('state-change', { detail, bubbles: true, composed: true }));
  }
}

customElements.define('containers-view', ContainersView);
