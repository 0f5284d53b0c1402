import { LitElement, css, html, nothing } from 'lit';
import { AgentConnection } from '../data/connection.js';
import { subscriptionsFor } from '../data/needs.js';
import { stateFromQuery, stateToQuery, type ConsoleState, type View } from '../data/url-state.js';
import type { TimeView } from './metric-chart.js';
import type { TimeBar } from './time-bar.js';
import { ticker } from './ticker.js';
import './container-detail.js';
import './containers-view.js';
import './custom-view.js';
import './flame-view.js';
import { labelHosts } from './host-list.js';
import './host-overview.js';
import './time-bar.js';

const TABS: ReadonlyArray<[View, string]> = [
  ['overview', 'Hosts'],
  ['containers', 'Containers'],
  ['flame', 'Icicle'],
  ['custom', 'Custom'],
];

/** Views change with a new history entry (Back works); filters and time only replace it. */
const PUSHED: ReadonlyArray<keyof ConsoleState> = ['view', 'hosts', 'container'];

/**
 * The console: connections to the agents in the URL, the views, the time controls. All state
 * that matters is in the URL (see url-state.ts); this element turns it into connections and
 * subscriptions and routes events from the views back into it.
 */
export class VigilApp extends LitElement {
  static override properties = { state: { attribute: false }, problems: { state: true } };
  declare state: ConsoleState;
  declare problems: string[];
  private readonly connections = new Map<string, AgentConnection>();
  private unregister?: () => void;
  private perfSince = 0;
  private readonly media = window.matchMedia('(prefers-color-scheme: dark)');

  constructor() {
    super();
    const { state, problems } = stateFromQuery(location.search, location.origin);
    this.state = state;
    this.problems = problems;
  }

