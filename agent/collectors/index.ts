import { cgroupCollector } from './cgroup.js';
import { containerNetworkCollector } from './container-network.js';
import { containersCollector } from './containers.js';
import { loadavgCollector } from './loadavg.js';
import { processesCollector } from './processes.js';
import { diskCollector } from './disk.js';
import { kernelCollector } from './kernel.js';
import { meminfoCollector } from './meminfo.js';
import { networkCollector } from './network.js';
import { pmcdCollector } from './pmcd.js';
import { pressureCollector } from './pressure.js';
import { statCollector } from './stat.js';
import { vmstatCollector } from './vmstat.js';
import type { Collector, Roots } from './types.js';

/**
 * Every collector the agent runs, by name. Adding a metric family means adding a collector
 * file and one line here.
 */
export const collectorFactories: Record<string, (roots: Roots) => Collector> = {
  loadavg: loadavgCollector,
  stat: statCollector,
  kernel: kernelCollector,
  pmcd: pmcdCollector,
  pressure: pressureCollector,
  meminfo: meminfoCollector,
  vmstat: vmstatCollector,
  disk: diskCollector,
  network: networkCollector,
  containers: containersCollector,
  processes: processesCollector,
  'container-network': containerNetworkCollector,
  cgroup: cgroupCollector,
};

export function createCollectors(roots: Roots, only?: readonly string[]): Collector[] {
  const names = only ?? Object.keys(collectorFactories);
  return names.map((name) => {
    const factory = collectorFactories[name];
    if (!factory) throw new Error(`unknown collector "${name}"; known: ${Object.keys(collectorFactories).join(', ')}`);
    return factory(roots);
  });
}
