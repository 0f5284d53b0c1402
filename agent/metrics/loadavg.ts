import type { MetricFamily } from './table.js';

/** From /proc/loadavg; pmids, types and help as PCP's linux PMDA (domain 60) has them. */
export const loadavgFamily: MetricFamily = {
  indoms: [
    { indom: '60.2', oneline: 'load averages for 1, 5, and 15 minutes',
      fixed: [[1, '1 minute'], [5, '5 minute'], [15, '15 minute']] },
  ],
  metrics: [
    { name: 'kernel.all.load', pmid: '60.2.0', type: 'float', sem: 'instant', units: 'none', indom: '60.2',
      oneline: '1, 5 and 15 minute load average' },
    { name: 'kernel.all.runnable', pmid: '60.2.2', type: 'u32', sem: 'instant', units: 'none', indom: null,
      oneline: 'total number of processes in the (per-CPU) run queues' },
    { name: 'kernel.all.nprocs', pmid: '60.2.3', type: 'u32', sem: 'instant', units: 'none', indom: null,
      oneline: 'total number of processes (lightweight)' },
  ],
};
