import { LitElement, css, html, nothing } from 'lit';
import type { AgentConnection } from '../data/connection.js';
import { RESOURCE_OF, ResourceReader, plus } from '../data/containers.js';
import { callTree, cgroupTree, type CgroupValue, type ProcessValue, type TreeNode } from '../data/hierarchy.js';
import type { SeriesSource } from '../data/host-data.js';
import { cgroupOf, processRows } from '../data/processes.js';
import type { Kind } from '../data/units.js';
import { hostLabel } from './host-list.js';
import { ticker } from './ticker.js';
import './host-state.js';
import './icicle-chart.js';

type TreeResource = 'cpu' | 'memory' | 'io';

/** Which v1 controller's path places a process for each resource. */
const CONTROLLERS: Record<TreeResource, readonly string[]> = { cpu: ['cpuacct', 'cpu'], memory: ['memory'], io: ['blkio', 'io'] };

/** One host's cgroup hierarchy sized by a resource, with processes as leaves (CPU and memory). */
export function hostTree(source: SeriesSource, procs: SeriesSource | undefined, resource: TreeResource, name: string): TreeNode {
  const def = RESOURCE_OF[resource]!;
  const reader = new ResourceReader(source);
  const containers = new Map<string, string>();
  for (const id of source.instances('containers.cgroup')) {
    const cgroup = source.latest('containers.cgroup', id);
    const cname = source.latest('containers.name', id);
    if (typeof cgroup === 'string') containers.set(cgroup, typeof cname === 'string' && cname ? cname : (source.instanceName('containers.cgroup', id) ?? '').slice(0, 12));
  }
  // Every cgroup any source of the resource names (per-device instances contribute their cgroup).
  const paths = new Set<string>();
  for (const metrics of def.sum) {
    for (const metric of metrics) {
      for (const id of source.instances(metric)) {
        const iname = source.instanceName(metric, id);
        if (iname?.startsWith('/')) paths.add(iname.split('::')[0]!);
      }
    }
  }
  const values: CgroupValue[] = [];
  for (const path of paths) {
    const value = def.sum.map((metrics) => reader.current(metrics, path)).reduce(plus, NaN);
    if (Number.isNaN(value)) continue;
    const container = containers.get(path);
    values.push(container ? { path, value, kind: 'container', label: container, detail: `container, cgroup ${path}` } : { path, value, detail: `cgroup ${path}` });
  }
  const processes: ProcessValue[] = [];
  if (procs && resource !== 'io') {
    for (const p of processRows(procs)) {
      const cgroup = cgroupOf(p.cgroups, CONTROLLERS[resource]);
      const value = resource === 'cpu' ? p.cpu : p.rss;
      if (cgroup && value > 0) processes.push({ cgroup, name: `${p.cmd} (${p.pid})`, value, detail: p.args });
    }
  }
  const root = cgroupTree(values, processes, name);
  root.kind = 'host';
  return root;
}

/**
 * Where the resources go, live: an icicle of every host's cgroup hierarchy (slices → pods →
 * containers → processes) sized by CPU, memory or I/O, rebuilt every sample; and a CPU flame
 * graph of a host or cgroup from the agent's profiler (perf), once or continuously.
 */
export class FlameView extends LitElement {
  static override properties = {
    connections: { attribute: false },
    zoom: { attribute: false },
    resource: {},
    profile: { state: true },
    profileZoom: { state: true },
  };
  declare connections: AgentConnection[];
  declare zoom: string[];
  declare resource: string;
  /** The profile being shown: its agent, target, state and tree. */
  declare profile: { url: string; target: string; id?: string; state: string; message: string; tree?: TreeNode; live: boolean } | undefined;
  declare profileZoom: string[];
  private tree?: TreeNode;
  private seen = '';
  private unregister?: () => void;
  private poll?: ReturnType<typeof setTimeout>;

  constructor() {
    super();
    this.connections = [];
    this.zoom = [];
    this.resource = 'cpu';
    this.profileZoom = [];
  }

