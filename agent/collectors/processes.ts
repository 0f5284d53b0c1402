import { discoveryFor } from '../containers/discovery.js';
import { procFamily } from '../metrics/proc.js';
import { cgroupInstanceName } from '../parsers/cgroup-path.js';
import { cgroupsString, parseCmdline, parseProcCgroup, parseProcStat, parseProcStatus, procInstanceName } from '../parsers/proc-pid.js';
import { listDir, readOptional } from './read.js';
import type { CollectContext, Collector, Roots } from './types.js';

/**
 * `proc.*`: every process, with the container it runs in (`proc.id.container`), so that a
 * context scoped to a container lists just its processes. Each pid costs four small reads
 * (stat, status, cmdline, cgroup) and one readdir of its fd directory.
 */
export function processesCollector(roots: Roots): Collector {
  const discovery = discoveryFor(roots);
  return {
    name: 'processes',
    family: procFamily,
    async collect(out, ctx) {
      const containers = await discovery.refresh(ctx);
      const hierarchy = discovery.hierarchy(ctx);
      const byCgroup = new Map(containers.filter((c) => c.cgroup).map((c) => [c.cgroup, c.id]));
      // A process belongs to the container whose cgroup is its own or an ancestor of it.
      const containerOf = new Map<string, string>();
      const lookup = (cgroup: string): string => {
        let id = containerOf.get(cgroup);
        if (id === undefined) {
          const parent = cgroup.lastIndexOf('/') > 0 ? cgroup.slice(0, cgroup.lastIndexOf('/')) : '';
          id = byCgroup.get(cgroup) ?? (parent ? lookup(parent) : '');
          containerOf.set(cgroup, id);
        }
        return id;
      };

      let count = 0;
      for (const entry of listDir(roots.procfs, ctx)) {
        if (!/^\d+$/.test(entry)) continue;
        const dir = `${roots.procfs}/${entry}`;
        const statText = readOptional(`${dir}/stat`, ctx);
        const statusText = readOptional(`${dir}/status`, ctx);
        if (statText === undefined || statusText === undefined) continue; // exited meanwhile
        const stat = parseProcStat(statText);
        const status = parseProcStatus(statusText);
        const psargs = parseCmdline(readOptional(`${dir}/cmdline`, ctx) ?? '', stat.comm);
        const cgroups = parseProcCgroup(readOptional(`${dir}/cgroup`, ctx) ?? '');
        const own = hierarchy ? cgroups.find((line) => hierarchy.matches(line)) : undefined;
        const inst = procInstanceName(stat.pid, psargs);
        count++;

        out.put('proc.psinfo.pid', stat.pid, inst);
        out.put('proc.psinfo.cmd', stat.comm, inst);
        out.put('proc.psinfo.psargs', psargs, inst);
        out.put('proc.psinfo.sname', stat.state, inst);
        out.put('proc.psinfo.ppid', stat.ppid, inst);
        out.put('proc.psinfo.utime', stat.utimeMs, inst);
        out.put('proc.psinfo.stime', stat.stimeMs, inst);
        out.put('proc.psinfo.priority', stat.priority, inst);
        out.put('proc.psinfo.nice', stat.nice, inst);
        out.put('proc.psinfo.start_time', stat.startMs, inst);
        out.put('proc.psinfo.processor', stat.processor, inst);
        out.put('proc.psinfo.threads', status.threads, inst);
        // Kernel threads have no memory of their own; PCP shows 0.
        out.put('proc.psinfo.vsize', status.vmSizeKb ?? 0, inst);
        out.put('proc.psinfo.rss', status.vmRssKb ?? 0, inst);
        out.put('proc.memory.vmsize', status.vmSizeKb ?? 0, inst);
        out.put('proc.memory.vmrss', status.vmRssKb ?? 0, inst);
        out.put('proc.psinfo.cgroups', cgroupsString(cgroups), inst);
        out.put('proc.id.container', own ? lookup(cgroupInstanceName(own.path)) : '', inst);
        out.put('proc.id.uid', status.uid, inst);
        out.put('proc.namespaces.pid', status.nspid.join(' '), inst);
        const fds = countFds(`${dir}/fd`, ctx);
        if (fds !== undefined) out.put('proc.fd.count', fds, inst);
      }
      out.put('proc.nprocs', count);
    },
  };
}

/** Open descriptors; undefined (not 0) when we may not look, as for pid 1 here. */
function countFds(path: string, ctx: CollectContext): number | undefined {
  let denied = false;
  const entries = listDir(path, { ...ctx, unreadable: (key, error) => ((denied = true), ctx.unreadable(key, error)) });
  return denied ? undefined : entries.length;
}
