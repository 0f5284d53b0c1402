import { LitElement, css, html, nothing, unsafeCSS } from 'lit';
import { guard } from 'lit/directives/guard.js';
import { worstPressure, type ContainerRow } from '../data/containers.js';
import { placeInSlots } from '../data/slots.js';
import { formatValue } from '../data/units.js';

interface Column {
  key: string;
  label: string;
  title: string;
  /**
   * A grid track, fixed but for the name's: columns do not change width as rows scroll in and
   * out. Wide enough for the longest value (`1023 KiB/s / 1023 KiB/s`), which is not clipped.
   */
  width: string;
  numeric?: boolean;
}

const COLUMNS: readonly Column[] = [
  { key: 'name', label: 'Name', title: 'container name (engine, pod and namespace below), or cgroup path', width: 'minmax(0, 1fr)' },
  { key: 'host', label: 'Host', title: 'agent hostname', width: '150px' },
  { key: 'cpu', label: 'CPU', title: 'cores in use, against the CFS quota or cpuset (sort by use)', width: '130px', numeric: true },
  { key: 'cpulimit', label: 'of limit', title: 'CPU use as a share of the limit', width: '110px', numeric: true },
  { key: 'throttled', label: 'Throttled', title: 'share of CFS periods in which the cgroup was throttled', width: '80px', numeric: true },
  { key: 'workingset', label: 'Memory', title: 'working set (usage minus inactive file cache), against the memory limit', width: '160px', numeric: true },
  { key: 'memlimit', label: 'of limit', title: 'working set as a share of the memory limit', width: '110px', numeric: true },
  { key: 'oom', label: 'OOM', title: 'processes killed by the OOM killer', width: '50px', numeric: true },
  { key: 'io', label: 'Disk', title: 'bytes read + written per second', width: '185px', numeric: true },
  { key: 'network', label: 'Net', title: 'bytes received + sent per second in its network namespace', width: '185px', numeric: true },
  { key: 'pressure', label: 'PSI', title: 'largest of CPU, memory and I/O pressure (some, 10 s)', width: '60px', numeric: true },
  { key: 'tasks', label: 'Tasks', title: 'processes and threads', width: '60px', numeric: true },
];

/** The columns of the header and of every row. */
const TRACKS = COLUMNS.map((c) => c.width).join(' ');

const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : '—');

/** A bar of use against a limit; no bar without a limit. */
function bar(fraction: number) {
  if (!Number.isFinite(fraction)) return nothing;
  const width = Math.min(100, Math.max(0, fraction * 100));
  const level = fraction >= 0.9 ? 'hot' : fraction >= 0.7 ? 'warm' : '';
  return html`<span class="bar"><span class="fill ${level}" style="width:${width}%"></span></span>`;
}

/** Every row is this tall (px): the table knows where any row is without measuring it. */
export const ROW_HEIGHT = 36;
const HEADER_HEIGHT = 28;
/** Rows rendered beyond each edge of the visible ones, so a quick scroll does not show blank rows. */
const OVERSCAN = 5;
/** Rows assumed to fit in the scroll box until it has been measured. */
const PAGE_ROWS = 20;

/**
 * The `top` of containers (pcp-ctop): one row per container or cgroup, sortable by any
 * column, each row opening the container's page (click or Enter). Emits `sort-change` {sort}
 * and `open-container` {host, id}.
 *
 * Virtualised: the table scrolls in its own box and only the rows in view (plus OVERSCAN on
 * each side) are in the DOM, every row ROW_HEIGHT tall and placed at its index in a body as
 * tall as all rows; with 1000 rows a refresh lays out and paints a few dozen. It is a CSS grid
 * in ARIA table roles rather than a <table>: a table lays out all its rows when one cell's text
 * changes, where each row here is contained (`contain: strict`), so a sample lays out and
 * paints only the rows whose values changed. Columns have fixed widths so they do not jump as
 * other rows scroll in. One row is the selected one and the only one in the tab order: arrows,
 * Page Up/Down, Home and End move the selection, Enter opens it.
 */
