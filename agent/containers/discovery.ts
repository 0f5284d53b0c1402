import { statSync } from 'node:fs';
import { join } from 'node:path';
import { hierarchyPath } from '../collectors/cgroup.js';
import { CgroupTrees } from '../collectors/cgroup-tree.js';
import { listDir, readOptional, tolerant } from '../collectors/read.js';
import type { CollectContext, Roots } from '../collectors/types.js';
import { classifyCgroup, type CgroupContainer } from '../parsers/container-cgroup.js';
import { cgroupInstanceName } from '../parsers/cgroup-path.js';
import { cgroupMounts, parseMountInfo } from '../parsers/mountinfo.js';
import { kubernetesOf, parseCrunStatus, parseOciConfig, parsePodmanStore, parseRuncState, type KubernetesMeta, type OciConfig } from '../parsers/oci.js';
import { parseProcCgroup, parseProcStat } from '../parsers/proc-pid.js';
import { parseProcCgroups } from '../parsers/proc-cgroups.js';
import type { InstanceLabels } from '../store/sample.js';
import { EngineApi } from './engine-api.js';
import type { ContainerRef } from './scope.js';

/** A container as discovery knows it: the API's ref plus what `containers.*` serves. */
export interface Container extends ContainerRef {
  engine: string;
  running: boolean;
  paused: boolean;
  restarting: boolean;
  /** UTS hostname the engine gave it, when its metadata says. */
  hostname?: string;
  /** PCP instance labels: engine, image, and the Kubernetes pod, namespace and container. */
  labels: InstanceLabels;
}

export interface DiscoveryOptions extends Roots {
  /** Docker Engine API socket; default `<root>/var/run/docker.sock`. */
  dockerSocket?: string;
  /** podman's docker-compatible API socket; default `<root>/run/podman/podman.sock`. */
  podmanSocket?: string;
}

/** The cgroup hierarchy containers are found in, and how to pick its line out of /proc/<pid>/cgroup. */
export interface ContainerHierarchy {
  /** Its directory on this filesystem (under `--sysfs`). */
  dir: string;
  /** 0 for cgroup v2 (the unified hierarchy on a hybrid host), else the v1 hierarchy holding `memory`. */
  matches(line: { hierarchy: number; controllers: string }): boolean;
}

/** What one metadata source says about a container; merged field by field, first source wins. */
interface Found {
  engine?: string;
  name?: string;
  image?: string;
  hostname?: string;
  pid?: number;
  running?: boolean;
  paused?: boolean;
  restarting?: boolean;
  kubernetes?: KubernetesMeta;
  fromCgroup?: Walked;
}

/** A container cgroup met in the walk, with its first member process. */
interface Walked {
  cgroup: string;
  classified: CgroupContainer;
  pid?: number;
}

/** Answers an id seen in a cgroup but not yet in the engine's event-fed copy within this long. */
const LOOKUP_WAIT_MS = 500;

/**
 * Finds every container on the host, with a name where any engine's metadata gives one and
 * its id otherwise. Sources, most trusted first: the Docker and podman APIs (event-fed),
 * OCI bundles of containerd and CRI-O (Kubernetes annotations), runc and crun state, the
 * podman store, and finally the cgroup tree itself, so a container is never invisible
 * because its engine is unknown or down.
 */
export class ContainerDiscovery {
  private readonly root: string;
  private readonly apis: EngineApi[];
  private readonly files = new JsonFileCache();
  private readonly dirs = new DirListings();
  private readonly classified = new Classified();
  private readonly trees = new CgroupTrees();
  private hierarchyFound?: ContainerHierarchy | null;
  private inflight?: Promise<Container[]>;
  private list: Container[] = [];

  constructor(private readonly options: DiscoveryOptions) {
    this.root = options.root ?? '/';
    this.apis = [
      new EngineApi('docker', options.dockerSocket ?? join(this.root, 'var/run/docker.sock')),
      new EngineApi('podman', options.podmanSocket ?? join(this.root, 'run/podman/podman.sock')),
    ];
  }

