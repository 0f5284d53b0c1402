import { pressureFamily } from '../metrics/pressure.js';
import { parsePressure } from '../parsers/cgroup-formats.js';
import { ProcFiles } from './procfs.js';
import type { Collector, Roots } from './types.js';

const RESOURCES = ['cpu', 'memory', 'io', 'irq'] as const;

/** Instance names of the 60.37 indom, PCP's, for each averaging window. */
const WINDOWS = [['avg10', '10 second'], ['avg60', '1 minute'], ['avg300', '5 minute']] as const;

/**
 * The metrics of each line of each /proc/pressure file, named once. PCP has no cpu.full or
 * irq.some metrics although newer kernels print those lines.
 */
const SERVED = new Set(pressureFamily.metrics.map((m) => m.name));
const FILES = RESOURCES.map((resource) => ({
  resource,
  lines: (['some', 'full'] as const)
    .map((kind) => ({ kind, avg: `kernel.all.pressure.${resource}.${kind}.avg`, total: `kernel.all.pressure.${resource}.${kind}.total` }))
    .filter(({ total }) => SERVED.has(total)),
}));

export function pressureCollector(roots: Roots): Collector {
  const files = new ProcFiles(roots.procfs);
  return {
    name: 'pressure',
    family: pressureFamily,
    collect(out, ctx) {
      files.sweep();
      for (const { resource, lines } of FILES) {
        // A file per resource: read only those with a wanted line.
        const wanted = lines.filter(({ avg, total }) => ctx.wants(avg) || ctx.wants(total));
        if (wanted.length === 0) continue;
        const pressure = files.parsed(`${roots.procfs}/pressure/${resource}`, parsePressure, ctx);
        if (!pressure) continue;
        for (const { kind, avg, total } of wanted) {
          const line = pressure[kind];
          if (!line) continue;
          for (const [window, instance] of WINDOWS) out.put(avg, line[window], instance);
          out.put(total, line.total);
        }
      }
    },
  };
}
