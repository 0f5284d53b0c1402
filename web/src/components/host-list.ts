import { LitElement, css, html, nothing } from 'lit';
import type { AgentConnection, ConnState } from '../data/connection.js';
import { lagText } from '../data/units.js';
import { normalizeHostUrl } from '../data/url-state.js';
import { ticker } from './ticker.js';

const STATE_TEXT: Record<ConnState, string> = {
  connecting: 'connecting',
  live: 'live',
  unreachable: 'unreachable',
  auth: 'needs login',
  incompatible: 'not an agent',
  closed: 'closed',
};

/** Short host label: the agent's hostname once known, else host:port from its URL. */
export function hostLabel(conn: AgentConnection): string {
  return conn.label || conn.hostname || conn.url.replace(/^https?:\/\//, '');
}

/** host:port of each connection's URL, parsed once: labels are made again every frame. */
const addresses = new WeakMap<AgentConnection, string>();

function address(c: AgentConnection): string {
  let host = addresses.get(c);
  if (host === undefined) addresses.set(c, (host = new URL(c.url).host));
  return host;
}

/**
 * Labels every connection by hostname, adding the port where hostnames repeat (two agents on one
 * host). Runs every frame: parsing each URL again there was 0.4 ms of the slowest frames with 20
 * agents of one host.
 */
export function labelHosts(connections: Iterable<AgentConnection>): void {
  const list = [...connections];
  const count = new Map<string, number>();
  for (const c of list) if (c.hostname) count.set(c.hostname, (count.get(c.hostname) ?? 0) + 1);
  for (const c of list) c.label = !c.hostname ? '' : (count.get(c.hostname) ?? 0) > 1 ? `${c.hostname} (${address(c)})` : c.hostname;
}

/**
 * A live host's lag is shown on its chip from this much on (and always in its tooltip). Under
 * it the chip's text stays still: the lag changes with every sample, and re-laying out and
 * repainting the header twice a second for it made the slowest frames of every view (3-4 ms
 * more than the others on the 20-host overview, and the page's periodic re-layerization).
 */
const LATE_MS = 1000;

/**
 * The connected agents: one chip each with hostname, connection state and lag (see LATE_MS), a
 * button to remove it, and a field to add another by URL. Emits `host-add` {url} and
 * `host-remove` {url}.
 */
export class HostList extends LitElement {
  static override properties = { connections: { attribute: false }, error: { state: true } };
  declare connections: AgentConnection[];
  declare error: string;
  private unregister?: () => void;
  private lastRender = 0;

  constructor() {
    super();
    this.connections = [];
    this.error = '';
  }

  static override styles = css`
    :host { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
    .chip {
      display: inline-flex; align-items: center; gap: 6px; padding: 2px 4px 2px 8px; border: 1px solid var(--border);
      border-radius: 999px; background: var(--panel); font-size: 12px; max-width: 280px;
    }
    .dot { width: 8px; height: 8px; border-radius: 50%; flex: none; }
    .live { background: var(--ok); }
    .connecting { background: var(--warn); }
    .unreachable, .incompatible, .closed { background: var(--bad); }
    .auth { background: var(--auth); }
    .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .meta { color: var(--muted); font-family: var(--mono); white-space: nowrap; }
    button { all: unset; cursor: pointer; padding: 0 5px; border-radius: 999px; color: var(--muted); }
    button:hover { color: var(--fg); background: var(--grid); }
    button:focus-visible { outline: 2px solid var(--focus); }
    form { display: inline-flex; gap: 4px; }
    input {
      font: inherit; font-size: 12px; padding: 3px 8px; border: 1px solid var(--border); border-radius: 999px;
      background: var(--panel); color: var(--fg); width: 170px;
    }
    .error { color: var(--bad); font-size: 12px; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    // Lag and state change with every sample; a few re-renders a second are plenty.
    this.unregister = ticker.add(() => {
      const now = performance.now();
      if (now - this.lastRender > 500) {
        this.lastRender = now;
        this.requestUpdate();
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unregister?.();
  }

  override render() {
    return html`
      ${this.connections.map((c) => {
        const stale = c.state === 'live' && Date.now() - c.lastMessageAt > c.intervalMs * 3;
        const state = stale ? 'connecting' : c.state;
        const live = c.state === 'live' && !stale;
        const meta = live
          ? c.lagMs >= LATE_MS ? `late ${lagText(c.lagMs)}` : ''
          : stale
            ? `no data ${Math.round((Date.now() - c.lastMessageAt) / 1000)} s`
            : STATE_TEXT[c.state];
        const lag = c.state === 'live' && Number.isFinite(c.lagMs) ? `, lag ${lagText(c.lagMs)} (includes clock skew)` : '';
        return html`<span class="chip" data-url=${c.url} data-state=${c.state} title="${c.url} — ${STATE_TEXT[c.state]}${c.detail ? `: ${c.detail}` : ''}${lag}">
          <span class="dot ${state}" aria-hidden="true"></span>
          <span class="name">${hostLabel(c)}</span>
          ${meta ? html`<span class="meta">${meta}</span>` : nothing}
          <button aria-label="remove ${hostLabel(c)}" @click=${() => this.emit('host-remove', c.url)}>×</button>
        </span>`;
      })}
      <form @submit=${this.add}>
        <input name="url" placeholder="add agent host:port" aria-label="add an agent by address (host:port or URL)" />
      </form>
      ${this.error ? html`<span class="error" role="alert">${this.error}</span>` : ''}
    `;
  }

  private add(event: SubmitEvent): void {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('url') as HTMLInputElement;
    if (!input.value.trim()) return;
    try {
      const url = normalizeHostUrl(input.value);
      this.error = '';
      input.value = '';
      this.emit('host-add', url);
    } catch (error) {
      this.error = (error as Error).message;
    }
  }

  private emit(type: string, url: string): void {
    this.dispatchEvent(new CustomEvent(type, { detail: { url }, bubbles: true, composed: true }));
  }
}


customElements.define('host-list', HostList);
