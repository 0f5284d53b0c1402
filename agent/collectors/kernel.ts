import { join } from 'node:path';
import { kernelFamily } from '../metrics/kernel.js';
import { DISTRO_FILES, parseDistro } from '../parsers/distro.js';
import { parseUptime } from '../parsers/uptime.js';
import { ProcFiles } from './procfs.js';
import { readOptional } from './read.js';
import type { CollectContext, Collector, Roots } from './types.js';

/**
 * uname(2)'s fields that are fixed while the kernel runs, which /proc/sys/kernel also shows, by
 * PCP name. They are read once: only a reboot changes them. The hostname is not among them.
 */
const UNAME: ReadonlyArray<readonly [metric: string, file: string]> = [
  ['kernel.uname.release', 'osrelease'],
  ['kernel.uname.version', 'version'],
  ['kernel.uname.sysname', 'ostype'],
  // Older kernels have no `arch` here; kernel.uname.machine then has no value.
  ['kernel.uname.machine', 'arch'],
];

export function kernelCollector(roots: Roots): Collector {
  const etc = join(roots.root ?? '/', 'etc');
  const files = new ProcFiles(roots.procfs);
  let uname: Array<readonly [metric: string, value: string]> | undefined;
  // As PCP's linux PMDA, which reads the release file once: it changes with a distribution upgrade, which reboots.
  let distro: { value: string | undefined } | undefined;
  const distroOf = (ctx: CollectContext): string | undefined => {
    for (const file of DISTRO_FILES) {
      const text = readOptional(join(etc, file), ctx);
      if (text !== undefined) return parseDistro(file, text);
    }
    return undefined;
  };
  return {
    name: 'kernel',
    family: kernelFamily,
    collect(out, ctx) {
      files.sweep();
      if (ctx.wants('kernel.all.uptime') || ctx.wants('kernel.all.idletime')) {
        const uptime = files.parsed(`${roots.procfs}/uptime`, parseUptime, ctx);
        if (uptime) {
          out.put('kernel.all.uptime', uptime.uptime);
          out.put('kernel.all.idletime', uptime.idle);
        }
      }
      if (UNAME.some(([metric]) => ctx.wants(metric))) {
        uname ??= UNAME.flatMap(([metric, file]) => {
          const value = readOptional(`${roots.procfs}/sys/kernel/${file}`, ctx);
          return value === undefined ? [] : [[metric, value.trim()] as const];
        });
        for (const [metric, value] of uname) out.put(metric, value);
      }
      // sethostname(2) changes it at any time: read every pass.
      if (ctx.wants('kernel.uname.nodename')) {
        const hostname = files.read(`${roots.procfs}/sys/kernel/hostname`, ctx);
        if (hostname !== undefined) out.put('kernel.uname.nodename', hostname.trim());
      }
      if (ctx.wants('kernel.uname.distro')) {
        distro ??= { value: distroOf(ctx) };
        if (distro.value !== undefined) out.put('kernel.uname.distro', distro.value);
      }
    },
  };
}