  static override styles = css`
    :host { display: block; }
    .toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; font-size: 12px; }
    select, button { font: inherit; border: 1px solid var(--border); background: var(--panel); color: var(--fg); border-radius: 4px; padding: 3px 8px; }
    button { cursor: pointer; }
    h2 { font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 18px 0 6px; }
    .note { color: var(--muted); font-size: 12px; }
    .error { color: var(--bad); font-size: 12px; }
  `;

  private get treeResource(): TreeResource {
    return this.resource === 'memory' || this.resource === 'io' ? this.resource : 'cpu';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.unregister = ticker.add(() => this.recompute());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unregister?.();
    clearTimeout(this.poll);
    this.stopLive();
  }

  private recompute(): void {
    const key = this.connections.map((c) => `${c.store('main')?.version}.${c.store('procs')?.version}`).join() + this.resource;
    if (key === this.seen) return;
    this.seen = key;
    const hosts: TreeNode[] = [];
    for (const c of this.connections) {
      const main = c.store('main');
      if (main?.length) hosts.push(hostTree(main, c.store('procs'), this.treeResource, hostLabel(c)));
    }
    this.tree = hosts.length === 1
      ? hosts[0]
      : { name: 'all hosts', value: hosts.reduce((s, h) => s + h.value, 0), children: hosts.sort((a, b) => b.value - a.value), kind: 'host' };
    this.requestUpdate();
  }

  override render() {
    const kind: Kind = RESOURCE_OF[this.treeResource]!.kind;
    const target = this.profileTarget();
    return html`
      <host-state .connections=${this.connections}></host-state>
      <div class="toolbar" role="toolbar" aria-label="icicle options">
        <label>size by
          <select aria-label="size by" @change=${(e: Event) => this.change({ resource: (e.target as HTMLSelectElement).value })}>
            ${(['cpu', 'memory', 'io'] as const).map((r) => html`<option value=${r} ?selected=${r === this.treeResource}>${RESOURCE_OF[r]!.label}</option>`)}
          </select>
        </label>
        <span class="note">Click a box to zoom in, the trail to zoom out. Sizes are live; processes are leaves (CPU and memory).</span>
      </div>
      <icicle-chart id="cgroups" label="cgroup hierarchy by ${RESOURCE_OF[this.treeResource]!.label}" .root=${this.tree} .zoom=${this.zoom} kind=${kind}
        @zoom-change=${(e: CustomEvent<{ path: string[] }>) => this.change({ zoom: e.detail.path })}></icicle-chart>

      <h2>CPU flame graph (perf)</h2>
      <div class="toolbar">
        ${target
          ? html`<span>of <strong>${target.label}</strong></span>
              <button @click=${() => this.startProfile(target, false)}>Record 10 s</button>
              <button @click=${() => this.startProfile(target, true)} title="sample continuously at a low rate; the graph shows the last 30 s">Live</button>
              ${this.profile?.live ? html`<button @click=${() => this.stopLive()}>Stop</button>` : nothing}`
          : html`<span class="note">Connect an agent to profile it.</span>`}
        <span class=${this.profile?.state === 'error' ? 'error' : 'note'} role="status">${this.profile?.message ?? 'Zoom into a host, cgroup or container above to profile just that.'}</span>
      </div>
      ${this.profile?.tree
        ? html`<icicle-chart id="profile" label="CPU flame graph" .root=${this.profile.tree} .zoom=${this.profileZoom} kind="number"
            @zoom-change=${(e: CustomEvent<{ path: string[] }>) => {
              e.stopPropagation();
              this.profileZoom = e.detail.path;
            }}></icicle-chart>`
        : nothing}
    `;
  }

