import { diskFamily } from '../metrics/disk.js';
import { isWholeDisk, parseDiskstats, type DiskStats } from '../parsers/diskstats.js';
import { parsePartitions } from '../parsers/partitions.js';
import { ProcFiles, u32 } from './procfs.js';
import { readOptional } from './read.js';
import type { Collector, Roots } from './types.js';

/**
 * disk.dev.<leaf> of each whole disk and disk.all.<leaf>, their sum. Sectors are 512 bytes,
 * so Kbyte values are sectors / 2, rounded down per disk as PCP does.
 */
const COUNTERS: ReadonlyArray<readonly [leaf: string, value: (d: DiskStats) => bigint]> = [
  ['read', (d) => d.readIos],
  ['write', (d) => d.writeIos],
  ['total', (d) => d.readIos + d.writeIos],
  ['blkread', (d) => d.readSectors],
  ['blkwrite', (d) => d.writeSectors],
  ['blktotal', (d) => d.readSectors + d.writeSectors],
  ['read_bytes', (d) => d.readSectors / 2n],
  ['write_bytes', (d) => d.writeSectors / 2n],
  ['total_bytes', (d) => (d.readSectors + d.writeSectors) / 2n],
  ['read_merge', (d) => d.readMerges],
  ['write_merge', (d) => d.writeMerges],
  ['avactive', (d) => d.ioTicks],
  ['aveq', (d) => d.timeInQueue],
  ['read_rawactive', (d) => d.readTicks],
  ['write_rawactive', (d) => d.writeTicks],
  ['total_rawactive', (d) => d.readTicks + d.writeTicks],
  ['inflight', (d) => d.inFlight],
  ['discard', (d) => d.discardIos],
  ['blkdiscard', (d) => d.discardSectors],
  ['discard_bytes', (d) => d.discardSectors / 2n],
  ['discard_merge', (d) => d.discardMerges],
  ['discard_rawactive', (d) => d.discardTicks],
  ['flush', (d) => d.flushIos],
  ['flush_rawactive', (d) => d.flushTicks],
];

/** disk.dev.<leaf> and disk.all.<leaf> of each counter, named once. */
const DEV = COUNTERS.map(([leaf, value]) => ({ metric: `disk.dev.${leaf}`, value }));
const ALL = COUNTERS.map(([leaf, value]) => ({ metric: `disk.all.${leaf}`, value }));

export function diskCollector(roots: Roots): Collector {
  // Sums PCP declares 32-bit (total_rawactive, disk.all.flush_rawactive…) wrap as its C code does.
  const files = new ProcFiles(roots.procfs);
  const narrow = new Set(diskFamily.metrics.filter((m) => m.type === 'u32').map((m) => m.name));
  return {
    name: 'disk',
    family: diskFamily,
    collect(out, ctx) {
      files.sweep();
      const disks = files.parsed(`${roots.procfs}/diskstats`, (text) => parseDiskstats(text, isWholeDisk), ctx);
      if (!disks) return;
      const put = (metric: string, value: bigint, instance?: string): void =>
        out.put(metric, narrow.has(metric) ? u32(value) : value, instance);
      out.put('hinv.ndisk', disks.length);
      const dev = DEV.filter(({ metric }) => ctx.wants(metric));
      // Capacity is in /proc/partitions, in 1 KiB blocks; the scheduler a sysfs file per disk.
      const sizes = ctx.wants('disk.dev.capacity') ? files.parsed(`${roots.procfs}/partitions`, parsePartitions, ctx) : undefined;
      const scheduler = ctx.wants('disk.dev.scheduler');
      for (const disk of disks) {
        for (const { metric, value } of dev) put(metric, value(disk), disk.name);
        const size = sizes?.get(disk.name);
        if (size) out.put('disk.dev.capacity', size, disk.name);
        if (scheduler) {
          const text = readOptional(`${roots.sysfs}/block/${disk.name}/queue/scheduler`, ctx);
          out.put('disk.dev.scheduler', activeScheduler(text), disk.name);
        }
      }
      for (const { metric, value } of ALL) {
        if (ctx.wants(metric)) put(metric, disks.reduce((sum, d) => sum + value(d), 0n));
      }
    },
  };
}

/** `none [mq-deadline] kyber bfq` → `mq-deadline`; PCP says `unknown` when there is no such file or mark. */
function activeScheduler(text: string | undefined): string {
  return /\[([^\]]+)\]/.exec(text ?? '')?.[1] ?? 'unknown';
}