export class ContainerTable extends LitElement {
  static override properties = { rows: { attribute: false }, sort: {}, first: { state: true }, selected: { state: true } };
  declare rows: ContainerRow[];
  declare sort: string;
  /** Index of the first row in view. */
  declare first: number;
  /** Key of the selected row; the first row when none was chosen (or it went away). */
  declare selected: string;
  /** Rows that fit in the scroll box, from its height. */
  private inView = PAGE_ROWS;
  private readonly resizeObserver = new ResizeObserver(([entry]) => {
    const rows = Math.ceil((entry?.contentRect.height ?? 0) / ROW_HEIGHT);
    if (rows > 0 && rows !== this.inView) {
      this.inView = rows;
      this.requestUpdate();
    }
  });
  /** Keys of the rendered rows, by the slot (the element) each is rendered in. */
  private slots: string[] = [];
  /** Keyboard focus is on a row: after a render it moves to the selected row's element. */
  private focusSelected = false;

  constructor() {
    super();
    this.rows = [];
    this.sort = '-cpu';
    this.first = 0;
    this.selected = '';
  }

  static override styles = css`
    :host { display: block; }
    /* Paint containment keeps the rows' clipped cells out of the page's overlap testing: without
       it, the clipped names (overflow: hidden, for the ellipsis) each became a compositor layer
       for "overlap", 45 layers instead of 10 with 1000 rows, layerized and updated every frame. */
    .scroller { overflow: auto; max-height: calc(100vh - 140px); background: var(--panel); contain: paint; }
    .table { min-width: 1420px; font-size: 12px; }
    .tr { display: grid; grid-template-columns: ${unsafeCSS(TRACKS)}; }
    .th, .td { padding: 0 8px; border-bottom: 1px solid var(--grid); text-align: left; white-space: nowrap; line-height: 16px; box-sizing: border-box; min-width: 0; }
    /* Cells do not clip: values fit their columns, and only names and hosts, which change with the
       row's container and not with its values, are cut with an ellipsis. Text that changes inside a
       clip changes the bounds of a paint chunk of its own, and then the browser re-layerizes the
       page: with every cell clipped that was 1-2 ms of every frame. */
    .td { height: ${ROW_HEIGHT}px; line-height: ${ROW_HEIGHT - 1}px; }
    /* Name above kind, centred in the row. */
    .td.named { display: flex; flex-direction: column; justify-content: center; line-height: 16px; }
    /* The whole head sticks, as one compositor layer rather than one per cell. */
    .thead { position: sticky; top: 0; z-index: 1; background: var(--panel); }
    .th { height: ${HEADER_HEIGHT}px; display: flex; align-items: center; font-weight: 600; }
    .th.num { justify-content: flex-end; }
    .tbody { position: relative; }
    /* Each row is laid out and painted on its own: a new value in one leaves the others alone.
       Rows out of sight (the overscan, and those below the page's fold) are not laid out or
       painted at all until they come into sight (content-visibility). */
    .tbody .tr { position: absolute; top: 0; left: 0; right: 0; height: ${ROW_HEIGHT}px; contain: strict; content-visibility: auto; cursor: pointer; }
    .th button { all: unset; cursor: pointer; font-weight: 600; white-space: nowrap; }
    .th button:focus-visible { outline: 2px solid var(--focus); }
    .num { text-align: right; font-family: var(--mono); font-variant-numeric: tabular-nums; }
    .tbody .tr:hover, .tbody .tr[aria-selected='true'] { background: var(--select); }
    .tbody .tr:focus { outline: 1px solid var(--focus); outline-offset: -1px; }
    .sub { color: var(--muted); font-size: 11px; }
    .name, .kind { overflow: hidden; text-overflow: ellipsis; display: block; max-width: 100%; }
    .name { font-weight: 600; }
    .badge { border: 1px solid var(--border); border-radius: 3px; padding: 0 4px; font-size: 10px; color: var(--muted); margin-right: 4px; }
    .bar { display: inline-block; width: 48px; height: 6px; background: var(--bar); border-radius: 3px; margin-left: 6px; vertical-align: middle; }
    .fill { display: block; height: 100%; background: var(--c0); border-radius: inherit; }
    .fill.warm { background: var(--warn); }
    .fill.hot { background: var(--bad); }
    .oom { color: var(--bad); font-weight: 600; }
    .host { overflow: hidden; text-overflow: ellipsis; display: block; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    // Moved in the page: the scroll box exists already (a first connection observes it in firstUpdated).
    if (this.hasUpdated) this.resizeObserver.observe(this.scroller);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver.disconnect();
  }

  protected override firstUpdated(): void {
    this.resizeObserver.observe(this.scroller);
  }

  private get scroller(): HTMLElement {
    return this.renderRoot.querySelector<HTMLElement>('.scroller')!;
  }

  /** Indexes of the rows in the DOM: those in view and OVERSCAN on each side. */
  private range(): [number, number] {
    const from = Math.max(0, Math.min(this.first, this.rows.length - this.inView) - OVERSCAN);
    return [from, Math.min(this.rows.length, this.first + this.inView + OVERSCAN)];
  }

  /** The rows in the DOM: the ones whose values must follow every sample. */
  get renderedRows(): ContainerRow[] {
    const [from, to] = this.range();
    return this.rows.slice(from, to);
  }

  override render() {
    const desc = this.sort.startsWith('-');
    const key = desc ? this.sort.slice(1) : this.sort;
    const [from, to] = this.range();
    const selected = this.rows.some((r) => r.key === this.selected) ? this.selected : this.rows[0]?.key;
    const placed = this.place(from, to);
    // The elements' ids in the rows' order, for aria-owns.
    const ids: string[] = [];
    placed.forEach(({ index }, slot) => (ids[index - from] = `slot-${slot}`));
    return html`
      <div class="scroller" @scroll=${this.onScroll} @keydown=${this.onKey} @focusin=${this.onFocus} @focusout=${this.onBlur}>
        <div class="table" role="table" aria-rowcount=${this.rows.length + 1}>
          <div class="thead tr" role="row" aria-rowindex="1">
            ${COLUMNS.map(
              (c) => html`<div role="columnheader" class="th ${c.numeric ? 'num' : ''}" title=${c.title}
                aria-sort=${c.key === key ? (desc ? 'descending' : 'ascending') : 'none'}>
                <button @click=${() => this.setSort(c)}>${c.label}${c.key === key ? (desc ? ' ▼' : ' ▲') : ''}</button>
              </div>`,
            )}
          </div>
          <div class="tbody" role="rowgroup" style="height:${this.rows.length * ROW_HEIGHT}px" aria-owns=${ids.join(' ')}>
            ${placed.map(({ row, index }, slot) => {
              const isSelected = row.key === selected;
              // A pass reads new values into the rows of the hosts that sent a sample; the others
              // (most of them, with samples arriving all through the second) are not rendered again.
              return guard([row, row.version, index, isSelected], () => this.row(row, index, slot, isSelected));
            })}
          </div>
        </div>
      </div>
    `;
  }

  /**
   * The rows from..to in slots: a row that was rendered keeps its slot (its element) and only
   * moves; the rows new to the range take the slots of those that left. So a re-sort that
   * reorders the rows in view rewrites no cell of theirs, and a scroll by one row rewrites one
   * row, not all of them. The elements are then in slot order, not the rows' order: `aria-owns`
   * gives assistive technology the rows' order, and `aria-rowindex` each row's place.
   */
  private place(from: number, to: number): Array<{ row: ContainerRow; index: number }> {
    const wanted = new Map<string, { row: ContainerRow; index: number }>();
    for (let index = from; index < to; index++) wanted.set(this.rows[index]!.key, { row: this.rows[index]!, index });
    this.slots = placeInSlots(this.slots, [...wanted.keys()]);
    return this.slots.map((key) => wanted.get(key)!);
  }

  private row(r: ContainerRow, index: number, slot: number, selected: boolean) {
    const memory = Number.isNaN(r.workingSet) ? r.memory : r.workingSet;
    return html`<div class="tr" role="row" id="slot-${slot}" style="transform:translateY(${index * ROW_HEIGHT}px)" tabindex=${selected ? 0 : -1} aria-rowindex=${index + 2} aria-selected=${selected} data-key=${r.key} data-kind=${r.kind}
      @click=${() => this.open(r)}>
      <div class="td named" role="cell">
        <span class="name" title=${r.kind === 'container' ? `${r.name}\n${r.id}\n${r.cgroup}` : r.cgroup}>${r.name}</span>
        <span class="sub kind">${r.engine ? html`<span class="badge">${r.engine}</span>` : html`<span class="badge">cgroup</span>`}${[r.pod, r.namespace, r.image].filter(Boolean).join(' · ')}${r.running ? '' : ' (stopped)'}</span>
      </div>
      <div class="td" role="cell"><span class="host">${r.hostname}</span></div>
      <div class="td num" role="cell">${formatValue(r.cpu, 'cores')}<span class="sub">${Number.isFinite(r.cpuLimit) ? ` / ${formatValue(r.cpuLimit, 'number')}` : ''}</span></div>
      <div class="td num" role="cell">${pct(r.cpu / r.cpuLimit)}${bar(r.cpu / r.cpuLimit)}</div>
      <div class="td num" role="cell">${pct(r.throttled)}</div>
      <div class="td num" role="cell">${formatValue(memory, 'bytes')}<span class="sub">${Number.isFinite(r.memoryLimit) ? ` / ${formatValue(r.memoryLimit, 'bytes')}` : ''}</span></div>
      <div class="td num" role="cell">${pct(memory / r.memoryLimit)}${bar(memory / r.memoryLimit)}</div>
      <div class="td num ${r.oomKills > 0 ? 'oom' : ''}" role="cell">${Number.isFinite(r.oomKills) ? r.oomKills : '—'}</div>
      <div class="td num" role="cell">${formatValue(r.readBps, 'bytes/s')} / ${formatValue(r.writeBps, 'bytes/s')}</div>
      <div class="td num" role="cell">${formatValue(r.rxBps, 'bytes/s')} / ${formatValue(r.txBps, 'bytes/s')}</div>
      <div class="td num" role="cell">${pct(worstPressure(r))}</div>
      <div class="td num" role="cell">${Number.isFinite(r.tasks) ? r.tasks : '—'}</div>
    </div>`;
  }

  /** Renders a pending update at once rather than in a microtask (see ContainersView). */
  renderNow(): void {
    this.performUpdate();
  }

  protected override updated(): void {
    if (!this.focusSelected) return;
    const row = this.renderRoot.querySelector<HTMLElement>('.tbody .tr[tabindex="0"]');
    if (row && (this.renderRoot as ShadowRoot).activeElement !== row) row.focus({ preventScroll: true });
  }

  /** Scrolling only reads: the rows in view follow at the next render. */
  private readonly onScroll = (): void => {
    const first = Math.floor(this.scroller.scrollTop / ROW_HEIGHT);
    if (first !== this.first) this.first = first;
  };

  private readonly onFocus = (e: FocusEvent): void => {
    this.focusSelected = (e.target as HTMLElement).matches('.tbody .tr');
  };

  private readonly onBlur = (e: FocusEvent): void => {
    // Focus leaving the table (not moving between its rows) stops following the selection.
    if (!this.scroller.contains(e.relatedTarget as Node | null)) this.focusSelected = false;
  };

  private readonly onKey = (e: KeyboardEvent): void => {
    if (!(e.target as HTMLElement).matches('.tbody .tr') || this.rows.length === 0) return;
    const at = Math.max(0, this.rows.findIndex((r) => r.key === this.selected));
    const page = Math.max(1, this.inView - 2);
    const moves: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, PageDown: at + page, PageUp: at - page, Home: 0, End: this.rows.length - 1 };
    if (e.key === 'Enter') this.open(this.rows[at]!);
    else if (e.key in moves) this.select(Math.max(0, Math.min(this.rows.length - 1, moves[e.key]!)));
    else return;
    e.preventDefault();
  };

  /** Selects the row at `index` and scrolls it into view (arithmetic: no layout is read). */
  private select(index: number): void {
    this.selected = this.rows[index]!.key;
    this.focusSelected = true;
    const scroller = this.scroller;
    const top = index * ROW_HEIGHT;
    const height = this.inView * ROW_HEIGHT;
    // The sticky header covers the top of the box: a row is in view below it.
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW_HEIGHT + HEADER_HEIGHT > scroller.scrollTop + height) scroller.scrollTop = top + ROW_HEIGHT + HEADER_HEIGHT - height;
    this.first = Math.floor(scroller.scrollTop / ROW_HEIGHT);
  }

  private setSort(c: Column): void {
    const current = this.sort.replace(/^-/, '');
    // Numbers sort biggest first on the first click; names alphabetically.
    const sort = current === c.key ? (this.sort.startsWith('-') ? c.key : `-${c.key}`) : c.numeric ? `-${c.key}` : c.key;
    this.dispatchEvent(new CustomEvent('sort-change', { detail: { sort }, bubbles: true, composed: true }));
  }

  private open(r: ContainerRow): void {
    this.selected = r.key;
    this.dispatchEvent(new CustomEvent('open-container', { detail: { host: r.host, id: r.id }, bubbles: true, composed: true }));
  }
}

customElements.define('container-table', ContainerTable);
