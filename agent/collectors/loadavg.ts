import { loadavgFamily } from '../metrics/loadavg.js';
import { parseLoadAvg } from '../parsers/loadavg.js';
import { ProcFiles } from './procfs.js';
import type { Collector, Roots } from './types.js';

export function loadavgCollector(roots: Roots): Collector {
  const files = new ProcFiles(roots.procfs);
  return {
    name: 'loadavg',
    family: loadavgFamily,
    collect(out, ctx) {
      files.sweep();
      const load = files.parsed(`${roots.procfs}/loadavg`, parseLoadAvg, ctx);
      if (!load) return;
      out.put('kernel.all.load', load.load1, '1 minute');
      out.put('kernel.all.load', load.load5, '5 minute');
      out.put('kernel.all.load', load.load15, '15 minute');
      out.put('kernel.all.runnable', load.runnable);
      out.put('kernel.all.nprocs', load.entities);
    },
  };
}
