/**
 * On-disk state of OCI runtimes and the engines above them:
 * - an OCI bundle's `config.json` (containerd's task dirs, CRI-O's `userdata/`): hostname,
 *   cgroupsPath and the annotations Kubernetes runtimes write;
 * - runc's `/run/runc/<id>/state.json` and crun's `/run/crun/<id>/status`;
 * - podman's store `/var/lib/containers/storage/overlay-containers/containers.json`.
 */
import { stringMap } from './docker.js';

export interface OciConfig {
  hostname?: string;
  cgroupsPath?: string;
  annotations: Record<string, string>;
}

export function parseOciConfig(text: string): OciConfig {
  const doc = JSON.parse(text) as { hostname?: unknown; annotations?: unknown; linux?: { cgroupsPath?: unknown } };
  return {
    ...(typeof doc.hostname === 'string' && doc.hostname ? { hostname: doc.hostname } : {}),
    ...(typeof doc.linux?.cgroupsPath === 'string' ? { cgroupsPath: doc.linux.cgroupsPath } : {}),
    annotations: stringMap(doc.annotations),
  };
}

/** What runc and crun record about a container they started. */
export interface RuntimeState {
  id: string;
  /** Init process in the host pid namespace. */
  pid: number;
  hostname?: string;
  /** The bundle directory (its config.json has the annotations). */
  bundle?: string;
}

/** runc `state.json`: `init_process_pid`, `config.hostname`, `config.labels: ["bundle=/path", …]`. */
export function parseRuncState(text: string): RuntimeState {
  const doc = JSON.parse(text) as { id?: unknown; init_process_pid?: unknown; config?: { hostname?: unknown; labels?: unknown } };
  if (typeof doc.id !== 'string' || typeof doc.init_process_pid !== 'number') {
    throw new Error('runc state.json lacks id or init_process_pid');
  }
  const labels = Array.isArray(doc.config?.labels) ? doc.config.labels : [];
  const bundle = labels.find((l): l is string => typeof l === 'string' && l.startsWith('bundle='))?.slice('bundle='.length);
  const hostname = doc.config?.hostname;
  return {
    id: doc.id,
    pid: doc.init_process_pid,
    ...(typeof hostname === 'string' && hostname ? { hostname } : {}),
    ...(bundle ? { bundle } : {}),
  };
}

/** crun `status`: `{"pid": …, "bundle": …, "cgroup-path": …}`; the id is its directory's name. */
export function parseCrunStatus(id: string, text: string): RuntimeState {
  const doc = JSON.parse(text) as { pid?: unknown; bundle?: unknown };
  if (typeof doc.pid !== 'number') throw new Error(`crun status of ${id} lacks pid`);
  return { id, pid: doc.pid, ...(typeof doc.bundle === 'string' ? { bundle: doc.bundle } : {}) };
}

export interface PodmanStoreEntry {
  id: string;
  name: string;
  image: string;
}

/** containers/storage `containers.json`: `[{id, names: [...], metadata: "<json with image-name>"}]`. */
export function parsePodmanStore(text: string): PodmanStoreEntry[] {
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list)) throw new Error('podman containers.json is not an array');
  const out: PodmanStoreEntry[] = [];
  for (const entry of list as Array<{ id?: unknown; names?: unknown; metadata?: unknown }>) {
    if (typeof entry.id !== 'string') continue;
    const names = Array.isArray(entry.names) ? entry.names.filter((n): n is string => typeof n === 'string') : [];
    let image = '';
    if (typeof entry.metadata === 'string') {
      try {
        const meta = JSON.parse(entry.metadata) as { 'image-name'?: unknown };
        if (typeof meta['image-name'] === 'string') image = meta['image-name'];
      } catch {
        // metadata is free-form for non-podman users of containers/storage (buildah): no image then
      }
    }
    out.push({ id: entry.id, name: names[0] ?? entry.id, image });
  }
  return out;
}

/** Kubernetes identity of a container, from CRI annotations or dockershim/CRI-O labels. */
export interface KubernetesMeta {
  pod?: string;
  namespace?: string;
  container?: string;
  podUid?: string;
  /** `container`, or `sandbox` for the pod's pause container. */
  type?: string;
  image?: string;
}

/** The keys each runtime uses, most specific first: containerd CRI, then CRI-O and dockershim. */
const KUBERNETES_KEYS: Record<keyof KubernetesMeta, readonly string[]> = {
  pod: ['io.kubernetes.cri.sandbox-name', 'io.kubernetes.pod.name'],
  namespace: ['io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.pod.namespace'],
  container: ['io.kubernetes.cri.container-name', 'io.kubernetes.container.name'],
  podUid: ['io.kubernetes.cri.sandbox-uid', 'io.kubernetes.pod.uid'],
  type: ['io.kubernetes.cri.container-type', 'io.kubernetes.cri-o.ContainerType', 'io.kubernetes.docker.type'],
  image: ['io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.ImageName'],
};

export function kubernetesOf(annotations: Readonly<Record<string, string>>): KubernetesMeta {
  const meta: KubernetesMeta = {};
  for (const [field, keys] of Object.entries(KUBERNETES_KEYS) as Array<[keyof KubernetesMeta, readonly string[]]>) {
    const key = keys.find((k) => annotations[k]);
    if (key) meta[field] = annotations[key]!;
  }
  // dockershim calls the pause container `podsandbox`; say `sandbox` like the CRI runtimes.
  if (meta.type === 'podsandbox') meta.type = 'sandbox';
  return meta;
}
