import { LitElement, css, html } from 'lit';
import { formatDuration } from '../data/url-state.js';

const WINDOWS = [60, 300, 900, 3600];

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * Live or paused, and which stretch of time: pause/resume, step back and forward through the
 * agents' history, the live window, and the way back to live. Emits `time-change` with
 * `{ range?: [from, to], window }` (no range = live).
 */
export class TimeBar extends LitElement {
  static override properties = { window: { type: Number }, range: { attribute: false }, latest: { type: Number } };
  declare window: number;
  declare range: [number, number] | undefined;
  /** Newest sample time over all hosts (ms), the right edge of "live". */
  declare latest: number;

  constructor() {
    super();
    this.window = 300;
    this.latest = 0;
  }

  static override styles = css`
    :host { display: inline-flex; gap: 4px; align-items: center; font-size: 12px; }
    button, select {
      font: inherit; border: 1px solid var(--border); background: var(--panel); color: var(--fg);
      border-radius: 4px; padding: 3px 7px; cursor: pointer;
    }
    button:focus-visible, select:focus-visible { outline: 2px solid var(--focus); }
    .status { font-family: var(--mono); padding: 0 6px; white-space: nowrap; }
    .live { color: var(--ok); font-weight: 600; }
    .paused { color: var(--warn); font-weight: 600; }
  `;

  override render() {
    const paused = this.range !== undefined;
    return html`
      <span class="status" role="status" aria-live="polite">
        ${paused
          ? html`<span class="paused">❚❚ paused</span> ${clock(this.range![0])} – ${clock(this.range![1])}`
          : html`<span class="live">● live</span> last ${formatDuration(this.window)}`}
      </span>
      <button title="back half a window (←)" aria-label="step back in time" @click=${() => this.step(-0.5)}>◀</button>
      <button id="pause" title=${paused ? 'resume live (space)' : 'pause (space)'} @click=${this.togglePause}>${paused ? '▶ live' : '❚❚ pause'}</button>
      <button title="forward half a window (→)" aria-label="step forward in time" ?disabled=${!paused} @click=${() => this.step(0.5)}>▶</button>
      <select aria-label="time window" @change=${this.setWindow}>
        ${WINDOWS.map((w) => html`<option value=${w} ?selected=${w === this.window}>${formatDuration(w)}</option>`)}
      </select>
    `;
  }

  togglePause(): void {
    if (this.range) this.emit(undefined);
    else this.emit(this.liveRange());
  }

  /** Moves by a fraction of the shown span; reaching the present returns to live. */
  step(fraction: number): void {
    const [from, to] = this.range ?? this.liveRange();
    const shift = (to - from) * fraction;
    if (to + shift >= this.latest && fraction > 0) this.emit(undefined);
    else this.emit([from + shift, to + shift]);
  }

  private liveRange(): [number, number] {
    const end = this.latest || Date.now();
    return [end - this.window * 1000, end];
  }

  private setWindow(event: Event): void {
    this.window = Number((event.target as HTMLSelectElement).value);
    this.emit(this.range);
  }

  private emit(range: [number, number] | undefined): void {
    this.dispatchEvent(new CustomEvent('time-change', { detail: { range, window: this.window }, bubbles: true, composed: true }));
  }
}

customElements.define('time-bar', TimeBar);
