import { displayOfMeta, type SeriesSource } from './host-data.js';
import { toNumber } from './rate.js';

/**
 * Processes from the agent's proc.* metrics (instances named `<pid> <command>` by PCP's
 * convention, id = pid), with their container and cgroups, CPU in cores and memory in bytes.
 */
export interface ProcessRow {
  pid: number;
  /** Pids from the host's namespace down to the process's own (`4242 1`: pid 1 in a container). */
  nspids: string;
  cmd: string;
  args: string;
  state: string;
  /** Cores (user + system time per second). */
  cpu: number;
  /** Resident memory, bytes. */
  rss: number;
  threads: number;
  fds: number;
  /** Container id, '' for a host process. */
  container: string;
  /** `controller:path;…` as /proc/<pid>/cgroup lists them (`:path` for cgroup v2). */
  cgroups: string;
}

/**
 * The cgroup path of a process in the hierarchy of `controller` (v1 `cpuacct`, `cpu`, `memory`…),
 * falling back to its cgroup v2 path; undefined when it has neither.
 */
export function cgroupOf(cgroups: string, controllers: readonly string[]): string | undefined {
  let v2: string | undefined;
  for (const entry of cgroups.split(';')) {
    const colon = entry.lastIndexOf(':', entry.indexOf('/') < 0 ? entry.length : entry.indexOf('/'));
    if (colon < 0) continue;
    const names = entry.slice(0, colon).split(',');
    const path = entry.slice(colon + 1);
    if (names.some((n) => controllers.includes(n))) return path;
    if (entry.slice(0, colon) === '') v2 = path;
  }
  return v2;
}

/** Whether a cgroup path is `cgroup` or below it. */
export function inCgroup(path: string, cgroup: string): boolean {
  return path === cgroup || (cgroup === '/' ? path.startsWith('/') : path.startsWith(`${cgroup}/`));
}

function str(source: SeriesSource, metric: string, id: number): string {
  const v = source.latest(metric, id);
  return typeof v === 'string' ? v : '';
}

export function processRows(source: SeriesSource): ProcessRow[] {
  const rows: ProcessRow[] = [];
  const utime = source.meta.get('proc.psinfo.utime');
  const factor = utime ? displayOfMeta(utime).scale : 1e-3;
  for (const id of source.instances('proc.psinfo.cmd')) {
    if (source.latest('proc.psinfo.cmd', id) === undefined) continue; // gone
    const u = source.current('proc.psinfo.utime', id);
    const s = source.current('proc.psinfo.stime', id);
    const rssKb = toNumber(source.latest('proc.memory.vmrss', id));
    rows.push({
      pid: id,
      nspids: str(source, 'proc.namespaces.pid', id) || String(id),
      cmd: str(source, 'proc.psinfo.cmd', id),
      args: str(source, 'proc.psinfo.psargs', id),
      state: str(source, 'proc.psinfo.sname', id),
      cpu: Number.isNaN(u) && Number.isNaN(s) ? NaN : ((Number.isNaN(u) ? 0 : u) + (Number.isNaN(s) ? 0 : s)) * factor,
      rss: rssKb * 1024,
      threads: toNumber(source.latest('proc.psinfo.threads', id)),
      fds: toNumber(source.latest('proc.fd.count', id)),
      container: str(source, 'proc.id.container', id),
      cgroups: str(source, 'proc.psinfo.cgroups', id),
    });
  }
  return rows;
}
