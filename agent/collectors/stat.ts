import { cpuFamily } from '../metrics/cpu.js';
import { parseStat, type CpuTicks } from '../parsers/stat.js';
import { ProcFiles } from './procfs.js';
import type { Collector, Roots } from './types.js';

/**
 * /proc/stat counts CPU time in USER_HZ ticks (sysconf(_SC_CLK_TCK)), which the kernel ABI
 * fixes at 100 on every architecture Node runs on; PCP reports milliseconds.
 */
const USER_HZ = 100n;
const ms = (ticks: bigint): bigint => (ticks * 1000n) / USER_HZ;

/**
 * iowait can step backwards by a few ticks (the kernel's proc.rst says so). Like PCP, hold
 * the previous value through a small dip so that rates never go negative, but let a large
 * drop (a reset) through.
 */
const IOWAIT_SLOP = 100n;

/** One CPU's (or all CPUs') times under PCP's names: user and nice include guest time, vuser and vnice do not. */
const LEAVES: ReadonlyArray<readonly [leaf: string, ticks: (t: CpuTicks, iowait: bigint) => bigint]> = [
  ['user', (t) => t.user],
  ['nice', (t) => t.nice],
  ['sys', (t) => t.system],
  ['idle', (t) => t.idle],
  ['wait.total', (_, iowait) => iowait],
  ['intr', (t) => t.irq + t.softirq],
  ['irq.hard', (t) => t.irq],
  ['irq.soft', (t) => t.softirq],
  ['steal', (t) => t.steal],
  ['guest', (t) => t.guest],
  ['guest_nice', (t) => t.guestNice],
  ['vuser', (t) => t.user - t.guest],
  ['vnice', (t) => t.nice - t.guestNice],
];

/** The metrics of LEAVES under a prefix, named once. */
const leavesUnder = (prefix: string): Array<{ metric: string; ticks: (t: CpuTicks, iowait: bigint) => bigint }> =>
  LEAVES.map(([leaf, ticks]) => ({ metric: `${prefix}.${leaf}`, ticks }));
const ALL = leavesUnder('kernel.all.cpu');
const PERCPU = leavesUnder('kernel.percpu.cpu');

export function statCollector(roots: Roots): Collector {
  const files = new ProcFiles(roots.procfs);
  const lastIowait = new Map<string, bigint>();
  const steadyIowait = (key: string, iowait: bigint): bigint => {
    const last = lastIowait.get(key);
    if (last !== undefined && iowait < last && iowait > last - IOWAIT_SLOP) return last;
    lastIowait.set(key, iowait);
    return iowait;
  };
  return {
    name: 'stat',
    family: cpuFamily,
    collect(out, ctx) {
      files.sweep();
      const stat = files.parsed(`${roots.procfs}/stat`, parseStat, ctx);
      if (!stat) return;
      // The iowait hold needs every pass's value, wanted or not: it is computed before the filter.
      const allIowait = steadyIowait('', stat.all.iowait);
      for (const { metric, ticks } of ALL) if (ctx.wants(metric)) out.put(metric, ms(ticks(stat.all, allIowait)));
      const percpu = PERCPU.filter(({ metric }) => ctx.wants(metric));
      for (const { cpu, ticks: t } of stat.cpus) {
        const name = `cpu${cpu}`;
        const iowait = steadyIowait(name, t.iowait);
        for (const { metric, ticks } of percpu) out.put(metric, ms(ticks(t, iowait)), name);
      }
      // A uniprocessor kernel prints no cpuN lines.
      out.put('hinv.ncpu', Math.max(1, stat.cpus.length));
      out.put('kernel.all.hz', Number(USER_HZ));
      if (stat.intr !== undefined) out.put('kernel.all.intr', stat.intr);
      if (stat.ctxt !== undefined) out.put('kernel.all.pswitch', stat.ctxt);
      if (stat.processes !== undefined) out.put('kernel.all.sysfork', stat.processes);
      if (stat.procsRunning !== undefined) out.put('kernel.all.running', stat.procsRunning);
      if (stat.procsBlocked !== undefined) out.put('kernel.all.blocked', stat.procsBlocked);
      if (stat.btime !== undefined) out.put('kernel.all.boottime', stat.btime);
    },
  };
}
