import { statSync } from 'node:fs';
import { readOptional } from '../collectors/read.js';
import type { ContainerScope } from '../containers/scope.js';
import { cgroupMounts, parseMountInfo, type CgroupMount } from '../parsers/mountinfo.js';
import { parseProcCgroups } from '../parsers/proc-cgroups.js';
import { parseProcCgroup } from '../parsers/proc-pid.js';

/** What a client asks to profile. */
export type ProfileTarget =
  | { kind: 'host' }
  | { kind: 'cgroup'; cgroup: string }
  | { kind: 'container'; container: string };

/** A target made concrete: what perf is told (`-G`), and how people see it. */
export interface ResolvedTarget {
  target: ProfileTarget;
  /** The cgroup path (`/docker/<id>`), absent for the whole host. */
  cgroup?: string;
  /** perf's `-G` argument: the cgroup relative to the hierarchy perf uses. */
  perfCgroup?: string;
  /** The container's name and id when the target was a container. */
  container?: { name: string; id: string };
  /** One line for titles: `host`, `cgroup /x`, `container web (3f2a…)`. */
  description: string;
}

/** A target that cannot be profiled, with what to send instead. */
export class TargetError extends Error {
  constructor(
    message: string,
    /** HTTP status: 400 for a malformed target, 404 for one that does not exist. */
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * A cgroup path from a client, checked before it goes near the file system or perf's
 * command line: absolute, no `.`/`..`/empty components, no control characters.
 */
export function checkCgroupPath(path: string): string {
  if (path.length === 0 || path.length > 4096) throw new TargetError('cgroup path must be 1 to 4096 characters, like /docker/<id>');
  if (!path.startsWith('/')) throw new TargetError(`cgroup path "${path}" must be absolute, like /docker/<id> or /system.slice/x.scope`);
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new TargetError('cgroup path must not contain control characters');
  const parts = path === '/' ? [] : path.slice(1).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new TargetError(`cgroup path "${path}" has an empty, "." or ".." component; name the cgroup by its canonical path`);
  }
  return path;
}

/**
 * The hierarchy perf resolves `-G` against: the v1 one with the perf_event controller when it
 * is mounted (perf prefers it), else the unified (v2) one, where perf_event is implicit.
 */
export function perfHierarchy(mounts: readonly CgroupMount[]): CgroupMount | undefined {
  return mounts.find((m) => m.version === 1 && m.controllers.includes('perf_event')) ?? mounts.find((m) => m.version === 2);
}

export interface TargetRoots {
  procfs: string;
  containers: ContainerScope;
}

/** Resolves and checks a target against this host: the cgroup must exist on perf's hierarchy. */
export function resolveTarget(target: ProfileTarget, roots: TargetRoots): ResolvedTarget {
  if (target.kind === 'host') return { target, description: 'host' };
  const hierarchy = perfCgroupHierarchy(roots.procfs);
  if (target.kind === 'cgroup') {
    const cgroup = checkCgroupPath(target.cgroup);
    if (cgroup === '/') return { target, description: 'host' };
    return { target, cgroup, perfCgroup: onHierarchy(hierarchy, cgroup), description: `cgroup ${cgroup}` };
  }
  const ref = roots.containers.find(target.container);
  if (!ref) {
    throw new TargetError(
      `no container "${target.container}" on this host (by name or id); list them with /pmapi/fetch?names=containers.name`, 404,
    );
  }
  // The container's own view of its cgroup on perf's hierarchy (a hybrid host may name it differently there).
  const own = ref.pid === undefined ? undefined : cgroupOfPid(roots.procfs, ref.pid, hierarchy);
  const cgroup = checkCgroupPath(own ?? ref.cgroup);
  const short = /^[0-9a-f]{64}$/.test(ref.id) ? ref.id.slice(0, 12) : ref.id;
  return {
    target,
    cgroup,
    perfCgroup: onHierarchy(hierarchy, cgroup),
    container: { name: ref.name, id: ref.id },
    description: ref.name === ref.id ? `container ${short}` : `container ${ref.name} (${short})`,
  };
}

function perfCgroupHierarchy(procfs: string): CgroupMount {
  const mountinfo = readOptional(`${procfs}/self/mountinfo`);
  const cgroups = readOptional(`${procfs}/cgroups`) ?? '';
  const mounts = mountinfo === undefined ? [] : cgroupMounts(parseMountInfo(mountinfo), new Set(parseProcCgroups(cgroups).map((s) => s.name)));
  const hierarchy = perfHierarchy(mounts);
  if (!hierarchy) {
    throw new TargetError(
      'no cgroup hierarchy perf can filter on is mounted (neither cgroup v2 nor a v1 perf_event one); ' +
        'mount one (mount -t cgroup2 none /sys/fs/cgroup/unified) or profile the whole host',
    );
  }
  return hierarchy;
}

/** The cgroup as perf's `-G` names it (relative to the mount), once it is known to exist there. */
function onHierarchy(hierarchy: CgroupMount, cgroup: string): string {
  // A mount may show only a subtree (in a container without a cgroup namespace, its own cgroup
  // `/docker/<id>` is mounted at /sys/fs/cgroup): host paths are then relative to that root.
  const root = hierarchy.root === '/' ? '' : hierarchy.root;
  if (root && cgroup !== root && !cgroup.startsWith(`${root}/`)) {
    throw new TargetError(`cgroup ${cgroup} is outside the part of the hierarchy this agent can see (${root})`, 404);
  }
  const relative = cgroup.slice(root.length).replace(/^\//, '');
  const dir = `${hierarchy.mountPoint}/${relative}`;
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing: reported below
  }
  if (!isDir) {
    const kind = hierarchy.version === 2 ? 'cgroup v2' : 'perf_event v1';
    throw new TargetError(`no cgroup ${cgroup} on the ${kind} hierarchy at ${hierarchy.mountPoint} (${dir} does not exist), which perf filters on`, 404);
  }
  return relative;
}

function cgroupOfPid(procfs: string, pid: number, hierarchy: CgroupMount): string | undefined {
  const text = readOptional(`${procfs}/${pid}/cgroup`);
  if (text === undefined) return undefined;
  const line = parseProcCgroup(text).find((l) =>
    hierarchy.version === 2 ? l.hierarchy === 0 : l.controllers.split(',').includes('perf_event'),
  );
  return line?.path;
}
