import { LitElement, css, html, nothing } from 'lit';
import { worstPressure, type ContainerRow } from '../data/containers.js';
import { formatValue } from '../data/units.js';

interface Column {
  key: string;
  label: string;
  title: string;
  numeric?: boolean;
}

const COLUMNS: readonly Column[] = [
  { key: 'name', label: 'Name', title: 'container name (engine, pod and namespace below), or cgroup path' },
  { key: 'host', label: 'Host', title: 'agent hostname' },
  { key: 'cpu', label: 'CPU', title: 'cores in use, against the CFS quota or cpuset (sort by use)', numeric: true },
  { key: 'cpulimit', label: 'of limit', title: 'CPU use as a share of the limit', numeric: true },
  { key: 'throttled', label: 'Throttled', title: 'share of CFS periods in which the cgroup was throttled', numeric: true },
  { key: 'workingset', label: 'Memory', title: 'working set (usage minus inactive file cache), against the memory limit', numeric: true },
  { key: 'memlimit', label: 'of limit', title: 'working set as a share of the memory limit', numeric: true },
  { key: 'oom', label: 'OOM', title: 'processes killed by the OOM killer', numeric: true },
  { key: 'io', label: 'Disk', title: 'bytes read + written per second', numeric: true },
  { key: 'network', label: 'Net', title: 'bytes received + sent per second in its network namespace', numeric: true },
  { key: 'pressure', label: 'PSI', title: 'largest of CPU, memory and I/O pressure (some, 10 s)', numeric: true },
  { key: 'tasks', label: 'Tasks', title: 'processes and threads', numeric: true },
];

const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : '—');

/** A bar of use against a limit; no bar without a limit. */
function bar(fraction: number) {
  if (!Number.isFinite(fraction)) return nothing;
  const width = Math.min(100, Math.max(0, fraction * 100));
  const level = fraction >= 0.9 ? 'hot' : fraction >= 0.7 ? 'warm' : '';
  return html`<span class="bar"><span class="fill ${level}" style="width:${width}%"></span></span>`;
}

/**
 * The `top` of containers (pcp-ctop): one row per container or cgroup, sortable by any
 * column, each row opening the container's page (click or Enter). Emits `sort-change` {sort}
 * and `open-container` {host, id}.
 */
export class ContainerTable extends LitElement {
  static override properties = { rows: { attribute: false }, sort: {}, limit: { state: true } };
  declare rows: ContainerRow[];
  declare sort: string;
  declare limit: number;

  constructor() {
    super();
    this.rows = [];
    this.sort = '-cpu';
    this.limit = 200;
  }

  static override styles = css`
    :host { display: block; overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; font-size: 12px; background: var(--panel); }
    th, td { padding: 4px 8px; border-bottom: 1px solid var(--grid); text-align: left; white-space: nowrap; }
    th { position: sticky; top: 0; background: var(--panel); z-index: 1; }
    th button { all: unset; cursor: pointer; font-weight: 600; }
    th button:focus-visible { outline: 2px solid var(--focus); }
    .num { text-align: right; font-family: var(--mono); font-variant-numeric: tabular-nums; }
    tbody tr { cursor: pointer; }
    tbody tr:hover, tbody tr:focus { background: var(--select); outline: none; }
    .sub { color: var(--muted); font-size: 11px; }
    .name { max-width: 360px; overflow: hidden; text-overflow: ellipsis; display: block; font-weight: 600; }
    .badge { border: 1px solid var(--border); border-radius: 3px; padding: 0 4px; font-size: 10px; color: var(--muted); margin-right: 4px; }
    .bar { display: inline-block; width: 48px; height: 6px; background: var(--bar); border-radius: 3px; margin-left: 6px; vertical-align: middle; overflow: hidden; }
    .fill { display: block; height: 100%; background: var(--c0); }
    .fill.warm { background: var(--warn); }
    .fill.hot { background: var(--bad); }
    .oom { color: var(--bad); font-weight: 600; }
    .more { padding: 8px; }
    .more button { font: inherit; }
  `;

