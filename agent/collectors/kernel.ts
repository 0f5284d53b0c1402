import { join } from 'node:path';
import { kernelFamily } from '../metrics/kernel.js';
import { DISTRO_FILES, parseDistro } from '../parsers/distro.js';
import { parseUptime } from '../parsers/uptime.js';
import { readParsed } from './procfs.js';
import { readOptional } from './read.js';
import type { Collector, Roots } from './types.js';

/** uname(2)'s fields, which /proc/sys/kernel also shows, by PCP name. */
const UNAME: ReadonlyArray<readonly [metric: string, file: string]> = [
  ['kernel.uname.release', 'osrelease'],
  ['kernel.uname.version', 'version'],
  ['kernel.uname.sysname', 'ostype'],
  // Older kernels have no `arch` here; kernel.uname.machine then has no value.
  ['kernel.uname.machine', 'arch'],
  ['kernel.uname.nodename', 'hostname'],
];

export function kernelCollector(roots: Roots): Collector {
  const etc = join(roots.root ?? '/', 'etc');
  return {
    name: 'kernel',
    family: kernelFamily,
    collect(out, ctx) {
      const uptime = readParsed(`${roots.procfs}/uptime`, parseUptime, ctx);
      if (uptime) {
        out.put('kernel.all.uptime', uptime.uptime);
        out.put('kernel.all.idletime', uptime.idle);
      }
      for (const [metric, file] of UNAME) {
        const value = readOptional(`${roots.procfs}/sys/kernel/${file}`, ctx);
        if (value !== undefined) out.put(metric, value.trim());
      }
      for (const file of DISTRO_FILES) {
        const text = readOptional(join(etc, file), ctx);
        if (text === undefined) continue;
        out.put('kernel.uname.distro', parseDistro(file, text));
        break;
      }
    },
  };
}
