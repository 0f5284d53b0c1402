/**
 * Everything a user set up — hosts, view, filters, time — lives in the page URL, so a link
 * shows a colleague the same thing and a reload keeps it. Defaults are left out of the URL.
 */

export const VIEWS = ['overview', 'containers', 'container', 'flame', 'custom'] as const;
export type View = (typeof VIEWS)[number];

export const RESOURCES = ['cpu', 'memory', 'io', 'network'] as const;
export type Resource = (typeof RESOURCES)[number];

export const LAYOUTS = ['side', 'overlay'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const THEMES = ['auto', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

export interface ConsoleState {
  /** Agent base URLs (`http://host:44322`), in the order they were added. */
  hosts: string[];
  view: View;
  /** Hosts side by side (a column each) or overlaid in one chart. */
  layout: Layout;
  /** Live window, seconds. */
  window: number;
  /** A fixed time range in ms (paused, scrolled back or zoomed); absent while live. */
  range?: [number, number];
  /** Container / instance filter text. */
  filter: string;
  /** Container table sort column; a leading `-` sorts descending. */
  sort: string;
  /** Resource for top-N charts and the icicle view. */
  resource: Resource;
  /** How many containers the top-N charts show. */
  top: number;
  /** The container of the detail view: its host URL and id (or cgroup path when it has no id). */
  container?: { host: string; id: string };
  /** Show every cgroup, not only containers. */
  cgroups: boolean;
  /** Metric names of the custom charts. */
  charts: string[];
  /** Icicle zoom: node names from the root down. */
  zoom: string[];
  theme: Theme;
}

export function defaultState(selfUrl: string): ConsoleState {
  return {
    hosts: [normalizeHostUrl(selfUrl)],
    view: 'overview',
    layout: 'side',
    window: 300,
    filter: '',
    sort: '-cpu',
    resource: 'cpu',
    top: 5,
    cgroups: false,
    charts: [],
    zoom: [],
    theme: 'auto',
  };
}

/**
 * An agent URL as the console keeps it: scheme, host, port and path without a trailing slash.
 * `host:port` alone means http. Throws a message fit for the user on anything else.
 */
export function normalizeHostUrl(text: string): string {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${text}" is not an agent address; use host:port or http://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${text}": agents are reached over http or https`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** `300` ↔ `5m`, `90` ↔ `90s`, `3600` ↔ `1h`. */
export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
  return seconds >= 10 && seconds <= 86_400 ? seconds : undefined;
}

const oneOf = <T extends string>(list: readonly T[], value: string | null, fallback: T): T =>
  value !== null && (list as readonly string[]).includes(value) ? (value as T) : fallback;

/** The URL query (without `?`) for a state; only what differs from the defaults. */
export function stateToQuery(state: ConsoleState, selfUrl: string): string {
  const d = defaultState(selfUrl);
  const q = new URLSearchParams();
  if (state.hosts.join() !== d.hosts.join()) for (const h of state.hosts) q.append('host', h);
  if (state.view !== d.view) q.set('view', state.view);
  if (state.layout !== d.layout) q.set('layout', state.layout);
  if (state.window !== d.window) q.set('window', formatDuration(state.window));
  if (state.range) q.set('range', `${Math.round(state.range[0])}-${Math.round(state.range[1])}`);
  if (state.filter) q.set('filter', state.filter);
  if (state.sort !== d.sort) q.set('sort', state.sort);
  if (state.resource !== d.resource) q.set('resource', state.resource);
  if (state.top !== d.top) q.set('top', String(state.top));
  if (state.container) q.set('container', `${state.container.id}@${state.container.host}`);
  if (state.cgroups) q.set('cgroups', '1');
  if (state.charts.length) q.set('charts', state.charts.join(','));
  if (state.zoom.length) q.set('zoom', state.zoom.map(encodeURIComponent).join('/'));
  if (state.theme !== d.theme) q.set('theme', state.theme);
  return q.toString();
}

/**
 * The state a URL query describes. Values that do not parse fall back to their defaults (a
 * hand-edited or old link still opens); `problems` says what was ignored.
 */
export function stateFromQuery(query: string, selfUrl: string): { state: ConsoleState; problems: string[] } {
  const q = new URLSearchParams(query);
  const state = defaultState(selfUrl);
  const problems: string[] = [];
  const hosts: string[] = [];
  for (const h of q.getAll('host')) {
    try {
      const url = normalizeHostUrl(h);
      if (!hosts.includes(url)) hosts.push(url);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (hosts.length) state.hosts = hosts;
  state.view = oneOf(VIEWS, q.get('view'), state.view);
  state.layout = oneOf(LAYOUTS, q.get('layout'), state.layout);
  state.resource = oneOf(RESOURCES, q.get('resource'), state.resource);
  state.theme = oneOf(THEMES, q.get('theme'), state.theme);
  const window = q.get('window');
  if (window !== null) {
    const seconds = parseDuration(window);
    if (seconds === undefined) problems.push(`window "${window}" is not a duration between 10s and 24h`);
    else state.window = seconds;
  }
  const range = /^(\d+)-(\d+)$/.exec(q.get('range') ?? '');
  if (range && Number(range[1]) < Number(range[2])) state.range = [Number(range[1]), Number(range[2])];
  state.filter = q.get('filter') ?? '';
  state.sort = /^-?[a-z]+$/.test(q.get('sort') ?? '') ? q.get('sort')! : state.sort;
  const top = Number(q.get('top'));
  if (Number.isInteger(top) && top >= 1 && top <= 50) state.top = top;
  const container = q.get('container');
  if (container) {
    const at = container.lastIndexOf('@');
    try {
      if (at <= 0) throw new Error(`container "${container}" is not <id>@<agent url>`);
      state.container = { id: container.slice(0, at), host: normalizeHostUrl(container.slice(at + 1)) };
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  state.cgroups = q.get('cgroups') === '1';
  state.charts = (q.get('charts') ?? '').split(',').filter((n) => /^[A-Za-z_][\w.]*$/.test(n));
  state.zoom = (q.get('zoom') ?? '').split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (state.view === 'container' && !state.container) state.view = 'containers';
  return { state, problems };
}
