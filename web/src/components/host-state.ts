import { LitElement, css, html, nothing } from 'lit';
import type { AgentConnection } from '../data/connection.js';
import { hostLabel } from './host-list.js';
import { ticker } from './ticker.js';

/**
 * What is wrong with agents that are not live, in words: connecting, unreachable (and when the
 * next try is), needs a login, not an agent. Nothing when all are live.
 */
export class HostState extends LitElement {
  static override properties = { connections: { attribute: false } };
  declare connections: AgentConnection[];
  private unregister?: () => void;
  private shown = '';

  constructor() {
    super();
    this.connections = [];
  }

  static override styles = css`
    :host { display: block; }
    .banner { border: 1px solid var(--border); border-left: 4px solid var(--warn); background: var(--panel); padding: 8px 12px; margin: 6px 0; border-radius: 4px; }
    .unreachable, .incompatible { border-left-color: var(--bad); }
    .auth { border-left-color: var(--auth); }
    a { color: var(--focus); }
    .detail { color: var(--muted); }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    this.unregister = ticker.add(() => {
      const key = this.connections.map((c) => `${c.state}${c.detail}`).join();
      if (key !== this.shown) {
        this.shown = key;
        this.requestUpdate();
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unregister?.();
  }

  override render() {
    const troubled = this.connections.filter((c) => c.state !== 'live');
    if (troubled.length === 0) return nothing;
    return troubled.map(
      (c) => html`<div class="banner ${c.state}" role="status" data-state=${c.state}>
        <strong>${hostLabel(c)}</strong>:
        ${c.state === 'connecting' ? 'connecting…' : c.state === 'auth' ? html`needs a login. <a href=${c.url} target="_blank" rel="noopener">Open the agent</a> to sign in, then it reconnects by itself.` : c.state === 'unreachable' ? 'unreachable.' : c.state === 'incompatible' ? 'not a Vigil agent.' : 'closed.'}
        <span class="detail">${c.detail}</span>
      </div>`,
    );
  }
}

customElements.define('host-state', HostState);
