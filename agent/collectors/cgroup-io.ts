import { parseBlkioPerDevice, parseBlkioRwstat, parseUeventDevName, type BlkioOp, type BlkioOps } from '../parsers/cgroup-blkio.js';
import { parseNestedKeyed } from '../parsers/cgroup-formats.js';
import type { CgroupDir } from './cgroup-dir.js';
import type { CgroupSink } from './cgroup-sink.js';
import { readOptional } from './read.js';
import type { CollectContext } from './types.js';

/**
 * Block I/O per cgroup: v1 blkio (cgroup.blkio.dev.* per `<cgroup>::<device>`, cgroup.blkio.all.*
 * summed over devices) and cgroup2 io.stat (cgroup.io.stat.* per `<cgroup>::<device>`), each
 * also served under the other version's names where the counters mean the same.
 */

/** PCP's op suffixes, in the order of the kernel's lines. Discard has no PCP name. */
const OPS: ReadonlyArray<readonly [BlkioOp, string]> = [
  ['Read', 'read'], ['Write', 'write'], ['Sync', 'sync'], ['Async', 'async'], ['Total', 'total'],
];

interface RwstatFamily {
  file: string;
  /** `cgroup.blkio.dev.<x>.<op>` and `cgroup.blkio.all.<x>.<op>`, indexed like OPS. */
  dev: readonly string[];
  all: readonly string[];
}

const rwstat = (metric: string, file: string): RwstatFamily => ({
  file,
  dev: OPS.map(([, op]) => `cgroup.blkio.dev.${metric}.${op}`),
  all: OPS.map(([, op]) => `cgroup.blkio.all.${metric}.${op}`),
});

const THROTTLE_BYTES = rwstat('throttle.io_service_bytes', 'blkio.throttle.io_service_bytes');
const THROTTLE_IOS = rwstat('throttle.io_serviced', 'blkio.throttle.io_serviced');

/**
 * The CFQ scheduler's counters went with CFQ in Linux 5.0 (BFQ's `blkio.bfq.*` count only I/O
 * on BFQ-scheduled devices and are not read); on current kernels only the throttle counters,
 * which see every bio, are there.
 */
const RWSTATS: readonly RwstatFamily[] = [
  rwstat('io_merged', 'blkio.io_merged'),
  rwstat('io_queued', 'blkio.io_queued'),
  rwstat('io_service_bytes', 'blkio.io_service_bytes'),
  rwstat('io_serviced', 'blkio.io_serviced'),
  rwstat('io_service_time', 'blkio.io_service_time'),
  rwstat('io_wait_time', 'blkio.io_wait_time'),
  THROTTLE_BYTES,
  THROTTLE_IOS,
];

/**
 * v1 throttle counters as cgroup2 io.stat names: the throttle layer sees every bio, as io.stat
 * does. `[op, io.stat metric]` for bytes and for operations.
 */
const IO_STAT_FROM_THROTTLE = new Map<RwstatFamily, ReadonlyArray<readonly [BlkioOp, string]>>([
  [THROTTLE_BYTES, [['Read', 'cgroup.io.stat.rbytes'], ['Write', 'cgroup.io.stat.wbytes'], ['Discard', 'cgroup.io.stat.dbytes']]],
  [THROTTLE_IOS, [['Read', 'cgroup.io.stat.rios'], ['Write', 'cgroup.io.stat.wios'], ['Discard', 'cgroup.io.stat.dios']]],
]);

/** `[file, metric, divisor]`: blkio.sectors counts 512-byte sectors, PCP declares Kbyte. */
const PER_DEVICE: ReadonlyArray<readonly [string, string, bigint]> = [
  ['blkio.sectors', 'sectors', 2n],
  ['blkio.time', 'time', 1n],
];

/** v1 blkio controller. Devices are named as pmdaproc names them: `<cgroup>::<device>`. */
export function blkioFromV1(dir: CgroupDir, sink: CgroupSink): void {
  const { out } = sink;
  let found = false;
  for (const family of RWSTATS) {
    const devices = dir.parse(family.file, parseBlkioRwstat);
    if (!devices) continue;
    found = true;
    const totals = [0n, 0n, 0n, 0n, 0n];
    const ioStat = IO_STAT_FROM_THROTTLE.get(family);
    for (const [device, ops] of devices) {
      const instance = `${dir.name}::${sink.deviceName(device)}`;
      for (let i = 0; i < OPS.length; i++) {
        const value = ops[OPS[i]![0]];
        if (value === undefined) continue;
        out.put(family.dev[i]!, value, instance);
        totals[i]! += value;
      }
      if (ioStat) putIoStatFromV1(sink, ops, ioStat, instance);
    }
    // PCP serves the per-cgroup sums even when no device has I/O yet: zeros.
    for (let i = 0; i < OPS.length; i++) out.put(family.all[i]!, totals[i]!, dir.name);
  }
  for (const [file, metric, divisor] of PER_DEVICE) {
    const devices = dir.parse(file, parseBlkioPerDevice);
    if (!devices) continue;
    found = true;
    let total = 0n;
    for (const [device, value] of devices) {
      out.put(`cgroup.blkio.dev.${metric}`, value / divisor, `${dir.name}::${sink.deviceName(device)}`);
      total += value;
    }
    out.put(`cgroup.blkio.all.${metric}`, total / divisor, dir.name);
  }
  if (found) sink.putContainer('cgroup.blkio.id.container', dir.name);
}