  /** The host, cgroup or container the icicle is zoomed into: what a profile would cover. */
  private profileTarget(): { url: string; target: unknown; label: string } | undefined {
    const multi = this.connections.length > 1;
    const path = [...this.zoom];
    const hostName = multi ? path.shift() : undefined;
    const conn = multi ? this.connections.find((c) => hostLabel(c) === hostName) ?? this.connections[0] : this.connections[0];
    if (!conn) return undefined;
    if (path.length === 0) return { url: conn.url, target: 'host', label: hostLabel(conn) };
    // Names in the tree are cgroup path parts, except containers, which show their name.
    const main = conn.store('main');
    const cgroup = `/${path.join('/')}`;
    for (const id of main?.instances('containers.name') ?? []) {
      if (main!.latest('containers.name', id) === path[path.length - 1]) {
        return { url: conn.url, target: { container: main!.instanceName('containers.name', id) }, label: `container ${path[path.length - 1]} on ${hostLabel(conn)}` };
      }
    }
    return { url: conn.url, target: { cgroup }, label: `cgroup ${cgroup} on ${hostLabel(conn)}` };
  }

  private async startProfile(target: { url: string; target: unknown; label: string }, live: boolean): Promise<void> {
    this.stopLive();
    clearTimeout(this.poll);
    this.profileZoom = [];
    this.profile = { url: target.url, target: target.label, state: 'starting', message: `starting perf for ${target.label}…`, live };
    try {
      const response = await fetch(`${target.url}/profile`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(live ? { target: target.target, live: true } : { target: target.target, seconds: 10 }),
      });
      const body = (await response.json().catch(() => ({}))) as { id?: string; error?: string };
      if (response.status === 404 && !body.id) throw new Error('this agent has no profiler (/profile is missing)');
      if (!response.ok || !body.id) throw new Error(body.error ?? `HTTP ${response.status}`);
      this.profile = { ...this.profile, id: body.id, state: 'running', message: live ? 'live: sampling…' : 'recording 10 s…' };
      this.pollProfile();
    } catch (error) {
      this.profile = { ...this.profile!, state: 'error', message: `cannot profile ${target.label}: ${(error as Error).message}` };
    }
  }

  private pollProfile(): void {
    const p = this.profile;
    if (!p?.id) return;
    this.poll = setTimeout(async () => {
      try {
        const status = (await (await fetch(`${p.url}/profile/${p.id}`, { cache: 'no-store' })).json()) as {
          state?: string; samples?: number; error?: string; progress?: number | null; perfCpuPercent?: number;
        };
        if (this.profile?.id !== p.id) return;
        if (status.state === 'error') throw new Error(status.error ?? 'the profile failed');
        const tree = callTree(await (await fetch(`${p.url}/profile/${p.id}/tree`, { cache: 'no-store' })).json());
        // 'processing' (perf has stopped, its output is still being parsed) is not finished yet:
        // stopping there would show a tree without its last samples, or none at all.
        const done = status.state === 'done' || status.state === 'cancelled';
        const cost = status.perfCpuPercent !== undefined ? `, perf used ${status.perfCpuPercent} % of a CPU` : '';
        this.profile = {
          ...p,
          tree,
          state: done ? 'done' : 'running',
          message: `${status.samples ?? 0} samples${p.live ? ' in the last 30 s (live)' : done ? '' : ` (${Math.round((status.progress ?? 0) * 100)} %)`}${cost}`,
        };
        if (!done || p.live) this.pollProfile();
      } catch (error) {
        if (this.profile?.id === p.id) this.profile = { ...p, state: 'error', message: (error as Error).message };
      }
    }, this.profile?.live ? 3000 : 1000);
  }

  private stopLive(): void {
    const p = this.profile;
    if (p?.live && p.id) void fetch(`${p.url}/profile/${p.id}`, { method: 'DELETE' }).catch(() => undefined);
    if (p?.live) this.profile = { ...p, live: false, state: 'done', message: 'live profile stopped' };
    clearTimeout(this.poll);
  }

  private change(detail: Record<string, unknown>): void {
    this.dispatchEvent(new CustomEvent('state-change', { detail, bubbles: true, composed: true }));
  }
}

customElements.define('flame-view', FlameView);
