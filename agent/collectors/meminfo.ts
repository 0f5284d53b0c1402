import { statfsSync } from 'node:fs';
import { memFamily } from '../metrics/mem.js';
import { parseMeminfo } from '../parsers/meminfo.js';
import { readParsed } from './procfs.js';
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

/** Huge page counts that PCP also reports in bytes. */
const HUGEPAGE_BYTES: ReadonlyArray<readonly [metric: string, field: string]> = [
  ['mem.util.hugepagesTotalBytes', 'HugePages_Total'], ['mem.util.hugepagesFreeBytes', 'HugePages_Free'],
  ['mem.util.hugepagesRsvdBytes', 'HugePages_Rsvd'], ['mem.util.hugepagesSurpBytes', 'HugePages_Surp'],
];

/** statfs magic of procfs, which reports the kernel's page size as its block size. */
const PROC_SUPER_MAGIC = 0x9fa0;

export function meminfoCollector(roots: Roots): Collector {
  const pageSize = kernelPageSize(roots.procfs);
  return {
    name: 'meminfo',
    family: memFamily,
    collect(out, ctx) {
      const mem = readParsed(`${roots.procfs}/meminfo`, parseMeminfo, ctx);
      if (!mem) return;
      for (const [metric, field] of FIELDS) {
        const value = mem.get(field);
        if (value !== undefined) out.put(metric, value);
      }
      // PCP's derivations; the differences are clamped at zero because the fields are not read atomically.
      const f = (field: string): bigint | undefined => mem.get(field);
      const clamp = (value: bigint): bigint => (value < 0n ? 0n : value);
      const [total, free, cached, buffers] = [f('MemTotal'), f('MemFree'), f('Cached'), f('Buffers')];
      if (total !== undefined) {
        out.put('hinv.physmem', total / 1024n);
        if (free !== undefined) out.put('mem.util.used', total - free);
        if (free !== undefined && cached !== undefined && buffers !== undefined) {
          out.put('mem.util.other', clamp(total - free - cached - buffers));
        }
      }
      const [dirty, writeback] = [f('Dirty'), f('Writeback')];
      if (cached !== undefined && dirty !== undefined && writeback !== undefined) {
        out.put('mem.util.cache_clean', clamp(cached - dirty - writeback));
      }
      const [swapTotal, swapFree] = [f('SwapTotal'), f('SwapFree')];
      if (swapTotal !== undefined) out.put('swap.length', swapTotal * 1024n);
      if (swapFree !== undefined) out.put('swap.free', swapFree * 1024n);
      if (swapTotal !== undefined && swapFree !== undefined) out.put('swap.used', (swapTotal - swapFree) * 1024n);
      const hugePageKb = f('Hugepagesize');
      if (hugePageKb !== undefined) {
        out.put('hinv.hugepagesize', hugePageKb * 1024n);
        for (const [metric, field] of HUGEPAGE_BYTES) {
          const pages = mem.get(field);
          if (pages !== undefined) out.put(metric, pages * hugePageKb * 1024n);
        }
      }
      if (pageSize !== undefined) out.put('hinv.pagesize', pageSize);
    },
  };
}

/** The page size, from procfs's block size; undefined when `procfs` is a fixture tree, not procfs. */
function kernelPageSize(procfs: string): number | undefined {
  try {
    const fs = statfsSync(procfs);
    return fs.type === PROC_SUPER_MAGIC ? fs.bsize : undefined;
  } catch {
    return undefined;
  }
}
