/**
 * /proc/<pid>/mountinfo (proc(5)): one mount per line,
 * `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
 */
export interface Mount {
  mountId: number;
  parentId: number;
  /** `major:minor` of the filesystem: equal for every mount (bind, namespace view) of one superblock. */
  device: string;
  /** The directory of the filesystem that is mounted here (`/` unless a subtree is bind-mounted). */
  root: string;
  mountPoint: string;
  mountOptions: string[];
  /** `shared:1`, `master:2`, `propagate_from:3`, `unbindable`; zero or more. */
  optionalFields: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    // The optional fields end at a lone "-"; the three fields after it are always there.
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length < dash + 4) throw new Error(`unparsable mountinfo line: ${JSON.stringify(line)}`);
    mounts.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      device: fields[2]!,
      root: unescapeMountField(fields[3]!),
      mountPoint: unescapeMountField(fields[4]!),
      mountOptions: fields[5]!.split(','),
      optionalFields: fields.slice(6, dash),
      fsType: fields[dash + 1]!,
      source: unescapeMountField(fields[dash + 2]!),
      superOptions: fields[dash + 3]!.split(','),
    });
  }
  return mounts;
}

/** The kernel writes space, tab, newline and backslash in paths as octal escapes (`\040`). */
export function unescapeMountField(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** A mounted cgroup hierarchy. */
export interface CgroupMount {
  version: 1 | 2;
  /** Controllers attached to a v1 hierarchy (`cpu`, `cpuacct`…); empty for v2 and for named ones. */
  controllers: string[];
  /** A v1 hierarchy without controllers has a name (`name=systemd` → `systemd`). */
  name?: string;
  /** Mount point as the kernel shows it (a host path, not yet mapped under `--sysfs`). */
  mountPoint: string;
  /** The cgroup mounted there: `/` on a host, the container's own cgroup inside some containers. */
  root: string;
  device: string;
}

/**
 * The cgroup mounts among `mounts`, in mount order.
 * @param subsystems controller names the kernel knows (first column of /proc/cgroups); a v1
 *   mount's super options are split into controllers and plain options with it.
 */
export function cgroupMounts(mounts: readonly Mount[], subsystems: ReadonlySet<string>): CgroupMount[] {
  const found: CgroupMount[] = [];
  for (const m of mounts) {
    if (m.fsType !== 'cgroup' && m.fsType !== 'cgroup2') continue;
    const version = m.fsType === 'cgroup2' ? 2 : 1;
    const mount: CgroupMount = {
      version,
      controllers: version === 1 ? m.superOptions.filter((o) => subsystems.has(o)) : [],
      mountPoint: m.mountPoint,
      root: m.root,
      device: m.device,
    };
    const named = version === 1 ? m.superOptions.find((o) => o.startsWith('name=')) : undefined;
    if (named) mount.name = named.slice('name='.length);
    found.push(mount);
  }
  return found;
}

/**
 * One mount per hierarchy (superblock), from the mounts that are visible: a mount covered by a
 * later one at the same mount point (a runtime bind-mounting a container's own cgroup over
 * /sys/fs/cgroup/memory) is not. A hierarchy mounted more than once (bind mounts, a container's
 * namespaced view beside the host's) is taken from the mount that shows most of it, the one
 * whose root is highest in the tree; the first of those on a tie.
 */
export function distinctHierarchies(mounts: readonly CgroupMount[]): CgroupMount[] {
  const top = new Map<string, CgroupMount>();
  for (const m of mounts) top.set(m.mountPoint, m);
  const byDevice = new Map<string, CgroupMount>();
  for (const m of mounts) {
    if (top.get(m.mountPoint) !== m) continue;
    const seen = byDevice.get(m.device);
    if (!seen || depth(m.root) < depth(seen.root)) byDevice.set(m.device, m);
  }
  return [...byDevice.values()];
}

/**
 * How far below the top of its hierarchy a mount's root is. Under a cgroup namespace, roots
 * outside the namespace read `/..` or `/../..`: above the reader's own cgroup, so they count less.
 */
function depth(root: string): number {
  let depth = 0;
  for (const part of root.split('/')) if (part !== '') depth += part === '..' ? -1 : 1;
  return depth;
}
