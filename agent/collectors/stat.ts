import { cpuFamily } from '../metrics/cpu.js';
import { parseStat, type CpuTicks } from '../parsers/stat.js';
import type { SampleWriter } from '../store/sample.js';
import { readParsed } from './procfs.js';
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

export function statCollector(roots: Roots): Collector {
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
      const stat = readParsed(`${roots.procfs}/stat`, parseStat, ctx);
      if (!stat) return;
      putCpu(out, 'kernel.all.cpu', stat.all, steadyIowait('', stat.all.iowait));
      for (const { cpu, ticks } of stat.cpus) {
        const name = `cpu${cpu}`;
        putCpu(out, 'kernel.percpu.cpu', ticks, steadyIowait(name, ticks.iowait), name);
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

/** One CPU's (or all CPUs') times under PCP's names: user and nice include guest time, vuser and vnice do not. */
function putCpu(out: SampleWriter, prefix: string, t: CpuTicks, iowait: bigint, instance?: string): void {
  const put = (leaf: string, ticks: bigint): void => out.put(`${prefix}.${leaf}`, ms(ticks), instance);
  put('user', t.user);
  put('nice', t.nice);
  put('sys', t.system);
  put('idle', t.idle);
  put('wait.total', iowait);
  put('intr', t.irq + t.softirq);
  put('irq.hard', t.irq);
  put('irq.soft', t.softirq);
  put('steal', t.steal);
  put('guest', t.guest);
  put('guest_nice', t.guestNice);
  put('vuser', t.user - t.guest);
  put('vnice', t.nice - t.guestNice);
}
