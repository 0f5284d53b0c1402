import { loadavgFamily } from '../metrics/loadavg.js';
import { parseLoadAvg } from '../parsers/loadavg.js';
import { readText } from './read.js';
import type { Collector, Roots } from './types.js';

export function loadavgCollector(roots: Roots): Collector {
  return {
    name: 'loadavg',
    family: loadavgFamily,
    collect(out) {
      const load = parseLoadAvg(readText(`${roots.procfs}/loadavg`));
      out.put('kernel.all.load', load.load1, '1 minute');
      out.put('kernel.all.load', load.load5, '5 minute');
      out.put('kernel.all.load', load.load15, '15 minute');
      out.put('kernel.all.runnable', load.runnable);
      out.put('kernel.all.nprocs', load.entities);
    },
  };
}
