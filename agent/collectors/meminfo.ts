import { statfsSync } from 'node:fs';
import { memFamily } from '../metrics/mem.js';
import { parseMeminfo } from '../parsers/meminfo.js';
import { PROC_SUPER_MAGIC, ProcFiles } from './procfs.js';
import type { Collector, Roots } from './types.js';

/** Metrics that are one /proc/meminfo field each, in the field's unit (kB, or pages for HugePages_*). */
const FIELDS: ReadonlyArray<readonly [metric: string, field: string]> = [
  ['mem.physmem', 'MemTotal'], ['mem.freemem', 'MemFree'], ['mem.util.free', 'MemFree'],
  ['mem.util.available', 'MemAvailable'], ['mem.util.shared', 'MemShared'], ['mem.util.bufmem', 'Buffers'],
  ['mem.util.cached', 'Cached'], ['mem.util.swapCached', 'SwapCached'], ['mem.util.active', 'Active'],
  ['mem.util.inactive', 'Inactive'], ['mem.util.active_anon', 'Active(anon)'],
  ['mem.util.inactive_anon', 'Inactive(anon)'], ['mem.util.active_file', 'Active(file)'],
  ['mem.util.inactive_file', 'Inactive(file)'], ['mem.util.unevictable', 'Unevictable'],
  ['mem.util.mlocked', 'Mlocked'], ['mem.util.highTotal', 'HighTotal'], ['mem.util.highFree', 'HighFree'],
  ['mem.util.lowTotal', 'LowTotal'], ['mem.util.lowFree', 'LowFree'], ['mem.util.mmap_copy', 'MmapCopy'],
  ['mem.util.swapTotal', 'SwapTotal'], ['mem.util.swapFree', 'SwapFree'], ['mem.util.dirty', 'Dirty'],
  ['mem.util.writeback', 'Writeback'], ['mem.util.anonpages', 'AnonPages'], ['mem.util.mapped', 'Mapped'],
  ['mem.util.shmem', 'Shmem'], ['mem.util.slab', 'Slab'], ['mem.util.slabReclaimable', 'SReclaimable'],
  ['mem.util.slabUnreclaimable', 'SUnreclaim'], ['mem.util.kernelStack', 'KernelStack'],
  ['mem.util.pageTables', 'PageTables'], ['mem.util.quicklists', 'Quicklists'],
  ['mem.util.NFS_Unstable', 'NFS_Unstable'], ['mem.util.bounce', 'Bounce'],
  ['mem.util.commitLimit', 'CommitLimit'], ['mem.util.committed_AS', 'Committed_AS'],
  ['mem.util.vmallocTotal', 'VmallocTotal'], ['mem.util.vmallocUsed', 'VmallocUsed'],
  ['mem.util.vmallocChunk', 'VmallocChunk'], ['mem.util.corrupthardware', 'HardwareCorrupted'],
  ['mem.util.anonhugepages', 'AnonHugePages'], ['mem.util.reverseMaps', 'ReverseMaps'],
  ['mem.util.hugepagesTotal', 'HugePages_Total'], ['mem.util.hugepagesFree', 'HugePages_Free'],
  ['mem.util.hugepagesRsvd', 'HugePages_Rsvd'], ['mem.util.hugepagesSurp', 'HugePages_Surp'],
  ['mem.util.directMap4k', 'DirectMap4k'], ['mem.util.directMap2M', 'DirectMap2M'],
  ['mem.util.directMap1G', 'DirectMap1G'],
];

const clamp = (value: bigint): bigint => (value < 0n ? 0n : value);

/**
 * PCP's metrics computed from several fields, each with the fields it needs (all of them must
 * be there). The differences are clamped at zero because the fields are not read atomically.
 */
const DERIVED: ReadonlyArray<readonly [metric: string, fields: readonly string[], value: (...f: bigint[]) => bigint]> = [
  ['hinv.physmem', ['MemTotal'], (total) => total / 1024n],
  ['mem.util.used', ['MemTotal', 'MemFree'], (total, free) => total - free],
  ['mem.util.other', ['MemTotal', 'MemFree', 'Cached', 'Buffers'], (total, free, cached, buffers) => clamp(total - free - cached - buffers)],
  ['mem.util.cache_clean', ['Cached', 'Dirty', 'Writeback'], (cached, dirty, writeback) => clamp(cached - dirty - writeback)],
  ['swap.length', ['SwapTotal'], (total) => total * 1024n],
  ['swap.free', ['SwapFree'], (free) => free * 1024n],
  ['swap.used', ['SwapTotal', 'SwapFree'], (total, free) => (total - free) * 1024n],
  ['hinv.hugepagesize', ['Hugepagesize'], (kb) => kb * 1024n],
  // Huge page counts that PCP also reports in bytes.
  ...(['Total', 'Free', 'Rsvd', 'Surp'] as const).map((kind) => [
    `mem.util.hugepages${kind}Bytes`, [`HugePages_${kind}`, 'Hugepagesize'], (pages: bigint, kb: bigint) => pages * kb * 1024n,
  ] as const),
];

export function meminfoCollector(roots: Roots): Collector {
  const pageSize = kernelPageSize(roots.procfs);
  const files = new ProcFiles(roots.procfs);
  return {
    name: 'meminfo',
    family: memFamily,
    collect(out, ctx) {
      files.sweep();
      // Of its ~55 lines, a pass converts those the wanted metrics need.
      const fields = FIELDS.filter(([metric]) => ctx.wants(metric));
      const derived = DERIVED.filter(([metric]) => ctx.wants(metric));
      const needed = new Set([...fields.map(([, field]) => field), ...derived.flatMap(([, from]) => from)]);
      if (needed.size > 0) {
        const mem = files.parsed(`${roots.procfs}/meminfo`, (text) => parseMeminfo(text, needed), ctx);
        if (!mem) return;
        for (const [metric, field] of fields) {
          const value = mem.get(field);
          if (value !== undefined) out.put(metric, value);
        }
        for (const [metric, from, value] of derived) {
          const values = from.map((field) => mem.get(field));
          if (values.every((v): v is bigint => v !== undefined)) out.put(metric, value(...values));
        }
      }
      if (pageSize !== undefined) out.put('hinv.pagesize', pageSize);
    },
  };
}

/** The page size, from procfs's block size (procfs reports the kernel's page size there); undefined when `procfs` is a fixture tree, not procfs. */
function kernelPageSize(procfs: string): number | undefined {
  try {
    const fs = statfsSync(procfs);
    return fs.type === PROC_SUPER_MAGIC ? fs.bsize : undefined;
  } catch {
    return undefined;
  }
}