  /**
   * Rediscovers. Collectors of one sampling pass start in the same tick and share one
   * refresh: the first call starts it, the others get the same promise.
   */
  refresh(ctx: CollectContext): Promise<Container[]> {
    if (!this.inflight) {
      this.inflight = this.discover(ctx).finally(() => (this.inflight = undefined));
    }
    return this.inflight;
  }

  close(): void {
    for (const api of this.apis) api.close();
  }

  /** By name, id, or a unique id prefix of at least 12 characters. */
  find(nameOrId: string): Container | undefined {
    const exact = this.list.find((c) => c.id === nameOrId) ?? this.list.find((c) => c.name === nameOrId);
    if (exact || nameOrId.length < 12) return exact;
    const byPrefix = this.list.filter((c) => c.id.startsWith(nameOrId));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  /** The hierarchy the walk uses, found once from mountinfo; null when no cgroup fs is mounted. */
  hierarchy(ctx: CollectContext): ContainerHierarchy | null {
    if (this.hierarchyFound !== undefined) return this.hierarchyFound;
    const mountinfo = readOptional(`${this.options.procfs}/self/mountinfo`, ctx);
    const cgroups = readOptional(`${this.options.procfs}/cgroups`, ctx);
    if (mountinfo === undefined) return null;
    const subsystems = new Set((cgroups === undefined ? [] : parseProcCgroups(cgroups)).map((s) => s.name));
    const mounts = cgroupMounts(parseMountInfo(mountinfo), subsystems);
    const v2 = mounts.find((m) => m.version === 2);
    const memory = mounts.find((m) => m.controllers.includes('memory'));
    const chosen = v2 ?? memory ?? mounts[0];
    if (!chosen) return (this.hierarchyFound = null);
    const dir = hierarchyPath(chosen.mountPoint, this.options.sysfs);
    const controllers = chosen.name ? [...chosen.controllers, `name=${chosen.name}`] : chosen.controllers;
    this.hierarchyFound = {
      dir,
      matches: chosen.version === 2
        ? (line) => line.hierarchy === 0
        : (line) => line.hierarchy !== 0 && line.controllers.split(',').some((c) => controllers.includes(c)),
    };
    return this.hierarchyFound;
  }

  /** A process's cgroup in the discovery hierarchy, as `cgroup.*` instance names spell it. */
  cgroupOfPid(pid: number, ctx: CollectContext): string | undefined {
    const hierarchy = this.hierarchy(ctx);
    const text = readOptional(`${this.options.procfs}/${pid}/cgroup`, ctx);
    if (!hierarchy || text === undefined) return undefined;
    const line = parseProcCgroup(text).find((l) => hierarchy.matches(l));
    return line ? cgroupInstanceName(line.path) : undefined;
  }

  private async discover(ctx: CollectContext): Promise<Container[]> {
    for (const api of this.apis) api.start();
    const found = new Map<string, Found[]>();
    const add = (id: string, what: Found): void => {
      const list = found.get(id);
      if (list) list.push(what);
      else found.set(id, [what]);
    };

    // The engines' copies fill in the background; wait briefly only for what this pass needs:
    // the first listing (at start), and ids in cgroups that an engine has not told us about yet.
    const walked = await this.walk(ctx);
    const unknown = walked.filter(({ classified }) => !this.apis.some((api) => api.containers.has(classified.id)));
    // Usually there is nothing to wait for: no timer then.
    if (unknown.length > 0 || !this.apis.every((api) => api.attempted)) {
      const asked = Promise.all(this.apis.map(async (api) => {
        await api.firstAttempt;
        await Promise.all(unknown.map(({ classified }) => api.lookup(classified.id)));
      }));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([asked, new Promise((resolve) => (timer = setTimeout(resolve, LOOKUP_WAIT_MS)))]);
      clearTimeout(timer);
    }

    for (const api of this.apis) {
      for (const c of api.containers.values()) {
        add(c.id, {
          engine: api.engine, name: c.name, image: c.image, hostname: c.hostname, pid: c.pid,
          running: c.state.running, paused: c.state.paused, restarting: c.state.restarting,
          kubernetes: kubernetesOf(c.labels),
        });
      }
    }
    this.fromContainerdBundles(add, ctx);
    this.fromCrioAndPodmanStore(add, ctx);
    this.fromRuntimeState('runc', add, ctx);
    this.fromRuntimeState('crun', add, ctx);
    for (const w of walked) add(w.classified.id, { engine: w.classified.engine, name: w.classified.name, fromCgroup: w });
    this.files.sweep();
    this.dirs.sweep();

    const containers: Container[] = [];
    for (const [id, sources] of found) containers.push(this.merge(id, sources, ctx));
    this.list = containers;
    return containers;
  }

  private merge(id: string, sources: readonly Found[], ctx: CollectContext): Container {
    const first = <K extends keyof Found>(key: K): Found[K] => sources.find((s) => s[key] !== undefined)?.[key];
    const kubernetes: KubernetesMeta = Object.assign({}, ...sources.map((s) => s.kubernetes ?? {}).reverse());
    const walked = first('fromCgroup');
    let pid = first('pid');
    if (pid !== undefined && !this.alive(pid)) pid = undefined;
    let cgroup = walked?.cgroup ?? (pid !== undefined ? this.cgroupOfPid(pid, ctx) : undefined) ?? '';
    pid ??= walked?.pid;
    const running = first('running') ?? pid !== undefined;
    if (!running) {
      cgroup = '';
      pid = undefined;
    }
    const engine = first('engine') ?? 'unknown';
    const image = first('image') || kubernetes.image;
    const kubeName = kubernetes.pod ? `${kubernetes.pod}/${kubernetes.container ?? kubernetes.type ?? 'container'}` : undefined;
    const pod = walked?.classified.pod;
    const labels: Record<string, string> = { engine };
    if (image) labels.image = image;
    if (kubernetes.pod) labels.pod = kubernetes.pod;
    if (kubernetes.namespace) labels.namespace = kubernetes.namespace;
    if (kubernetes.container) labels.container = kubernetes.container;
    if (kubernetes.type) labels.container_type = kubernetes.type;
    const podUid = kubernetes.podUid ?? pod?.uid;
    if (podUid) labels.pod_uid = podUid;
    if (pod) labels.qos_class = pod.qos;
    const hostname = first('hostname');
    return {
      id,
      name: first('name') || kubeName || id,
      cgroup,
      ...(pid !== undefined ? { pid } : {}),
      engine,
      running,
      paused: first('paused') ?? false,
      restarting: first('restarting') ?? false,
      ...(hostname ? { hostname } : {}),
      labels,
    };
  }

  /** A zombie is not alive: a killed container's init lingers as one until its parent reaps it. */
  private alive(pid: number): boolean {
    const stat = readOptional(`${this.options.procfs}/${pid}/stat`);
    return stat !== undefined && !['Z', 'X'].includes(parseProcStat(stat).state);
  }

  /** Every cgroup that names a container. */
  private async walk(ctx: CollectContext): Promise<Walked[]> {
    const hierarchy = this.hierarchy(ctx);
    const out: Walked[] = [];
    this.trees.beginPass();
    this.classified.beginPass();
    if (hierarchy) {
      // Listed again only when the tree may have changed (agent/collectors/cgroup-tree.ts).
      await this.trees.tree(hierarchy.dir).visit(ctx, undefined, (dir) => {
        const classified = this.classified.of(dir.name);
        if (!classified) return;
        const pid = Number(dir.read('cgroup.procs')?.split('\n', 1)[0]);
        out.push({ cgroup: dir.name, classified, ...(pid > 0 ? { pid } : {}) });
      });
    }
    return out;
  }

  /** containerd's task dirs `<ns>/<id>/config.json`: namespace `moby` is dockerd's, `k8s.io` the CRI plugin's. */
  private fromContainerdBundles(add: (id: string, what: Found) => void, ctx: CollectContext): void {
    const tasks = join(this.root, 'run/containerd/io.containerd.runtime.v2.task');
    for (const namespace of this.dirs.list(tasks, ctx)) {
      for (const id of this.dirs.list(`${tasks}/${namespace}`, ctx)) {
        const config = this.files.get(`${tasks}/${namespace}/${id}/config.json`, parseOciConfig, ctx);
        if (!config) continue;
        const pid = Number(readOptional(`${tasks}/${namespace}/${id}/init.pid`, ctx)?.trim());
        add(id, {
          engine: namespace === 'moby' ? 'docker' : 'containerd',
          hostname: config.hostname,
          kubernetes: kubernetesOf(config.annotations),
          ...(pid > 0 ? { pid } : {}),
        });
      }
    }
  }

  /**
   * containers/storage, shared by CRI-O and podman: CRI-O's `userdata/config.json` carries
   * Kubernetes annotations; podman's names live in `containers.json` (its API, when up, says more).
   */
  private fromCrioAndPodmanStore(add: (id: string, what: Found) => void, ctx: CollectContext): void {
    const store = join(this.root, 'var/lib/containers/storage/overlay-containers');
    const podman = new Map((this.files.get(`${store}/containers.json`, parsePodmanStore, ctx) ?? []).map((e) => [e.id, e]));
    for (const id of this.dirs.list(store, ctx)) {
      if (id === 'containers.json' || id.endsWith('.lock')) continue;
      const config = this.files.get(`${store}/${id}/userdata/config.json`, parseOciConfig, ctx);
      if (config && Object.keys(config.annotations).some((k) => k.startsWith('io.kubernetes.cri-o.'))) {
        add(id, { engine: 'crio', hostname: config.hostname, kubernetes: kubernetesOf(config.annotations) });
        podman.delete(id); // CRI-O's own entry in the shared store, named k8s_…
      }
    }
    for (const entry of podman.values()) add(entry.id, { engine: 'podman', name: entry.name, image: entry.image });
  }

  /** runc (`/run/runc/<id>/state.json`) and crun (`/run/crun/<id>/status`) state, with their bundles' annotations. */
  private fromRuntimeState(runtime: 'runc' | 'crun', add: (id: string, what: Found) => void, ctx: CollectContext): void {
    const dir = join(this.root, 'run', runtime);
    for (const id of this.dirs.list(dir, ctx)) {
      const state = runtime === 'runc'
        ? this.files.get(`${dir}/${id}/state.json`, parseRuncState, ctx)
        : this.files.get(`${dir}/${id}/status`, (text) => parseCrunStatus(id, text), ctx);
      if (!state) continue;
      const bundle: OciConfig | undefined = state.bundle
        ? this.files.get(join(this.root, state.bundle, 'config.json'), parseOciConfig, ctx)
        : undefined;
      add(state.id, {
        engine: runtime,
        pid: state.pid,
        hostname: state.hostname ?? bundle?.hostname,
        kubernetes: kubernetesOf(bundle?.annotations ?? {}),
      });
    }
  }
}

/** Cache entries by path, marked `used` when looked up; `sweep` drops those unused since the previous sweep. */
class UsedEntries<Entry extends { used: boolean }> extends Map<string, Entry> {
  sweep(): void {
    for (const [path, entry] of this) {
      if (!entry.used) this.delete(path);
      else entry.used = false;
    }
  }
}

/**
 * Engine state files change rarely but are read every sample: parse a file again only when
 * its mtime or size changed. Entries not asked for in a refresh are dropped by `sweep`.
 */
class JsonFileCache {
  private readonly entries = new UsedEntries<{ mtimeMs: number; size: number; value: unknown; used: boolean }>();

