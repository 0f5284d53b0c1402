import type { MetricFamily } from './table.js';

/** From /proc/pressure/{cpu,memory,io,irq} (PSI); as PCP's linux PMDA has them. */
export const pressureFamily: MetricFamily = {
  indoms: [
    { indom: '60.37', oneline: 'pressure time averages for 10 seconds, 1 minute and 5 minutes',
      fixed: [[10, '10 second'], [60, '1 minute'], [300, '5 minute']] },
  ],
  metrics: [
    { name: 'kernel.all.pressure.cpu.some.avg', pmid: '60.83.0', type: 'float', sem: 'instant', units: 'none', indom: '60.37',
      oneline: 'Percentage of time runnable processes delayed for CPU resources',
      help: `Indicates the time in which at least some tasks stalled on CPU resources.
The ratios are tracked as recent trends over ten second, one minute,
and five minute windows.
Pressure stall information (PSI) from /proc/pressure/cpu.` },
    { name: 'kernel.all.pressure.cpu.some.total', pmid: '60.83.1', type: 'u64', sem: 'counter', units: 'microsec', indom: null,
      oneline: 'Total time processes stalled for CPU resources',
      help: `Indicates the time in which at least some tasks stalled on CPU resources.
Pressure stall information (PSI) from /proc/pressure/cpu.` },
    { name: 'kernel.all.pressure.memory.some.avg', pmid: '60.84.0', type: 'float', sem: 'instant', units: 'none', indom: '60.37',
      oneline: 'Percentage of time runnable processes delayed for memory resources',
      help: `Indicates the time in which at least some tasks stalled on memory resources.
The ratios are tracked as recent trends over ten second, one minute,
and five minute windows.
Pressure stall information (PSI) from /proc/pressure/memory.` },
    { name: 'kernel.all.pressure.memory.some.total', pmid: '60.84.1', type: 'u64', sem: 'counter', units: 'microsec', indom: null,
      oneline: 'Total time processes stalled for memory resources',
      help: `The CPU time for which at least some tasks stalled on memory resources.
Pressure stall information (PSI) from /proc/pressure/memory.` },
    { name: 'kernel.all.pressure.memory.full.avg', pmid: '60.84.2', type: 'float', sem: 'instant', units: 'none', indom: '60.37',
      oneline: 'Percentage of time all work is delayed from memory pressure',
      help: `Indicates the time in which all tasks stalled on memory resources.
The ratios are tracked as recent trends over ten second, one minute,
and five minute windows.
Pressure stall information (PSI) from /proc/pressure/memory.` },
    { name: 'kernel.all.pressure.memory.full.total', pmid: '60.84.3', type: 'u64', sem: 'counter', units: 'microsec', indom: null,
      oneline: 'Total time when all tasks stall on memory resources',
      help: `The CPU time for which all tasks stalled on memory resources.
Pressure stall information (PSI) from /proc/pressure/memory.` },
    { name: 'kernel.all.pressure.io.some.avg', pmid: '60.85.0', type: 'float', sem: 'instant', units: 'none', indom: '60.37',
      oneline: 'Percentage of time runnable processes delayed for IO resources',
      help: `Indicates the time in which at least some tasks stalled on IO resources.
The ratios are tracked as recent trends over ten second, one minute,
and five minute windows.
Pressure stall information (PSI) from /proc/pressure/io.` },
    { name: 'kernel.all.pressure.io.some.total', pmid: '60.85.1', type: 'u64', sem: 'counter', units: 'microsec', indom: null,
      oneline: 'Total time processes stalled for IO resources',
      help: `The CPU time in which at least some tasks stalled on IO resources.
Pressure stall information (PSI) from /proc/pressure/io.` },
    { name: 'kernel.all.pressure.io.full.avg', pmid: '60.85.2', type: 'float', sem: 'instant', units: 'none', indom: '60.37',
      oneline: 'Percentage of time all work is delayed from IO pressure',
      help: `Indicates the time in which all tasks stalled on IO resources.
The ratios are tracked as recent trends over ten second, one minute,
and five minute windows.
Pressure stall information (PSI) from /proc/pressure/io.` },
    { name: 'kernel.all.pressure.io.full.total', pmid: '60.85.3', type: 'u64', sem: 'counter', units: 'microsec', indom: null,
      oneline: 'Total time when all tasks stall on IO resources',
      help: `The CPU time in which all tasks stalled on IO resources.
Pressure stall information (PSI) from /proc/pressure/io.` },
    { name: 'kernel.all.pressure.irq.full.avg', pmid: '60.93.0', type: 'float', sem: 'instant', units: 'none', indom: '60.37',
      oneline: 'Percentage of time all work is delayed from IRQ pressure',
      help: `Indicates the time in which all tasks stalled on IRQ resources.
The ratios are tracked as recent trends over ten second, one minute,
and five minute windows.
Pressure stall information (PSI) from /proc/pressure/irq.` },
    { name: 'kernel.all.pressure.irq.full.total', pmid: '60.93.1', type: 'u64', sem: 'counter', units: 'microsec', indom: null,
      oneline: 'Total time when all tasks stall on IRQ processing',
      help: `The CPU time in which all tasks stalled on IRQ resources.
Pressure stall information (PSI) from /proc/pressure/irq.` },
  ],
};
