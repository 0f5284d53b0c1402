import { LitElement, css, html, nothing } from 'lit';
import type { ChartSpec, Line, Term } from '../data/chart-data.js';
import type { AgentConnection } from '../data/connection.js';
import { containerRows, type ContainerRow } from '../data/containers.js';
import { displayOfMeta, type SeriesSource } from '../data/host-data.js';
import { cgroupOf, inCgroup, processRows, type ProcessRow } from '../data/processes.js';
import type { Kind } from '../data/units.js';
import { formatValue } from '../data/units.js';
import { hostLabel } from './host-list.js';
import type { TimeView } from './metric-chart.js';
import { ticker } from './ticker.js';
import './host-state.js';
import './metric-chart.js';

/** A metric of one instance name (or the sum over `<name>::<device>` instances) as chart terms. */
function terms(source: SeriesSource, metric: string, name: string, perDevice = false, extra = 1): Term[] {
  const meta = source.meta.get(metric);
  if (!meta) return [];
  const factor = displayOfMeta(meta).scale * extra;
  const out: Term[] = [];
  for (const id of source.instances(metric)) {
    const iname = source.instanceName(metric, id);
    if (iname === name || (perDevice && iname?.startsWith(`${name}::`))) out.push({ source, metric, instance: id, factor });
  }
  return out;
}

interface LineDef {
  label: string;
  /** First metric the host has wins (cgroup v1 and v2 names). */
  metrics: readonly string[];
  perDevice?: boolean;
  /** Instance name when not the cgroup path (network: container id). */
  key?: 'container';
  extra?: number;
  /** Divide by this line's rate (throttled periods ÷ periods). */
  over?: readonly string[];
}

interface ChartDef {
  id: string;
  title: string;
  kind: Kind;
  lines: readonly LineDef[];
  max?: number;
  help: string;
  /** A dashed limit line from the row. */
  limit?: (row: ContainerRow) => number;
}

const CHARTS: readonly ChartDef[] = [
  {
    id: 'cpu', title: 'CPU (cores)', kind: 'cores',
    lines: [
      { label: 'used', metrics: ['cgroup.cpuacct.usage', 'cgroup.cpu.stat.usage'] },
      { label: 'user', metrics: ['cgroup.cpu.stat.user', 'cgroup.cpuacct.stat.user'] },
      { label: 'system', metrics: ['cgroup.cpu.stat.system', 'cgroup.cpuacct.stat.system'] },
    ],
    limit: (r) => r.cpuLimit,
    help: 'CPU time per second in cores; the dashed line is the limit from the CFS quota or cpuset.',
  },
  {
    id: 'throttle', title: 'CPU throttling', kind: 'percent', max: 1,
    lines: [
      { label: 'periods throttled', metrics: ['cgroup.cpusched.throttled'], over: ['cgroup.cpusched.periods'] },
      { label: 'time throttled', metrics: ['cgroup.cpusched.throttled_time'] },
    ],
    help: 'Share of CFS periods in which the quota ran out, and throttled time per second.',
  },
  {
    id: 'memory', title: 'Memory', kind: 'bytes',
    lines: [
      { label: 'usage', metrics: ['cgroup.memory.usage', 'cgroup.memory.current'] },
      { label: 'working set', metrics: ['cgroup.memory.working_set'] },
      { label: 'anon', metrics: ['cgroup.memory.stat.anon', 'cgroup.memory.stat.rss'] },
      { label: 'file cache', metrics: ['cgroup.memory.stat.file', 'cgroup.memory.stat.cache'] },
    ],
    limit: (r) => r.memoryLimit,
    help: 'Memory charged to the cgroup; the working set is what the kubelet evicts on. The dashed line is the limit.',
  },
  {
    id: 'oom', title: 'OOM kills and limit hits', kind: 'count/s',
    lines: [
      { label: 'OOM kills', metrics: ['cgroup.memory.events.oom_kill'] },
      { label: 'hit the limit', metrics: ['cgroup.memory.events.max', 'cgroup.memory.failcnt'] },
    ],
    help: 'Processes killed by the OOM killer and allocations that hit the memory limit, per second.',
  },
  {
    id: 'io', title: 'Disk I/O', kind: 'bytes/s',
    lines: [
      { label: 'read', metrics: ['cgroup.io.stat.rbytes', 'cgroup.blkio.all.throttle.io_service_bytes.read'], perDevice: true },
      { label: 'write', metrics: ['cgroup.io.stat.wbytes', 'cgroup.blkio.all.throttle.io_service_bytes.write'], perDevice: true },
    ],
    help: 'Bytes read and written per second, all devices.',
  },
  {
    id: 'net', title: 'Network (its namespace)', kind: 'bytes/s',
    lines: [
      { label: 'received', metrics: ['containers.network.interface.in.bytes'], perDevice: true, key: 'container' },
      { label: 'sent', metrics: ['containers.network.interface.out.bytes'], perDevice: true, key: 'container' },
    ],
    help: 'Bytes per second through the interfaces inside the container\'s network namespace (loopback included).',
  },
  {
    id: 'tcp', title: 'TCP (its namespace)', kind: 'number',
    lines: [
      { label: 'established', metrics: ['containers.network.tcpconn.established'], key: 'container' },
      { label: 'time wait', metrics: ['containers.network.tcpconn.time_wait'], key: 'container' },
      { label: 'retransmits/s', metrics: ['containers.network.tcp.retranssegs'], key: 'container' },
    ],
    help: 'TCP connections by state and segments retransmitted per second, in the container\'s network namespace.',
  },
  {
    id: 'psi', title: 'Pressure (some, 10 s)', kind: 'percent', max: 1,
    lines: [
      { label: 'cpu', metrics: ['cgroup.pressure.cpu.some.avg10sec'], extra: 0.01 },
      { label: 'memory', metrics: ['cgroup.pressure.memory.some.avg10sec'], extra: 0.01 },
      { label: 'io', metrics: ['cgroup.pressure.io.some.avg10sec'], extra: 0.01 },
    ],
    help: 'Share of the last 10 s in which some of its tasks waited for CPU, memory or I/O (PSI, cgroup v2).',
  },
  {
    id: 'tasks', title: 'Tasks', kind: 'number',
    lines: [{ label: 'processes and threads', metrics: ['cgroup.pids.current'] }],
    help: 'Processes and threads in the cgroup (pids controller).',
  },
];

