/**
 * Docker Engine API answers (also podman's docker-compatible API): `GET /containers/json?all=1`,
 * `GET /containers/<id>/json` and the `/events` stream, one JSON object per line.
 */

export interface EngineState {
  running: boolean;
  paused: boolean;
  restarting: boolean;
}

export interface DockerContainer {
  /** Full 64-hex id. */
  id: string;
  /** Name without the leading `/` the API puts on it. */
  name: string;
  image: string;
  labels: Record<string, string>;
  state: EngineState;
  /** Init process in the host pid namespace; only inspect tells it, and only while running. */
  pid?: number;
  /** `Config.Hostname`: the UTS name the engine gave the container (inspect only). */
  hostname?: string;
}

export interface DockerEvent {
  id: string;
  /** `create`, `start`, `die`, `destroy`, `rename`, `pause`, `unpause`, `exec_start: sh`… */
  action: string;
}

type Json = Record<string, unknown>;

/** One element of `/containers/json`: `State` is a word there (`running`, `paused`, `restarting`, `exited`…). */
function fromListEntry(entry: Json): DockerContainer {
  const state = typeof entry.State === 'string' ? entry.State : '';
  const names = Array.isArray(entry.Names) ? entry.Names : [];
  return {
    id: requireId(entry.Id),
    name: stripSlash(typeof names[0] === 'string' ? names[0] : ''),
    image: typeof entry.Image === 'string' ? entry.Image : '',
    labels: stringMap(entry.Labels),
    state: { running: state === 'running' || state === 'paused', paused: state === 'paused', restarting: state === 'restarting' },
  };
}

export function parseDockerList(text: string): DockerContainer[] {
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list)) throw new Error(`docker /containers/json is not an array: ${text.slice(0, 80)}`);
  return list.map((entry) => fromListEntry(entry as Json));
}

/** `/containers/<id>/json`: `State` is an object here, with the init `Pid`. */
export function parseDockerInspect(text: string): DockerContainer {
  const doc = JSON.parse(text) as Json;
  const state = (doc.State ?? {}) as Json;
  const config = (doc.Config ?? {}) as Json;
  const running = state.Running === true;
  const pid = typeof state.Pid === 'number' && state.Pid > 0 ? state.Pid : undefined;
  return {
    id: requireId(doc.Id),
    name: stripSlash(typeof doc.Name === 'string' ? doc.Name : ''),
    image: typeof config.Image === 'string' ? config.Image : '',
    labels: stringMap(config.Labels),
    state: { running, paused: state.Paused === true, restarting: state.Restarting === true },
    ...(running && pid !== undefined ? { pid } : {}),
    ...(typeof config.Hostname === 'string' && config.Hostname ? { hostname: config.Hostname } : {}),
  };
}

/** One line of `/events`; undefined for events that are not about a container. */
export function parseDockerEvent(line: string): DockerEvent | undefined {
  const event = JSON.parse(line) as Json;
  const actor = (event.Actor ?? {}) as Json;
  const id = typeof actor.ID === 'string' ? actor.ID : event.id;
  const action = typeof event.Action === 'string' ? event.Action : event.status;
  if ((event.Type ?? 'container') !== 'container' || typeof id !== 'string' || typeof action !== 'string') return undefined;
  return { id, action };
}

function requireId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new Error('docker API answer has no container Id');
  return id;
}

function stripSlash(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

/** Labels and annotations: string → string maps; null when the engine has none. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}