  override render() {
    const desc = this.sort.startsWith('-');
    const key = desc ? this.sort.slice(1) : this.sort;
    const shown = this.rows.slice(0, this.limit);
    return html`
      <table>
        <thead>
          <tr>
            ${COLUMNS.map(
              (c) => html`<th class=${c.numeric ? 'num' : ''} title=${c.title}
                aria-sort=${c.key === key ? (desc ? 'descending' : 'ascending') : 'none'}>
                <button @click=${() => this.setSort(c)}>${c.label}${c.key === key ? (desc ? ' ▼' : ' ▲') : ''}</button>
              </th>`,
            )}
          </tr>
        </thead>
        <tbody>
          ${shown.map(
            (r) => html`<tr tabindex="0" data-key=${r.key} data-kind=${r.kind}
              @click=${() => this.open(r)} @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.open(r)}>
              <td>
                <span class="name" title=${r.kind === 'container' ? `${r.name}\n${r.id}\n${r.cgroup}` : r.cgroup}>${r.name}</span>
                <span class="sub">${r.engine ? html`<span class="badge">${r.engine}</span>` : html`<span class="badge">cgroup</span>`}${[r.pod, r.namespace, r.image].filter(Boolean).join(' · ')}${r.running ? '' : ' (stopped)'}</span>
              </td>
              <td>${r.hostname}</td>
              <td class="num">${formatValue(r.cpu, 'cores')}<span class="sub">${Number.isFinite(r.cpuLimit) ? ` / ${formatValue(r.cpuLimit, 'number')}` : ''}</span></td>
              <td class="num">${pct(r.cpu / r.cpuLimit)}${bar(r.cpu / r.cpuLimit)}</td>
              <td class="num">${pct(r.throttled)}</td>
              <td class="num">${formatValue(Number.isNaN(r.workingSet) ? r.memory : r.workingSet, 'bytes')}<span class="sub">${Number.isFinite(r.memoryLimit) ? ` / ${formatValue(r.memoryLimit, 'bytes')}` : ''}</span></td>
              <td class="num">${pct((Number.isNaN(r.workingSet) ? r.memory : r.workingSet) / r.memoryLimit)}${bar((Number.isNaN(r.workingSet) ? r.memory : r.workingSet) / r.memoryLimit)}</td>
              <td class="num ${r.oomKills > 0 ? 'oom' : ''}">${Number.isFinite(r.oomKills) ? r.oomKills : '—'}</td>
              <td class="num">${formatValue(r.readBps, 'bytes/s')} / ${formatValue(r.writeBps, 'bytes/s')}</td>
              <td class="num">${formatValue(r.rxBps, 'bytes/s')} / ${formatValue(r.txBps, 'bytes/s')}</td>
              <td class="num">${pct(worstPressure(r))}</td>
              <td class="num">${Number.isFinite(r.tasks) ? r.tasks : '—'}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${this.rows.length > this.limit
        ? html`<div class="more">${this.rows.length - this.limit} more rows. <button @click=${() => (this.limit += 200)}>Show 200 more</button> or narrow the filter.</div>`
        : nothing}
    `;
  }

  private setSort(c: Column): void {
    const current = this.sort.replace(/^-/, '');
    // Numbers sort biggest first on the first click; names alphabetically.
    const sort = current === c.key ? (this.sort.startsWith('-') ? c.key : `-${c.key}`) : c.numeric ? `-${c.key}` : c.key;
    this.dispatchEvent(new CustomEvent('sort-change', { detail: { sort }, bubbles: true, composed: true }));
  }

  private open(r: ContainerRow): void {
    this.dispatchEvent(new CustomEvent('open-container', { detail: { host: r.host, id: r.id }, bubbles: true, composed: true }));
  }
}

customElements.define('container-table', ContainerTable);
