import { cgroupFamily } from '../metrics/cgroup.js';
import { classifyCgroup } from '../parsers/container-cgroup.js';
import { cgroupMounts, distinctHierarchies, parseMountInfo, type CgroupMount } from '../parsers/mountinfo.js';
import { parseProcCgroups, type Subsystem } from '../parsers/proc-cgroups.js';
import type { SampleWriter } from '../store/sample.js';
import { cpuacctFromV1, cpuFromV2, cpuschedFromV1, cpusetFromV1, cpusetFromV2 } from './cgroup-cpu.js';
import type { CgroupDir } from './cgroup-dir.js';
import { blkioFromV1, blockDeviceNames, ioFromV2 } from './cgroup-io.js';
import { hugetlbFrom, memoryFromV1, memoryFromV2, memoryStatPlan } from './cgroup-memory.js';
import { netclassFromV1 } from './cgroup-netclass.js';
import { pidsFrom } from './cgroup-pids.js';
import { pressureFromV2, pressurePlan } from './cgroup-pressure.js';
import { CgroupFeeds } from './cgroup-feeds.js';
import type { CgroupSink } from './cgroup-sink.js';
import { CgroupTrees } from './cgroup-tree.js';
import { readOptional, readText } from './read.js';
import type { Collector, Roots } from './types.js';

/** What each v1 controller's hierarchy yields. Hierarchies with none of these are not walked. */
const V1_READERS: Readonly<Record<string, (dir: CgroupDir, sink: CgroupSink) => void>> = {
  cpuacct: cpuacctFromV1,
  cpu: cpuschedFromV1,
  cpuset: cpusetFromV1,
  memory: memoryFromV1,
  blkio: blkioFromV1,
  pids: pidsFrom,
  hugetlb: hugetlbFrom,
  net_cls: netclassFromV1,
};

/**
 * Mount points in mountinfo are paths of the mount namespace the agent reads it from; a
 * mount under /sys is looked up under `--sysfs` (the host's /sys mounted elsewhere, or a
 * fixture tree), anything else as it stands.
 */
export function hierarchyPath(mountPoint: string, sysfs: string): string {
  if (sysfs === '/sys' || (mountPoint !== '/sys' && !mountPoint.startsWith('/sys/'))) return mountPoint;
  return sysfs + mountPoint.slice('/sys'.length);
}

/**
 * Every cgroup of every hierarchy, on v1, hybrid (v1 plus a cgroup2 `unified` tree) and pure
 * v2 hosts, as PCP's cgroup.* metrics plus Vigil's additions. Hierarchies come from
 * `<procfs>/self/mountinfo`; instances are cgroup paths relative to the mount (`/docker/<id>`).
 *
 * Which file wins when both versions could serve a name: the v1 controller's file, whenever
 * the cgroup exists in that controller's v1 hierarchy (that is where the controller acts on a
 * hybrid host); otherwise the cgroup2 file. So on a hybrid host cpuacct.* and cpu.stat.* of
 * `/demo` come from v1 cpuacct, while a cgroup that exists only under `unified` gets them
 * from its cgroup2 cpu.stat; pressure always comes from cgroup2, the only place it exists.
 */
