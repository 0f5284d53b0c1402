import type { Sample } from '../store/sample.js';

/** A container as the API needs to know it to scope a context to it. */
export interface ContainerRef {
  /** Engine id (full hex id for docker/podman/containerd; unit name for systemd). */
  id: string;
  /** Human name (docker name, pod/container for Kubernetes), or the id when none is known. */
  name: string;
  /** Its cgroup path exactly as the `cgroup.*` instance names spell it (`/docker/<id>`). */
  cgroup: string;
  /** A member pid in the host pid namespace, through which its namespaces are read. */
  pid?: number;
}

/**
 * How a context selected for one container sees the host (PCP semantics): `cgroup.*` limited
 * to the container's cgroup subtree, `network.*` and `pmcd.hostname` answered from the
 * container's own namespaces. Implemented by the container discovery (agent/containers/);
 * the API dialects only call it.
 */
export interface ContainerScope {
  /** Find by name or id (a unique id prefix of at least 12 hex digits also matches); undefined when unknown. */
  find(nameOrId: string): ContainerRef | undefined;
  /** The sample as seen from inside the container. */
  view(sample: Sample, container: ContainerRef): Sample;
}

/** Before container discovery exists, or where it is disabled: no container is known. */
export const noContainers: ContainerScope = {
  find: () => undefined,
  view: (sample) => sample,
};
