import { statSync } from 'node:fs';
import { discoveryFor } from '../containers/discovery.js';
import { procFamily } from '../metrics/proc.js';
import { cgroupInstanceName } from '../parsers/cgroup-path.js';
import { cgroupsString, parseCmdline, parseProcCgroup, parseProcStat, parseProcStatus, procInstanceName } from '../parsers/proc-pid.js';
import { FdBudget, processFdBudget } from './kept-files.js';
import { ProcFiles } from './procfs.js';
import { listDir, tolerant } from './read.js';
import type { CollectContext, Collector, Roots } from './types.js';

/**
 * Descriptors the collector may keep open (four files a process, so 256 processes), a share of
 * the agent's budget that leaves the rest to the cgroup files read after it in each pass.
 * Beyond it files are opened, read and closed each time, as they were.
 */
export const PROCESS_FILES_MAX = 1024;

/** What a process's cmdline and cgroup files gave on the previous pass, kept while they read the same. */
interface Known {
  seen: number;
  cmdline: string;
  comm: string;
  psargs: string;
  inst: string;
  cgroup: string;
  cgroups: string;
  /** Its cgroup in the containers' hierarchy, as an instance name; undefined when it has none there. */
  own: string | undefined;
}

/**
 * `proc.*`: every process, with the container it runs in (`proc.id.container`), so that a
 * context scoped to a container lists just its processes. Each pid costs four small reads
 * (stat, status, cmdline, cgroup), through descriptors kept open between passes on a real
 * procfs, and a count of its open descriptors (a stat of its fd directory where the kernel
 * gives the count as its size, Linux 6.2 on; else a listing).
 */
export function processesCollector(roots: Roots): Collector {
  const discovery = discoveryFor(roots);
  const files = new ProcFiles(roots.procfs, new FdBudget(PROCESS_FILES_MAX, processFdBudget()));
  const fdSizeIsCount = files.kernel && descriptorCountIsSize(roots.procfs);
  const known = new Map<number, Known>();
  let pass = 0;
  let knownHierarchy: unknown;
  return {
    name: 'processes',
    family: procFamily,
    async collect(out, ctx) {
      const containers = await discovery.refresh(ctx);
      const hierarchy = discovery.hierarchy(ctx);
      // Which line of a cgroup file is the process's own depends on the hierarchy.
      if (hierarchy !== knownHierarchy) known.clear();
      knownHierarchy = hierarchy;
      const cgroupsOf = (text: string): Pick<Known, 'cgroups' | 'own'> => {
        const cgroups = parseProcCgroup(text);
        const own = hierarchy ? cgroups.find((line) => hierarchy.matches(line)) : undefined;
        return { cgroups: cgroupsString(cgroups), own: own ? cgroupInstanceName(own.path) : undefined };
      };
      pass++;
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
        const statText = files.read(`${dir}/stat`, ctx);
        const statusText = files.read(`${dir}/status`, ctx);
        if (statText === undefined || statusText === undefined) continue; // exited meanwhile
        const stat = parseProcStat(statText);
        const status = parseProcStatus(statusText);
        const cmdline = files.read(`${dir}/cmdline`, ctx) ?? '';
        const cgroup = files.read(`${dir}/cgroup`, ctx) ?? '';
        // The same texts as last pass (nearly always) give the same strings: no parsing again.
        let seen = known.get(stat.pid);
        if (seen === undefined) {
          seen = { seen: pass, cmdline, comm: stat.comm, ...names(stat.pid, stat.comm, cmdline), cgroup, ...cgroupsOf(cgroup) };
          known.set(stat.pid, seen);
        } else {
          if (seen.cmdline !== cmdline || seen.comm !== stat.comm) Object.assign(seen, { cmdline, comm: stat.comm }, names(stat.pid, stat.comm, cmdline));
          if (seen.cgroup !== cgroup) Object.assign(seen, { cgroup }, cgroupsOf(cgroup));
          seen.seen = pass;
        }
        const inst = seen.inst;
        count++;

        out.put('proc.psinfo.pid', stat.pid, inst);
        out.put('proc.psinfo.cmd', stat.comm, inst);
        out.put('proc.psinfo.psargs', seen.psargs, inst);
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
        out.put('proc.psinfo.cgroups', seen.cgroups, inst);
        out.put('proc.id.container', seen.own === undefined ? '' : lookup(seen.own), inst);
        out.put('proc.id.uid', status.uid, inst);
        out.put('proc.namespaces.pid', status.nspid.join(' '), inst);
        const fds = fdSizeIsCount ? fdCountFromSize(`${dir}/fd`, ctx) : countFds(`${dir}/fd`, ctx);
        if (fds !== undefined) out.put('proc.fd.count', fds, inst);
      }
      out.put('proc.nprocs', count);
      // Now rather than at the start of the next pass: a process that exited lets its
      // descriptors go in the pass that no longer found it.
      files.sweep();
      // forEach: no [pid, known] array per process.
      known.forEach((k, pid) => {
        if (k.seen !== pass) known.delete(pid);
      });
    },
  };
}

/** PCP's `psargs` and the instance name, from the cmdline text. */
function names(pid: number, comm: string, cmdline: string): Pick<Known, 'psargs' | 'inst'> {
  const psargs = parseCmdline(cmdline, comm);
  return { psargs, inst: procInstanceName(pid, psargs) };
}

/**
 * Whether a stat of /proc/<pid>/fd gives the number of open descriptors as its size (Linux 6.2
 * and later; 0 before). This process always has some open, so its own directory tells.
 */
function descriptorCountIsSize(procfs: string): boolean {
  try {
    return statSync(`${procfs}/self/fd`).size > 0;
  } catch {
    return false;
  }
}

/** Open descriptors from the fd directory's size; undefined (not 0) when we may not look. */
function fdCountFromSize(path: string, ctx: CollectContext): number | undefined {
  return tolerant(path, ctx, (p) => statSync(p).size);
}

/** Open descriptors; undefined (not 0) when we may not look, as for pid 1 here. */
function countFds(path: string, ctx: CollectContext): number | undefined {
  let denied = false;
  const entries = listDir(path, { ...ctx, unreadable: (key, error) => ((denied = true), ctx.unreadable(key, error)) });
  return denied ? undefined : entries.length;
}