export function cgroupCollector(roots: Roots): Collector {
  // Container ids by cgroup name, kept for the cgroups seen in the latest pass.
  let containers = new Map<string, string>();
  const trees = new CgroupTrees();
  // Both files read the same pass after pass; parsing them was a few percent of a small host's pass.
  const subsystemsOf = sameAsLast(parseProcCgroups);
  const mountsOf = sameAsLast((mountinfo: string, subsystems: readonly Subsystem[]) =>
    cgroupMounts(parseMountInfo(mountinfo), new Set(subsystems.map((s) => s.name))));
  const hierarchiesOf = sameAsLast(distinctHierarchies);
  const feeds = new CgroupFeeds(cgroupFamily);
  const reads = (file: string): boolean => feeds.reads(file);
  /** The cgroup as the readers see it: files whose metrics nobody wants read as absent. */
  const wanted = (dir: CgroupDir): CgroupDir => {
    dir.need = reads;
    return dir;
  };
  return {
    name: 'cgroup',
    family: cgroupFamily,
    async collect(out, ctx) {
      trees.beginPass();
      const subsystems = subsystemsOf(readOptional(`${roots.procfs}/cgroups`, ctx) ?? '');
      const mounts = mountsOf(readText(`${roots.procfs}/self/mountinfo`), subsystems);
      putSubsystems(out, subsystems);
      putMounts(out, mounts);
      feeds.begin(ctx.wants);
      if (!feeds.any()) return;

      const previous = containers;
      const current = new Map<string, string>();
      containers = current;
      const containerOf = (cgroup: string): string => {
        let id = current.get(cgroup);
        if (id === undefined) {
          id = previous.get(cgroup) ?? classifyCgroup(cgroup)?.id ?? '';
          current.set(cgroup, id);
        }
        return id;
      };
      const wantedIds = new Map<string, boolean>();
      const sink: CgroupSink = {
        out,
        putContainer(metric, cgroup) {
          let wanted = wantedIds.get(metric);
          if (wanted === undefined) wantedIds.set(metric, (wanted = ctx.wants(metric)));
          if (wanted) out.put(metric, containerOf(cgroup), cgroup);
        },
        deviceName: blockDeviceNames(roots.sysfs, ctx),
        memoryStat: memoryStatPlan(ctx.wants),
        pressure: pressurePlan(ctx.wants),
      };

      const hierarchies = hierarchiesOf(mounts);
      /**
       * cgroup → the v1 controllers whose hierarchy has it, which cgroup2 must not serve again:
       * one lookup per cgroup2 cgroup, not one per controller.
       */
      const inV1 = new Map<string, string[]>();
      for (const h of hierarchies) {
        if (h.version !== 1) continue;
        const controllers = h.controllers.filter((c) => V1_READERS[c] !== undefined);
        if (controllers.length === 0) continue;
        // Not walking a hierarchy nobody wants is safe on hybrid hosts too: cgroup2 then does not
        // yield to it, but reads none of those metrics' files either.
        const readers = controllers.filter((c) => feeds.walks(c));
        if (readers.length === 0) continue;
        const count = subsystems.find((s) => s.name === controllers[0])?.numCgroups;
        await trees.tree(hierarchyPath(h.mountPoint, roots.sysfs)).visit(ctx, count, (dir) => {
          const view = wanted(dir);
          for (const c of readers) V1_READERS[c]!(view, sink);
          const there = inV1.get(dir.name);
          if (there === undefined) inV1.set(dir.name, [...controllers]);
          else there.push(...controllers);
        });
      }

      const unified = hierarchies.find((h) => h.version === 2);
      if (!unified) return;
      const none: readonly string[] = [];
      await trees.tree(hierarchyPath(unified.mountPoint, roots.sysfs)).visit(ctx, undefined, (whole) => {
        const dir = wanted(whole);
        const v1 = inV1.get(dir.name) ?? none;
        const acct = !v1.includes('cpuacct');
        const sched = !v1.includes('cpu');
        if (acct || sched) cpuFromV2(dir, sink, acct, sched);
        if (!v1.includes('cpuset')) cpusetFromV2(dir, sink);
        if (!v1.includes('memory')) memoryFromV2(dir, sink);
        if (!v1.includes('blkio')) ioFromV2(dir, sink);
        if (!v1.includes('pids')) pidsFrom(dir, sink);
        if (!v1.includes('hugetlb')) hugetlbFrom(dir, sink);
        pressureFromV2(dir, sink);
      });
    },
  };
}

function putSubsystems(out: SampleWriter, subsystems: readonly Subsystem[]): void {
  for (const s of subsystems) {
    out.put('cgroup.subsys.hierarchy', s.hierarchy, s.name);
    out.put('cgroup.subsys.num_cgroups', s.numCgroups, s.name);
    out.put('cgroup.subsys.enabled', s.enabled, s.name);
  }
  out.put('cgroup.subsys.count', subsystems.length);
}

/** Every cgroup mount with its controllers, `?` for cgroup2 and named hierarchies (as PCP shows them). */
function putMounts(out: SampleWriter, mounts: readonly CgroupMount[]): void {
  for (const m of mounts) out.put('cgroup.mounts.subsys', m.controllers.length > 0 ? m.controllers.join(',') : '?', m.mountPoint);
  out.put('cgroup.mounts.count', mounts.length);
}

/**
 * `parse`, answering again what it answered last when called with the same arguments (texts
 * compared by value, others by identity). What it returns is shared between calls: read only.
 */
function sameAsLast<A extends unknown[], T>(parse: (...args: A) => T): (...args: A) => T {
  let lastArgs: A | undefined;
  let last: T;
  return (...args) => {
    if (lastArgs === undefined || args.some((arg, i) => arg !== lastArgs![i])) {
      last = parse(...args);
      lastArgs = args;
    }
    return last;
  };
}
