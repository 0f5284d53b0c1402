import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { findPath, hitTest, icicleLayout, pathTo, type IcicleLayout, type TreeNode } from '../data/hierarchy.js';
import { formatValue, type Kind } from '../data/units.js';

const ROW = 20;

/** A stable hue per name, so a cgroup or a function keeps its colour from frame to frame. */
function hue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h;
}

function fillFor(node: TreeNode, dark: boolean): string {
  const h = hue(node.name);
  const l = dark ? 38 : 72;
  switch (node.kind) {
    case 'container':
      return `hsl(${20 + (h % 25)}, 75%, ${l}%)`;
    case 'process':
      return `hsl(${110 + (h % 40)}, 45%, ${l}%)`;
    case 'frame':
      // Flame-graph colours: reds to yellows.
      return `hsl(${h % 55}, 80%, ${dark ? 45 : 62}%)`;
    case 'kernel':
      return `hsl(${28 + (h % 12)}, 55%, ${dark ? 40 : 58}%)`;
    case 'host':
      return `hsl(260, 30%, ${l}%)`;
    default:
      return `hsl(${195 + (h % 35)}, 45%, ${l}%)`;
  }
}

/**
 * An icicle chart on a canvas (no DOM node per rectangle): the cgroup hierarchy sized by a
 * resource, or a CPU call tree as a flame graph. Click (or Enter) zooms into a node; the trail
 * above zooms out; hover (or arrow keys) shows a node's value and share. Emits `zoom-change`
 * {path} with the node names from the root down.
 */
export class IcicleChart extends LitElement {
  static override properties = {
    root: { attribute: false },
    zoom: { attribute: false },
    kind: {},
    label: {},
  };
  declare root: TreeNode | undefined;
  declare zoom: string[];
  declare kind: Kind;
  /** What the chart is, for screen readers. */
  declare label: string;

  private layout?: IcicleLayout;
  private trail: TreeNode[] = [];
  private hover = -1;
  private selected = 0;
  private tip?: { x: number; y: number; text: string };
  private resizeObserver?: ResizeObserver;

  constructor() {
    super();
    this.zoom = [];
    this.kind = 'number';
    this.label = 'icicle chart';
  }