/**
 * Everything about one container (or cgroup) on one page: what it is, its limits drawn on its
 * charts, its processes and its own network namespace. Data comes from a subscription limited
 * to the container (full history at once), else from the host's main one.
 */
export class ContainerDetail extends LitElement {
  static override properties = {
    connections: { attribute: false },
    container: { attribute: false },
    time: { attribute: false },
  };
  declare connections: AgentConnection[];
  declare container: { host: string; id: string } | undefined;
  declare time: TimeView;
  private row?: ContainerRow;
  private processes: ProcessRow[] = [];
  private seen = '';
  private unregister?: () => void;

  constructor() {
    super();
    this.connections = [];
    this.time = { window: 300 };
  }

  static override styles = css`
    :host { display: block; }
    .head { display: flex; flex-wrap: wrap; gap: 4px 24px; align-items: baseline; margin: 8px 0 4px; }
    h2 { margin: 0; font-size: 18px; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; font-size: 12px; margin: 6px 0 10px; }
    dt { color: var(--muted); }
    dd { margin: 0; font-family: var(--mono); word-break: break-all; }
    .grid { display: grid; gap: 8px; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); }
    h3 { font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 16px 0 6px; }
    table { border-collapse: collapse; width: 100%; font-size: 12px; background: var(--panel); }
    th, td { padding: 3px 8px; border-bottom: 1px solid var(--grid); text-align: left; white-space: nowrap; }
    .num { text-align: right; font-family: var(--mono); }
    .args { max-width: 520px; overflow: hidden; text-overflow: ellipsis; font-family: var(--mono); }
    .note { color: var(--muted); }
    button { font: inherit; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    this.unregister = ticker.add(() => this.recompute());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unregister?.();
  }

  private get conn(): AgentConnection | undefined {
    return this.connections.find((c) => c.url === this.container?.host);
  }

  /** The detail subscription once its back-fill came; the host's main store until then, or if it failed (the container stopped). */
  private get source(): SeriesSource | undefined {
    const c = this.conn;
    return c?.ready('detail') && !c.subscriptionError('detail') ? c.store('detail') : c?.store('main');
  }

  private recompute(): void {
    const c = this.conn;
    const main = c?.store('main');
    const procs = c?.store('procs');
    const key = `${main?.version}.${procs?.version}.${c?.catalog.version}`;
    if (!c || !main || key === this.seen) return;
    this.seen = key;
    const id = this.container!.id;
    this.row = containerRows(main, c.url, hostLabel(c), true).find((r) => r.id === id || r.cgroup === id) ?? this.row;
    const row = this.row;
    this.processes = procs && row
      ? processRows(procs)
          .filter((p) => (row.kind === 'container' && p.container === row.id) || inCgroup(cgroupOf(p.cgroups, ['cpuacct', 'cpu', 'memory']) ?? '', row.cgroup))
          .sort((a, b) => (b.cpu || 0) - (a.cpu || 0))
      : [];
    this.requestUpdate();
  }

  override render() {
    const c = this.conn;
    const row = this.row;
    if (!this.container) return html`<p class="note">No container selected.</p>`;
    if (!c) return html`<p class="note">The agent ${this.container.host} is not connected. Add it to see this container.</p>`;
    return html`
      <host-state .connections=${[c]}></host-state>
      <div class="head">
        <button @click=${() => this.back()} aria-label="back to all containers">← containers</button>
        <h2>${row?.name ?? this.container.id}</h2>
        <span class="note">${row ? `${row.engine || 'cgroup'} on ${row.hostname}` : 'waiting for data…'}${row && !row.running ? ' (stopped)' : ''}</span>
      </div>
      ${c.subscriptionError('detail') ? html`<p class="note" role="status">Its own history is not available: ${c.subscriptionError('detail')}</p>` : nothing}
      ${row ? this.facts(row) : nothing}
      <div class="grid">
        ${CHARTS.map((def) => html`<metric-chart data-chart=${def.id} .source=${() => this.chart(def)} .time=${this.time}></metric-chart>`)}
      </div>
      <h3>Processes (${this.processes.length})</h3>
      ${this.processTable()}
    `;
  }

  private facts(r: ContainerRow) {
    const facts: Array<[string, string]> = [
      ['id', r.id],
      ['cgroup', r.cgroup],
      ['CPU limit', Number.isFinite(r.cpuLimit) ? formatValue(r.cpuLimit, 'cores') : 'none'],
      ['memory limit', Number.isFinite(r.memoryLimit) ? formatValue(r.memoryLimit, 'bytes') : 'none'],
      ['OOM kills', Number.isFinite(r.oomKills) ? String(r.oomKills) : '—'],
    ];
    if (r.pod) facts.push(['pod', `${r.namespace ? `${r.namespace}/` : ''}${r.pod}`]);
    if (r.image) facts.push(['image', r.image]);
    return html`<dl>${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
  }

