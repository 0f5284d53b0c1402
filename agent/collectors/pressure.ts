import { pressureFamily } from '../metrics/pressure.js';
import { parsePressure } from '../parsers/cgroup-formats.js';
import { readParsed } from './procfs.js';
import type { Collector, Roots } from './types.js';

const RESOURCES = ['cpu', 'memory', 'io', 'irq'] as const;

/** Instance names of the 60.37 indom, PCP's, for each averaging window. */
const WINDOWS = [['avg10', '10 second'], ['avg60', '1 minute'], ['avg300', '5 minute']] as const;

export function pressureCollector(roots: Roots): Collector {
  // PCP has no cpu.full or irq.some metrics although newer kernels print those lines.
  const served = new Set(pressureFamily.metrics.map((m) => m.name));
  return {
    name: 'pressure',
    family: pressureFamily,
    collect(out, ctx) {
      for (const resource of RESOURCES) {
        const pressure = readParsed(`${roots.procfs}/pressure/${resource}`, parsePressure, ctx);
        for (const kind of ['some', 'full'] as const) {
          const line = pressure?.[kind];
          const prefix = `kernel.all.pressure.${resource}.${kind}`;
          if (!line || !served.has(`${prefix}.total`)) continue;
          for (const [window, instance] of WINDOWS) out.put(`${prefix}.avg`, line[window], instance);
          out.put(`${prefix}.total`, line.total);
        }
      }
    },
  };
}