  static override styles = css`
    :host { display: block; position: relative; }
    nav { display: flex; flex-wrap: wrap; gap: 2px; font-size: 12px; margin-bottom: 4px; }
    nav button { all: unset; cursor: pointer; color: var(--focus); padding: 0 2px; }
    nav button:focus-visible { outline: 2px solid var(--focus); }
    nav span { color: var(--muted); }
    canvas { display: block; width: 100%; cursor: pointer; border-radius: 4px; }
    canvas:focus-visible { outline: 2px solid var(--focus); }
    .tip {
      position: absolute; pointer-events: none; background: var(--panel); border: 1px solid var(--border);
      border-radius: 4px; padding: 4px 8px; font-size: 12px; white-space: pre; z-index: 2; box-shadow: 0 2px 8px #0003;
    }
    .empty { color: var(--muted); padding: 12px 0; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this);
    window.addEventListener('vigil-theme', this.onTheme);
  }

  private readonly onTheme = (): void => this.draw();

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    window.removeEventListener('vigil-theme', this.onTheme);
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (!this.root) return;
    const { node, trail } = findPath(this.root, this.zoom);
    const before = this.layout?.nodes[this.selected];
    this.trail = trail;
    this.layout = icicleLayout(node);
    if (changed.has('zoom')) this.selected = 0;
    else if (before) {
      // Keep the keyboard selection on the same node as values move.
      const again = this.layout.nodes.findIndex((n) => n.name === before.name);
      this.selected = again >= 0 ? again : 0;
    }
  }

  protected override updated(): void {
    this.draw();
  }

  override render() {
    if (!this.root || !(this.root.value > 0)) return html`<div class="empty" role="status">Nothing to show yet.</div>`;
    const total = this.root.value;
    const focus = this.trail[this.trail.length - 1]!;
    return html`
      <nav aria-label="zoom trail">
        ${this.trail.map((n, i) =>
          i === this.trail.length - 1
            ? html`<span aria-current="true">${n.name} (${formatValue(n.value, this.kind)}, ${Math.round((n.value / total) * 100)} %)</span>`
            : html`<button @click=${() => this.emitZoom(this.trail.slice(1, i + 1).map((t) => t.name))}>${n.name}</button><span>›</span>`,
        )}
      </nav>
      <canvas tabindex="0" role="img" aria-label="${this.label}: ${focus.name}, ${formatValue(focus.value, this.kind)}. Arrow keys move, Enter zooms in, Escape zooms out."
        style="height:${(this.layout?.rows ?? 1) * ROW}px"
        @mousemove=${this.onMove} @mouseleave=${this.onLeave} @click=${this.onClick} @keydown=${this.onKey}></canvas>
      ${this.tip ? html`<div class="tip" style="left:${this.tip.x}px;top:${this.tip.y}px">${this.tip.text}</div>` : nothing}
    `;
  }

  private draw(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    const layout = this.layout;
    if (!canvas || !layout) return;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = layout.rows * ROW;
    if (width === 0) return;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(this);
    const dark = document.documentElement.dataset.theme === 'dark' || style.getPropertyValue('color-scheme').includes('dark');
    const text = style.getPropertyValue('--fg').trim() || '#000';
    const focusColor = style.getPropertyValue('--focus').trim() || '#00f';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (let i = 0; i < layout.count; i++) {
      const x = layout.x[i]! * width;
      const w = layout.width[i]! * width;
      if (w < 0.5) continue;
      const y = layout.depth[i]! * ROW;
      const node = layout.nodes[i]!;
      ctx.fillStyle = fillFor(node, dark);
      ctx.fillRect(x + 0.5, y + 0.5, Math.max(0.5, w - 1), ROW - 1);
      if (w > 30) {
        const label = `${node.name} ${formatValue(node.value, this.kind)}`;
        ctx.fillStyle = text;
        ctx.save();
        ctx.beginPath();
        ctx.rect(x, y, w - 2, ROW);
        ctx.clip();
        ctx.fillText(label, x + 4, y + ROW / 2);
        ctx.restore();
      }
    }
    const mark = this.hover >= 0 ? this.hover : this.matches(':focus-within') ? this.selected : -1;
    if (mark >= 0 && mark < layout.count) {
      ctx.strokeStyle = focusColor;
      ctx.lineWidth = 2;
      ctx.strokeRect(layout.x[mark]! * width + 1, layout.depth[mark]! * ROW + 1, layout.width[mark]! * width - 2, ROW - 2);
    }
  }

  private indexAt(event: MouseEvent): number {
    const canvas = event.currentTarget as HTMLCanvasElement;
    const rect = canvas.getBoundingClientRect();
    return this.layout ? hitTest(this.layout, (event.clientX - rect.left) / rect.width, Math.floor((event.clientY - rect.top) / ROW)) : -1;
  }

  private describe(i: number): string {
    const node = this.layout!.nodes[i]!;
    const focus = this.layout!.nodes[0]!;
    const lines = [
      node.name,
      `${formatValue(node.value, this.kind)} — ${((node.value / focus.value) * 100).toFixed(1)} % of ${focus.name}, ${((node.value / this.root!.value) * 100).toFixed(1)} % of all`,
    ];
    if (node.detail) lines.push(node.detail);
    if (node.children.length) lines.push(`${node.children.length} below · click to zoom`);
    return lines.join('\n');
  }

  private onMove(event: MouseEvent): void {
    const i = this.indexAt(event);
    if (i === this.hover) return;
    this.hover = i;
    const host = this.getBoundingClientRect();
    this.tip = i >= 0 ? { x: Math.min(event.clientX - host.left + 12, host.width - 240), y: event.clientY - host.top + 14, text: this.describe(i) } : undefined;
    this.requestUpdate();
  }

  private onLeave(): void {
    this.hover = -1;
    this.tip = undefined;
    this.requestUpdate();
  }

  private onClick(event: MouseEvent): void {
    const i = this.indexAt(event);
    if (i >= 0) this.zoomTo(i);
  }

  private zoomTo(i: number): void {
    const layout = this.layout!;
    if (i === 0 && this.trail.length > 1) {
      // Clicking the focus zooms out one level, as flame graphs do.
      this.emitZoom(this.zoom.slice(0, -1));
      return;
    }
    this.emitZoom([...this.trail.slice(1).map((n) => n.name), ...pathTo(layout, i)]);
  }

  private onKey(event: KeyboardEvent): void {
    const layout = this.layout;
    if (!layout || layout.count === 0) return;
    const s = this.selected;
    let next = s;
    const sameRow = (dir: 1 | -1): number => {
      for (let i = s + dir; i >= 0 && i < layout.count; i += dir) if (layout.depth[i] === layout.depth[s]) return i;
      return s;
    };
    switch (event.key) {
      case 'ArrowRight':
        next = sameRow(1);
        break;
      case 'ArrowLeft':
        next = sameRow(-1);
        break;
      case 'ArrowDown': {
        const child = layout.parent.indexOf(s, s + 1);
        if (child > 0) next = child;
        break;
      }
      case 'ArrowUp':
        next = layout.parent[s]! >= 0 ? layout.parent[s]! : s;
        break;
      case 'Enter':
        this.zoomTo(s);
        event.preventDefault();
        return;
      case 'Escape':
      case 'Backspace':
        if (this.zoom.length) this.emitZoom(this.zoom.slice(0, -1));
        event.preventDefault();
        return;
      default:
        return;
    }
    event.preventDefault();
    this.selected = next;
    const canvas = event.currentTarget as HTMLCanvasElement;
    this.tip = { x: Math.min(layout.x[next]! * canvas.clientWidth, canvas.clientWidth - 240), y: (layout.depth[next]! + 1) * ROW + 26, text: this.describe(next) };
    this.requestUpdate();
  }

  private emitZoom(path: string[]): void {
    this.hover = -1;
    this.tip = undefined;
    this.dispatchEvent(new CustomEvent('zoom-change', { detail: { path }, bubbles: true, composed: true }));
  }
}

customElements.define('icicle-chart', IcicleChart);