  get<T>(path: string, parse: (text: string) => T, ctx: CollectContext): T | undefined {
    let stat;
    try {
      // Most engines are not installed: a missing file must not cost an exception every pass.
      stat = statSync(path, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!stat) return undefined;
    const cached = this.entries.get(path);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) {
      cached.used = true;
      return cached.value as T;
    }
    const text = readOptional(path, ctx);
    if (text === undefined) return undefined;
    let value: T;
    try {
      value = parse(text);
    } catch {
      // Half-written by its engine, or not ours to understand: try again when it changes.
      this.entries.set(path, { mtimeMs: stat.mtimeMs, size: stat.size, value: undefined, used: true });
      return undefined;
    }
    this.entries.set(path, { mtimeMs: stat.mtimeMs, size: stat.size, value, used: true });
    return value;
  }

  sweep(): void {
    this.entries.sweep();
  }
}

/**
 * A timestamp no later than this after the listing it stamps may be shared by a change made
 * after that listing: tmpfs (/run) stamps with a clock that ticks once a jiffy, and some
 * filesystems once a second or two.
 */
const MTIME_GRANULARITY_MS = 2000;

/**
 * Engine state directories (/run/runc, containerd's task dirs, the containers/storage store)
 * change when a container is created or removed, and are looked at every pass: each is listed
 * again only when its mtime moved, and a missing one (most engines are not installed) costs
 * one stat that throws nothing. A listing made within MTIME_GRANULARITY_MS of the mtime is not
 * reused, because a second change in the same timestamp tick would leave the mtime as it was.
 */
class DirListings {
  private readonly entries = new UsedEntries<{ mtimeMs: number; names: string[]; reusable: boolean; used: boolean }>();

