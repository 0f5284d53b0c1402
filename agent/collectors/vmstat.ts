import { vmstatFamily } from '../metrics/vmstat.js';
import { parseFlatKeyed } from '../parsers/cgroup-formats.js';
import { readParsed, u32 } from './procfs.js';
import type { Collector, Roots } from './types.js';

/** PCP's sums over the per-zone and per-reclaimer fields (its own names, not kernel fields). */
const TOTALS: ReadonlyArray<readonly [metric: string, fieldPrefix: string]> = [
  ['mem.vmstat.pgsteal_total', 'pgsteal_'],
  ['mem.vmstat.pgscan_kswapd_total', 'pgscan_kswapd'],
  ['mem.vmstat.pgscan_direct_total', 'pgscan_direct'],
];

/** Fields Linux split in two (nr_slab in 2.6.18, thp_split in 4.5); PCP rebuilds them from the parts. */
const REBUILT: ReadonlyArray<readonly [field: string, parts: readonly [string, string]]> = [
  ['nr_slab', ['nr_slab_reclaimable', 'nr_slab_unreclaimable']],
  ['thp_split', ['thp_split_page', 'thp_split_page_failed']],
];

export function vmstatCollector(roots: Roots): Collector {
  // mem.vmstat.<field> for every /proc/vmstat field PCP knows; fields of newer kernels are left out, as PCP leaves them.
  const served = new Set(vmstatFamily.metrics.map((m) => m.name));
  return {
    name: 'vmstat',
    family: vmstatFamily,
    collect(out, ctx) {
      const vm = readParsed(`${roots.procfs}/vmstat`, parseFlatKeyed, ctx);
      if (!vm) return;
      const totals = new Map(TOTALS.map(([metric]) => [metric, 0n]));
      for (const [field, value] of vm) {
        const metric = `mem.vmstat.${field}`;
        if (!served.has(metric)) continue;
        out.put(metric, value);
        // PCP adds up every field it knows with the prefix (pgscan_direct_throttle included), and so do we.
        const total = TOTALS.find(([, prefix]) => field.startsWith(prefix));
        if (total) totals.set(total[0], totals.get(total[0])! + value);
      }
      for (const [metric, value] of totals) out.put(metric, value);
      for (const [field, [a, b]] of REBUILT) {
        const [x, y] = [vm.get(a), vm.get(b)];
        if (!vm.has(field) && x !== undefined && y !== undefined) out.put(`mem.vmstat.${field}`, x + y);
      }
      // swap.pagesin/pagesout are PCP's 32-bit copies of pswpin/pswpout.
      const [pswpin, pswpout] = [vm.get('pswpin'), vm.get('pswpout')];
      if (pswpin !== undefined) out.put('swap.pagesin', u32(pswpin));
      if (pswpout !== undefined) out.put('swap.pagesout', u32(pswpout));
    },
  };
}
