import { counter, lines, malformed } from './fields.js';

/** CPU time of one `cpu` line of /proc/stat, in USER_HZ ticks. `user` and `nice` include guest time. */
export interface CpuTicks {
  user: bigint;
  nice: bigint;
  system: bigint;
  idle: bigint;
  iowait: bigint;
  irq: bigint;
  softirq: bigint;
  steal: bigint;
  guest: bigint;
  guestNice: bigint;
}

/** /proc/stat. Counters the kernel did not print are undefined. */
export interface Stat {
  /** The aggregate `cpu` line. */
  all: CpuTicks;
  /** `cpuN` lines (online CPUs only), in file order. */
  cpus: Array<{ cpu: number; ticks: CpuTicks }>;
  /** Interrupts serviced since boot (first number of the `intr` line). */
  intr?: bigint;
  /** Context switches since boot. */
  ctxt?: bigint;
  /** Boot time, seconds since the epoch. */
  btime?: bigint;
  /** Forks since boot. */
  processes?: bigint;
  procsRunning?: bigint;
  procsBlocked?: bigint;
}

const TICK_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'] as const;

const SCALARS: Record<string, keyof Omit<Stat, 'all' | 'cpus'>> = {
  intr: 'intr',
  ctxt: 'ctxt',
  btime: 'btime',
  processes: 'processes',
  procs_running: 'procsRunning',
  procs_blocked: 'procsBlocked',
};

/**
 * Only cpu lines are split into fields: the `intr` line has a count per interrupt line after its
 * total, hundreds on a small VM and thousands on a big host, and only the total is wanted.
 */
export function parseStat(text: string): Stat {
  let all: CpuTicks | undefined;
  const cpus: Stat['cpus'] = [];
  const scalars: Partial<Stat> = {};
  for (const line of lines(text)) {
    const key = /^\s*(\S+)/.exec(line)![1]!;
    if (key === 'cpu') {
      all = cpuTicks(line.trim().split(/\s+/), line);
    } else if (/^cpu\d+$/.test(key)) {
      cpus.push({ cpu: Number(key.slice(3)), ticks: cpuTicks(line.trim().split(/\s+/), line) });
    } else {
      const name = SCALARS[key];
      if (name) scalars[name] = counter(/^\s*\S+\s+(\S+)/.exec(line)?.[1], line);
    }
  }
  if (!all) throw malformed(text.split('\n')[0] ?? '', 'a line "cpu <user> <nice> <system> <idle> …"');
  return { all, cpus, ...scalars };
}

/** Kernels before 2.6.33 print fewer columns; the missing ones count as zero, as PCP reads them. */
function cpuTicks(fields: string[], line: string): CpuTicks {
  if (fields.length < 5) throw malformed(line, 'at least user, nice, system and idle ticks');
  const ticks = {} as CpuTicks;
  TICK_FIELDS.forEach((name, i) => {
    const token = fields[i + 1];
    ticks[name] = token === undefined ? 0n : counter(token, line);
  });
  return ticks;
}