  list(path: string, ctx: CollectContext): string[] {
    const stat = tolerant(path, ctx, (p) => statSync(p, { throwIfNoEntry: false }));
    if (!stat?.isDirectory()) return [];
    const cached = this.entries.get(path);
    if (cached?.reusable && cached.mtimeMs === stat.mtimeMs) {
      cached.used = true;
      return cached.names;
    }
    const listedAt = Date.now();
    const names = listDir(path, ctx);
    this.entries.set(path, { mtimeMs: stat.mtimeMs, names, reusable: listedAt - stat.mtimeMs > MTIME_GRANULARITY_MS, used: true });
    return names;
  }

  /** Forgets directories not looked at since the previous sweep (a containerd namespace removed). */
  sweep(): void {
    this.entries.sweep();
  }
}

/**
 * What each cgroup of the walk is, by path: the walk meets every cgroup of the host every
 * pass (a thousand on a busy one), and a path classifies the same way every time. Paths the
 * latest walk did not meet are forgotten.
 */
class Classified {
  private readonly byPath = new Map<string, { container: CgroupContainer | undefined; pass: number }>();
  private pass = 0;

  beginPass(): void {
    // forEach, not for…of: no [key, value] array per cgroup.
    this.byPath.forEach((entry, path) => {
      if (entry.pass < this.pass) this.byPath.delete(path);
    });
    this.pass++;
  }

  of(path: string): CgroupContainer | undefined {
    let entry = this.byPath.get(path);
    if (entry === undefined) this.byPath.set(path, (entry = { container: classifyCgroup(path), pass: this.pass }));
    else entry.pass = this.pass;
    return entry.container;
  }
}

const discoveries = new WeakMap<Roots, ContainerDiscovery>();

/**
 * The discovery of one agent. Collectors are made from the agent's `Roots` object one by
 * one, and the container collectors and the agent's ContainerScope must share one
 * discovery (one event stream, one refresh per sampling pass), so it is kept per Roots object.
 */
export function discoveryFor(roots: DiscoveryOptions): ContainerDiscovery {
  let discovery = discoveries.get(roots);
  if (!discovery) discoveries.set(roots, (discovery = new ContainerDiscovery(roots)));
  return discovery;
}