  static override styles = css`
    :host { display: block; min-height: 100vh; }
    header {
      position: sticky; top: 0; z-index: 10; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center;
      padding: 8px 16px; background: var(--panel); border-bottom: 1px solid var(--border);
    }
    .brand { font-weight: 700; letter-spacing: 0.04em; color: var(--accent); }
    nav { display: flex; gap: 2px; }
    nav button {
      font: inherit; border: 1px solid transparent; background: none; color: var(--muted); padding: 4px 10px; border-radius: 4px; cursor: pointer;
    }
    nav button[aria-current='page'] { color: var(--fg); border-color: var(--border); background: var(--bg); font-weight: 600; }
    host-list { flex: 1; min-width: 240px; }
    .right { display: flex; gap: 6px; align-items: center; }
    .right button { font: inherit; font-size: 12px; border: 1px solid var(--border); background: var(--panel); color: var(--fg); border-radius: 4px; padding: 3px 8px; cursor: pointer; }
    main { padding: 8px 16px 32px; }
    .problems { background: var(--panel); border-left: 4px solid var(--warn); padding: 6px 12px; margin: 8px 16px 0; font-size: 12px; }
    footer { color: var(--muted); font-size: 11px; padding: 0 16px 12px; font-family: var(--mono); }
    button:focus-visible { outline: 2px solid var(--focus); }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    this.applyTheme();
    this.media.addEventListener('change', this.applyTheme);
    window.addEventListener('popstate', this.onPopState);
    document.addEventListener('keydown', this.onKey);
    this.syncConnections();
    this.unregister = ticker.add(() => this.tick());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.media.removeEventListener('change', this.applyTheme);
    window.removeEventListener('popstate', this.onPopState);
    document.removeEventListener('keydown', this.onKey);
    this.unregister?.();
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private get connectionList(): AgentConnection[] {
    return this.state.hosts.map((h) => this.connections.get(h)).filter((c): c is AgentConnection => c !== undefined);
  }

  private get time(): TimeView {
    return { window: this.state.window, range: this.state.range };
  }

  override render() {
    const s = this.state;
    const connections = this.connectionList;
    return html`
      <header>
        <span class="brand">VIGIL</span>
        <nav aria-label="views">
          ${TABS.map(
            ([view, label], i) => html`<button aria-current=${s.view === view || (view === 'containers' && s.view === 'container') ? 'page' : 'false'}
              title="${label} (${i + 1})" @click=${() => this.change({ view, container: undefined })}>${label}</button>`,
          )}
        </nav>
        <host-list .connections=${connections}
          @host-add=${(e: CustomEvent<{ url: string }>) => this.change({ hosts: [...new Set([...s.hosts, e.detail.url])] })}
          @host-remove=${(e: CustomEvent<{ url: string }>) => this.change({ hosts: s.hosts.filter((h) => h !== e.detail.url) })}></host-list>
        <div class="right">
          <time-bar .window=${s.window} .range=${s.range}
            @time-change=${(e: CustomEvent<{ range?: [number, number]; window: number }>) => this.change({ range: e.detail.range, window: e.detail.window })}></time-bar>
          ${s.view === 'overview' && s.hosts.length > 1
            ? html`<button title="hosts side by side or overlaid in one chart"
                @click=${() => this.change({ layout: s.layout === 'side' ? 'overlay' : 'side' })}>${s.layout === 'side' ? 'overlay hosts' : 'side by side'}</button>`
            : nothing}
          <button title="theme: ${s.theme} (t)" aria-label="switch theme, now ${s.theme}" @click=${() => this.cycleTheme()}>
            ${s.theme === 'dark' ? '☾' : s.theme === 'light' ? '☀' : '◐'}
          </button>
        </div>
      </header>
      ${this.problems.length
        ? html`<div class="problems" role="alert">Ignored in the link: ${this.problems.join('; ')}
            <button @click=${() => (this.problems = [])}>dismiss</button></div>`
        : nothing}
      <main
        @state-change=${(e: CustomEvent<Partial<ConsoleState>>) => this.change(e.detail)}
        @range-select=${(e: CustomEvent<{ from: number; to: number }>) => this.change({ range: [e.detail.from, e.detail.to] })}
        @sort-change=${(e: CustomEvent<{ sort: string }>) => this.change({ sort: e.detail.sort })}
        @open-container=${(e: CustomEvent<{ host: string; id: string }>) => this.change({ view: 'container', container: e.detail })}>
        ${connections.length === 0
          ? html`<p>No agent is connected. Add one above by its address (host:port), e.g. <code>${location.host}</code>.</p>`
          : this.view(connections)}
      </main>
      <footer>
        <!-- Filled imperatively every few seconds (no binding: Lit must not own what tick() writes). -->
        <span id="perf"></span>
      </footer>
    `;
  }

  private view(connections: AgentConnection[]) {
    const s = this.state;
    switch (s.view) {
      case 'containers':
        return html`<containers-view .connections=${connections} .time=${this.time} .filter=${s.filter} .sort=${s.sort}
          .resource=${s.resource} .top=${s.top} .cgroups=${s.cgroups}></containers-view>`;
      case 'container':
        return html`<container-detail .connections=${connections} .container=${s.container} .time=${this.time}></container-detail>`;
      case 'flame':
        return html`<flame-view .connections=${connections} .zoom=${s.zoom} .resource=${s.resource}></flame-view>`;
      case 'custom':
        return html`<custom-view .connections=${connections} .charts=${s.charts} .time=${this.time}></custom-view>`;
      default:
        return html`<host-overview .connections=${connections} .layout=${s.layout} .time=${this.time}></host-overview>`;
    }
  }

  /** Applies a change: URL, connections and subscriptions follow. */
  private change(patch: Partial<ConsoleState>): void {
    const next = { ...this.state, ...patch };
    if ('range' in patch && patch.range === undefined) delete next.range;
    if ('container' in patch && patch.container === undefined) delete next.container;
    if (patch.resource && patch.resource !== this.state.resource) next.zoom = [];
    const push = PUSHED.some((k) => k in patch && JSON.stringify(patch[k]) !== JSON.stringify(this.state[k]));
    this.state = next;
    const query = stateToQuery(next, location.origin);
    const url = `${location.pathname}${query ? `?${query}` : ''}`;
    if (url !== `${location.pathname}${location.search}`) history[push ? 'pushState' : 'replaceState'](null, '', url);
    this.applyTheme();
    this.syncConnections();
  }

  /** One connection per host in the state, with the subscriptions the current view needs. */
  private syncConnections(): void {
    const window = this.state.window;
    for (const url of this.state.hosts) {
      if (this.connections.has(url)) continue;
      const conn = new AgentConnection(url, { windowSeconds: window, onChange: () => ticker.schedule() });
      this.connections.set(url, conn);
      conn.start();
    }
    for (const [url, conn] of this.connections) {
      if (this.state.hosts.includes(url)) continue;
      conn.close();
      this.connections.delete(url);
    }
    for (const [url, conn] of this.connections) {
      conn.setWindow(window);
      const wanted = subscriptionsFor(this.state, url);
      for (const { id, spec } of wanted) conn.subscribe(id, spec);
      for (const id of conn.subscriptionIds()) if (!wanted.some((w) => w.id === id)) conn.unsubscribe(id);
    }
    ticker.schedule(true);
  }

  /** Every frame: host labels, the time bar's notion of "now", and the render cost readout. */
  private tick(): void {
    labelHosts(this.connections.values());
    let latest = 0;
    for (const c of this.connections.values()) latest = Math.max(latest, c.store('main')?.times.at(-1) || 0);
    const bar = this.renderRoot.querySelector<TimeBar>('time-bar');
    if (bar && latest) bar.latest = latest;
    const now = performance.now();
    if (ticker.passes > 0 && now - this.perfSince > 5000) {
      this.perfSince = now;
      const perf = this.renderRoot.querySelector('#perf');
      if (perf) perf.textContent = `refresh ${(ticker.totalMs / ticker.passes).toFixed(2)} ms per update on average, ${ticker.maxMs.toFixed(1)} ms at worst (last ${ticker.passes} updates)`;
      ticker.resetStats();
    }
  }

  private cycleTheme(): void {
    const order = ['auto', 'light', 'dark'] as const;
    this.change({ theme: order[(order.indexOf(this.state.theme) + 1) % order.length] });
  }

  private readonly applyTheme = (): void => {
    const dark = this.state.theme === 'dark' || (this.state.theme === 'auto' && this.media.matches);
    const theme = dark ? 'dark' : 'light';
    if (document.documentElement.dataset.theme === theme) return;
    document.documentElement.dataset.theme = theme;
    // Canvases read their colours when they are made: have them made again.
    window.dispatchEvent(new Event('vigil-theme'));
  };

  private readonly onPopState = (): void => {
    const { state, problems } = stateFromQuery(location.search, location.origin);
    this.state = state;
    this.problems = problems;
    this.applyTheme();
    this.syncConnections();
  };

  /** Shortcuts: space pause, ←/→ step through time, 1–4 views, / filter or search, t theme. */
  private readonly onKey = (e: KeyboardEvent): void => {
    const target = e.composedPath()[0] as HTMLElement | undefined;
    if (e.ctrlKey || e.metaKey || e.altKey || (target && /^(INPUT|SELECT|TEXTAREA|BUTTON|CANVAS)$/.test(target.tagName))) return;
    const bar = this.renderRoot.querySelector<TimeBar>('time-bar');
    if (e.key === ' ') bar?.togglePause();
    else if (e.key === 'ArrowLeft') bar?.step(-0.5);
    else if (e.key === 'ArrowRight' && this.state.range) bar?.step(0.5);
    else if (/^[1-4]$/.test(e.key)) this.change({ view: TABS[Number(e.key) - 1]![0], container: undefined });
    else if (e.key === 't') this.cycleTheme();
    else if (e.key === '/') {
      const view = this.renderRoot.querySelector('main > *');
      const field = view?.shadowRoot?.querySelector<HTMLElement>('input[type="search"]') ??
        view?.shadowRoot?.querySelector('metric-picker')?.shadowRoot?.querySelector<HTMLElement>('input');
      field?.focus();
    } else return;
    e.preventDefault();
  };
}

customElements.define('vigil-app', VigilApp);