  private chart(def: ChartDef): ChartSpec {
    const source = this.source;
    const row = this.row;
    const lines: Line[] = [];
    const missing: string[] = [];
    if (source && row) {
      for (const l of def.lines) {
        const name = l.key === 'container' ? row.id : row.cgroup;
        const metric = l.metrics.find((m) => terms(source, m, name, l.perDevice).length > 0);
        if (!metric) {
          if (!l.metrics.some((m) => source.meta.has(m))) missing.push(l.metrics[0]!);
          continue;
        }
        const line: Line = { label: l.label, host: row.hostname, terms: terms(source, metric, name, l.perDevice, l.extra) };
        if (l.over) {
          const over = l.over.map((m) => terms(source, m, name)).find((t) => t.length);
          if (!over) continue;
          line.over = over;
        }
        lines.push(line);
      }
      const limit = def.limit?.(row);
      if (limit !== undefined && Number.isFinite(limit) && lines.length) lines.push({ label: 'limit', host: row.hostname, terms: [], constant: limit });
    }
    const netns = def.lines.every((l) => l.key === 'container');
    const note = netns && row?.kind === 'cgroup' ? 'A plain cgroup has no network namespace of its own: its processes use the host\'s (see Hosts).' : undefined;
    return { id: def.id, title: def.title, kind: def.kind, lines, max: def.max, help: def.help, missing: note ? [] : missing, note };
  }

  private processTable() {
    if (!this.conn?.store('procs')) return html`<p class="note">Loading processes…</p>`;
    if (this.processes.length === 0) return html`<p class="note">No processes in this cgroup right now.</p>`;
    return html`<table>
      <thead><tr><th class="num">PID</th><th>ns PIDs</th><th>S</th><th class="num">CPU</th><th class="num">RSS</th><th class="num">threads</th><th class="num">fds</th><th>command</th></tr></thead>
      <tbody>
        ${this.processes.slice(0, 200).map(
          (p) => html`<tr>
            <td class="num">${p.pid}</td><td>${p.nspids}</td><td>${p.state}</td>
            <td class="num">${formatValue(p.cpu, 'cores')}</td><td class="num">${formatValue(p.rss, 'bytes')}</td>
            <td class="num">${Number.isFinite(p.threads) ? p.threads : '—'}</td><td class="num">${Number.isFinite(p.fds) ? p.fds : '—'}</td>
            <td class="args" title=${p.args}>${p.args || p.cmd}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private back(): void {
    this.dispatchEvent(new CustomEvent('state-change', { detail: { view: 'containers', container: undefined }, bubbles: true, composed: true }));
  }
}

customElements.define('container-detail', ContainerDetail);
