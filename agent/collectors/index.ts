import { loadavgCollector } from './loadavg.js';
import type { Collector, Roots } from './types.js';

/**
 * Every collector the agent runs, by name. Adding a metric family means adding a collector
 * file and one line here.
 */
export const collectorFactories: Record<string, (roots: Roots) => Collector> = {
  loadavg: loadavgCollector,
};

export function createCollectors(roots: Roots, only?: readonly string[]): Collector[] {
  const names = only ?? Object.keys(collectorFactories);
  return names.map((name) => {
    const factory = collectorFactories[name];
    if (!factory) throw new Error(`unknown collector "${name}"; known: ${Object.keys(collectorFactories).join(', ')}`);
    return factory(roots);
  });
}
