/**
 * What a cgroup path alone says about the container in it. Engines name their cgroups by
 * convention, so a container stays visible (by id) when its engine's metadata is not
 * reachable: dockerd stopped, an engine we have no reader for, a fixture tree.
 */

export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

export interface CgroupContainer {
  /** `docker`, `podman`, `containerd`, `crio`, `kubernetes`, `lxc`, `nspawn`, `machine`, `systemd` or `unknown`. */
  engine: string;
  /** The engine's id: 64 hex digits for OCI engines, the unit name for systemd, the name for LXC. */
  id: string;
  /** A human name when the path carries one (LXC, nspawn, machined). */
  name?: string;
  /** Set for containers of a Kubernetes pod. */
  pod?: { uid: string; qos: QosClass };
}

const HEX64 = '([0-9a-f]{64})';

/** Leaf-name forms, first match wins. `conmon` leaves are the engines' monitors, not containers. */
const LEAF_FORMS: ReadonlyArray<readonly [RegExp, string | null]> = [
  [new RegExp(`^docker-${HEX64}\\.scope$`), 'docker'],
  [/^libpod-conmon-/, null],
  [new RegExp(`^libpod-${HEX64}(?:\\.scope)?$`), 'podman'],
  [new RegExp(`^cri-containerd-${HEX64}\\.scope$`), 'containerd'],
  [/^crio-conmon-/, null],
  [new RegExp(`^crio-${HEX64}\\.scope$`), 'crio'],
];

const BARE_ID = new RegExp(`^${HEX64}$`);
/** cgroupfs driver: `/kubepods/burstable/pod<uid>`; systemd driver: `kubepods-burstable-pod<uid_with_underscores>.slice`. */
const POD_CGROUPFS = /^pod([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const POD_SYSTEMD = /^kubepods(?:-(burstable|besteffort))?-pod([0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12})\.slice$/;

/**
 * Classifies a cgroup path (relative to its hierarchy root, as `/proc/<pid>/cgroup` and the
 * `cgroup.*` instance names spell it); undefined when it is not a container's cgroup.
 */
export function classifyCgroup(path: string): CgroupContainer | undefined {
  const parts = path.split('/').filter((p) => p.length > 0);
  const leaf = parts.at(-1);
  if (leaf === undefined) return undefined;
  const parent = parts.at(-2);
  const pod = podOf(parts.slice(0, -1));

  for (const [form, engine] of LEAF_FORMS) {
    const m = form.exec(leaf);
    if (m) return engine === null ? undefined : withPod({ engine, id: m[1]! }, pod);
  }
  const bare = BARE_ID.exec(leaf);
  if (bare) {
    const engine = pod ? 'kubernetes' : parent === 'docker' ? 'docker' : 'unknown';
    return withPod({ engine, id: bare[1]! }, pod);
  }
  if (pod) return undefined; // the pod's own cgroup and its helpers are not containers

  // LXC: `/lxc/<name>` (v1 layout), `/lxc.payload.<name>` (LXC 4), `/lxc.payload/<name>` (LXC 3).
  const payload = /^lxc\.payload\.(.+)$/.exec(leaf);
  if (payload && parts.length === 1) return { engine: 'lxc', id: payload[1]!, name: payload[1]! };
  if ((parent === 'lxc' || parent === 'lxc.payload') && parts.length === 2) return { engine: 'lxc', id: leaf, name: leaf };

  // systemd-machined guests (nspawn containers, libvirt VMs) and plain system services.
  if (parts.length === 2 && parent === 'machine.slice') {
    const nspawn = /^systemd-nspawn@(.+)\.service$/.exec(leaf);
    if (nspawn) return { engine: 'nspawn', id: leaf, name: unescapeUnit(nspawn[1]!) };
    const machine = /^machine-(.+)\.scope$/.exec(leaf);
    if (machine) return { engine: 'machine', id: leaf, name: unescapeUnit(machine[1]!) };
  }
  if (parts.length === 2 && parent === 'system.slice' && leaf.endsWith('.service')) {
    return { engine: 'systemd', id: leaf, name: leaf };
  }
  return undefined;
}

function podOf(ancestors: readonly string[]): CgroupContainer['pod'] {
  const root = ancestors[0];
  if (root === 'kubepods') {
    const qos = ancestors[1] === 'burstable' || ancestors[1] === 'besteffort' ? ancestors[1] : 'guaranteed';
    const m = POD_CGROUPFS.exec(ancestors[qos === 'guaranteed' ? 1 : 2] ?? '');
    return m ? { uid: m[1]!, qos } : undefined;
  }
  if (root === 'kubepods.slice') {
    for (const part of ancestors) {
      const m = POD_SYSTEMD.exec(part);
      if (m) return { uid: m[2]!.replaceAll('_', '-'), qos: (m[1] as QosClass | undefined) ?? 'guaranteed' };
    }
  }
  return undefined;
}

function withPod(found: CgroupContainer, pod: CgroupContainer['pod']): CgroupContainer {
  return pod ? { ...found, pod } : found;
}

/** systemd escapes unit-name bytes as `\xHH` (`qemu\x2d1\x2dvm` is `qemu-1-vm`). */
function unescapeUnit(name: string): string {
  return name.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
