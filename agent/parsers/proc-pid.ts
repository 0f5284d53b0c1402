/** Per-process files under /proc/<pid>: stat, status, cmdline, cgroup. */

/** Linux reports process times in USER_HZ ticks, which is 100 on every architecture's /proc ABI. */
const MS_PER_TICK = 10n;

export interface ProcStat {
  pid: number;
  /** The command name (`comm`), without the parentheses. */
  comm: string;
  /** One-letter state: R, S, D, Z, T, t, X, I. */
  state: string;
  ppid: number;
  /** User and system CPU time in milliseconds. */
  utimeMs: bigint;
  stimeMs: bigint;
  priority: number;
  nice: number;
  threads: number;
  /** Start time in milliseconds since boot. */
  startMs: bigint;
  /** CPU it last ran on. */
  processor: number;
}

/**
 * `/proc/<pid>/stat`. The command sits in parentheses and may itself contain spaces and
 * parentheses, so the fields after it are found from the last `)`.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`unparsable /proc/<pid>/stat: ${JSON.stringify(text.slice(0, 80))}`);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const rest = text.slice(close + 2).trim().split(' ');
  const field = (n: number): string => rest[n - 3] ?? '';
  const stat: ProcStat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: field(3),
    ppid: Number(field(4)),
    utimeMs: BigInt(field(14) || 'x') * MS_PER_TICK,
    stimeMs: BigInt(field(15) || 'x') * MS_PER_TICK,
    priority: Number(field(18)),
    nice: Number(field(19)),
    threads: Number(field(20)),
    startMs: BigInt(field(22) || 'x') * MS_PER_TICK,
    processor: Number(field(39)),
  };
  return stat;
}

export interface ProcStatus {
  uid: number;
  /** The pid in each pid namespace from the host's down to the process's own (`NSpid`). */
  nspid: number[];
  threads: number;
  /** Resident and virtual size in KiB; absent for kernel threads. */
  vmRssKb?: number;
  vmSizeKb?: number;
}

/**
 * `/proc/<pid>/status`: `Key:\tvalue` lines. Only five of its fifty-odd lines are wanted, so
 * they are looked up rather than every line split (this runs for every process every pass).
 */
export function parseProcStatus(text: string): ProcStatus {
  const status: ProcStatus = { uid: NaN, nspid: [], threads: NaN };
  const uid = statusField(text, 'Uid');
  if (uid !== undefined) status.uid = Number(uid.split(/\s+/, 1)[0]);
  const nspid = statusField(text, 'NSpid');
  if (nspid !== undefined) status.nspid = nspid.split(/\s+/).map(Number);
  const threads = statusField(text, 'Threads');
  if (threads !== undefined) status.threads = Number(threads);
  const rss = statusField(text, 'VmRSS');
  if (rss !== undefined) status.vmRssKb = parseInt(rss, 10);
  const size = statusField(text, 'VmSize');
  if (size !== undefined) status.vmSizeKb = parseInt(size, 10);
  return status;
}

/** The trimmed value of the `key:` line of a status file, or undefined when it has none. */
function statusField(text: string, key: string): string | undefined {
  let at = 0;
  if (!text.startsWith(`${key}:`)) {
    const found = text.indexOf(`\n${key}:`);
    if (found < 0) return undefined;
    at = found + 1;
  }
  const start = at + key.length + 1;
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).trim();
}

/**
 * `/proc/<pid>/cmdline` as ps and PCP's `proc.psinfo.psargs` show it: arguments joined by
 * spaces. Empty for kernel threads and zombies; PCP then shows `(comm)`.
 */
export function parseCmdline(text: string, comm: string): string {
  const args = text.replace(/\0+$/, '').replaceAll('\0', ' ');
  return args.length > 0 ? args : `(${comm})`;
}

export interface ProcCgroup {
  /** Hierarchy id: 0 for the unified (v2) hierarchy. */
  hierarchy: number;
  /** Controllers of a v1 hierarchy (`cpu,cpuacct`, `name=systemd`); empty for v2. */
  controllers: string;
  path: string;
}

/** `/proc/<pid>/cgroup`: `hierarchy-id:controllers:path` lines. */
export function parseProcCgroup(text: string): ProcCgroup[] {
  const out: ProcCgroup[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    out.push({ hierarchy: Number(line.slice(0, first)), controllers: line.slice(first + 1, second), path: line.slice(second + 1) });
  }
  return out;
}

/** PCP's `proc.psinfo.cgroups`: `controllers:path` joined by `;`, in the file's order. */
export function cgroupsString(cgroups: readonly ProcCgroup[]): string {
  return cgroups.map((c) => `${c.controllers}:${c.path}`).join(';');
}

/** PCP's proc instance name: the pid zero-padded to six digits, a space, the first word of psargs. */
export function procInstanceName(pid: number, psargs: string): string {
  const space = psargs.indexOf(' ');
  return `${String(pid).padStart(6, '0')} ${space < 0 ? psargs : psargs.slice(0, space)}`;
}