function putIoStatFromV1(sink: CgroupSink, ops: BlkioOps, names: ReadonlyArray<readonly [BlkioOp, string]>, instance: string): void {
  for (const [op, metric] of names) {
    const value = ops[op];
    if (value !== undefined) sink.out.put(metric, value, instance);
  }
}

const IO_STAT_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['rbytes', 'cgroup.io.stat.rbytes'], ['wbytes', 'cgroup.io.stat.wbytes'], ['rios', 'cgroup.io.stat.rios'],
  ['wios', 'cgroup.io.stat.wios'], ['dbytes', 'cgroup.io.stat.dbytes'], ['dios', 'cgroup.io.stat.dios'],
];

/**
 * cgroup2 io.stat, also served as v1's throttle counters (read, write, and total = read + write
 * + discard as the kernel's v1 Total is); sync/async have no v2 counterpart.
 */
export function ioFromV2(dir: CgroupDir, sink: CgroupSink): void {
  const devices = dir.parse('io.stat', parseNestedKeyed);
  if (!devices) return;
  const { out } = sink;
  const bytes = [0n, 0n, 0n];
  const ios = [0n, 0n, 0n];
  for (const [device, stat] of devices) {
    if (stat.size === 0) continue; // the root lists devices without counters
    const instance = `${dir.name}::${sink.deviceName(device)}`;
    for (const [key, metric] of IO_STAT_KEYS) {
      const value = stat.get(key);
      if (value !== undefined) out.put(metric, value, instance);
    }
    const [rbytes, wbytes, dbytes] = [stat.get('rbytes') ?? 0n, stat.get('wbytes') ?? 0n, stat.get('dbytes') ?? 0n];
    const [rios, wios, dios] = [stat.get('rios') ?? 0n, stat.get('wios') ?? 0n, stat.get('dios') ?? 0n];
    putThrottle(sink, THROTTLE_BYTES.dev, instance, rbytes, wbytes, rbytes + wbytes + dbytes);
    putThrottle(sink, THROTTLE_IOS.dev, instance, rios, wios, rios + wios + dios);
    bytes[0]! += rbytes; bytes[1]! += wbytes; bytes[2]! += rbytes + wbytes + dbytes;
    ios[0]! += rios; ios[1]! += wios; ios[2]! += rios + wios + dios;
  }
  putThrottle(sink, THROTTLE_BYTES.all, dir.name, bytes[0]!, bytes[1]!, bytes[2]!);
  putThrottle(sink, THROTTLE_IOS.all, dir.name, ios[0]!, ios[1]!, ios[2]!);
  sink.putContainer('cgroup.blkio.id.container', dir.name);
}

/** Read, write and total into a family's names (indexes 0, 1, 4 of OPS). */
function putThrottle(sink: CgroupSink, names: readonly string[], instance: string, read: bigint, write: bigint, total: bigint): void {
  sink.out.put(names[0]!, read, instance);
  sink.out.put(names[1]!, write, instance);
  sink.out.put(names[4]!, total, instance);
}

/**
 * Names block devices by `major:minor` from `<sysfs>/dev/block/M:m/uevent`, once per device per
 * pass. A device without one (gone, or a fixture without it) keeps its `major:minor` as name,
 * so its I/O is still counted (pmdaproc drops it).
 */
export function blockDeviceNames(sysfs: string, ctx: CollectContext): (majorMinor: string) => string {
  const names = new Map<string, string>();
  return (majorMinor) => {
    let name = names.get(majorMinor);
    if (name === undefined) {
      const uevent = readOptional(`${sysfs}/dev/block/${majorMinor}/uevent`, ctx);
      name = (uevent === undefined ? undefined : parseUeventDevName(uevent)) ?? majorMinor;
      names.set(majorMinor, name);
    }
    return name;
  };
}
