import { vmstatFamily } from '../metrics/vmstat.js';
import { parseFlatKeyed } from '../parsers/cgroup-formats.js';
import { ProcFiles, u32 } from './procfs.js';
import type { CollectContext, Collector, Roots } from './types.js';

/** PCP's sums over the per-zone and per-reclaimer fields (its own names, not kernel fields). */
const TOTALS: ReadonlyArray<readonly [metric: string, fieldPrefix: string]> = [
  ['mem.vmstat.pgsteal_total', 'pgsteal_'],
  ['mem.vmstat.pgscan_kswapd_total', 'pgscan_kswapd'],
  ['mem.vmstat.pgscan_direct_total', 'pgscan_direct'],
];

/** Fields Linux split in two (nr_slab in 2.6.18, thp_split in 4.5); PCP rebuilds them from the parts. */
const REBUILT: ReadonlyArray<readonly [metric: string, field: string, parts: readonly [string, string]]> = [
  ['mem.vmstat.nr_slab', 'nr_slab', ['nr_slab_reclaimable', 'nr_slab_unreclaimable']],
  ['mem.vmstat.thp_split', 'thp_split', ['thp_split_page', 'thp_split_page_failed']],
];

/** swap.pagesin/pagesout are PCP's 32-bit copies of pswpin/pswpout. */
const SWAP: ReadonlyArray<readonly [metric: string, field: string]> = [['swap.pagesin', 'pswpin'], ['swap.pagesout', 'pswpout']];

/**
 * mem.vmstat.<field> for every /proc/vmstat field PCP knows, by field, named once; fields of
 * newer kernels are left out, as PCP leaves them.
 */
const METRIC_OF = new Map(vmstatFamily.metrics.filter((m) => m.name.startsWith('mem.vmstat.')).map((m) => [m.name.slice('mem.vmstat.'.length), m.name]));

/**
 * The /proc/vmstat fields the wanted metrics need: a pass converts those of its ~180 lines
 * only. Undefined when nothing is wanted.
 */
function fieldsFor(ctx: CollectContext): Set<string> | undefined {
  const fields = new Set<string>();
  for (const [field, metric] of METRIC_OF) if (ctx.wants(metric)) fields.add(field);
  for (const [metric, prefix] of TOTALS) {
    if (ctx.wants(metric)) for (const field of METRIC_OF.keys()) if (field.startsWith(prefix)) fields.add(field);
  }
  for (const [metric, , parts] of REBUILT) if (ctx.wants(metric)) for (const part of parts) fields.add(part);
  for (const [metric, field] of SWAP) if (ctx.wants(metric)) fields.add(field);
  return fields.size > 0 ? fields : undefined;
}

export function vmstatCollector(roots: Roots): Collector {
  const files = new ProcFiles(roots.procfs);
  return {
    name: 'vmstat',
    family: vmstatFamily,
    collect(out, ctx) {
      files.sweep();
      const fields = fieldsFor(ctx);
      if (!fields) return;
      const vm = files.parsed(`${roots.procfs}/vmstat`, (text) => parseFlatKeyed(text, fields), ctx);
      if (!vm) return;
      const totals = new Map(TOTALS.map(([metric]) => [metric, 0n]));
      for (const [field, value] of vm) {
        const metric = METRIC_OF.get(field);
        if (metric === undefined) continue;
        if (ctx.wants(metric)) out.put(metric, value);
        // PCP adds up every field it knows with the prefix (pgscan_direct_throttle included), and so do we.
        const total = TOTALS.find(([, prefix]) => field.startsWith(prefix));
        if (total) totals.set(total[0], totals.get(total[0])! + value);
      }
      for (const [metric, value] of totals) if (ctx.wants(metric)) out.put(metric, value);
      for (const [metric, field, [a, b]] of REBUILT) {
        const [x, y] = [vm.get(a), vm.get(b)];
        if (ctx.wants(metric) && !vm.has(field) && x !== undefined && y !== undefined) out.put(metric, x + y);
      }
      for (const [metric, field] of SWAP) {
        const value = vm.get(field);
        if (value !== undefined && ctx.wants(metric)) out.put(metric, u32(value));
      }
    },
  };
}
