import { counter, lines, malformed } from './fields.js';

/**
 * One line of /proc/diskstats (the kernel's Documentation/admin-guide/iostats.rst).
 * Times are milliseconds, sectors are 512 bytes.
 */
export interface DiskStats {
  major: number;
  minor: number;
  name: string;
  readIos: bigint;
  readMerges: bigint;
  readSectors: bigint;
  readTicks: bigint;
  writeIos: bigint;
  writeMerges: bigint;
  writeSectors: bigint;
  writeTicks: bigint;
  inFlight: bigint;
  /** Time the device had I/O in flight. */
  ioTicks: bigint;
  /** Time in flight weighted by the number of requests (queue length × time). */
  timeInQueue: bigint;
  /** Discard counters appeared in Linux 4.18, flush counters in 5.5; before, they read as zero (as PCP reports them). */
  discardIos: bigint;
  discardMerges: bigint;
  discardSectors: bigint;
  discardTicks: bigint;
  flushIos: bigint;
  flushTicks: bigint;
}

/**
 * @param keep which devices to convert, by name (the collector keeps whole disks: loop devices
 *   and partitions are most of the file); all when absent.
 */
export function parseDiskstats(text: string, keep?: (name: string) => boolean): DiskStats[] {
  const disks: DiskStats[] = [];
  for (const line of lines(text)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) throw malformed(line, '"<major> <minor> <name>" and at least 11 counters');
    if (keep && !keep(f[2]!)) continue;
    const n = (i: number): bigint => (i < f.length ? counter(f[i], line) : 0n);
    disks.push({
      major: Number(n(0)),
      minor: Number(n(1)),
      name: f[2]!,
      readIos: n(3), readMerges: n(4), readSectors: n(5), readTicks: n(6),
      writeIos: n(7), writeMerges: n(8), writeSectors: n(9), writeTicks: n(10),
      inFlight: n(11), ioTicks: n(12), timeInQueue: n(13),
      discardIos: n(14), discardMerges: n(15), discardSectors: n(16), discardTicks: n(17),
      flushIos: n(18), flushTicks: n(19),
    });
  }
  return disks;
}

/**
 * Whether a block device is a whole disk in PCP's sense (its `disk.dev` instance domain):
 * not a partition, loop, ram or zram device, CD-ROM, device-mapper or md volume, xvm
 * volume or WWID alias. PCP decides by name alone; so do we, to list the same disks.
 */
export function isWholeDisk(name: string): boolean {
  return !(
    name.startsWith('loop') || name.startsWith('ram') || name.startsWith('zram') || isCdrom(name) ||
    name.startsWith('dm-') || name.startsWith('md') || name.includes('xvm') || isWwid(name) ||
    isPartition(name)
  );
}

function isCdrom(name: string): boolean {
  return /^sr\d/.test(name);
}

/** A SCSI WWID alias: 18 characters starting with the NAA/EUI/T10 type digit. */
function isWwid(name: string): boolean {
  return name.length === 18 && '123'.includes(name[0]!);
}

/**
 * Partitions end in a digit (sda1), except in device families whose disks already end in
 * one; there a `p` after the family prefix marks a partition (nvme0n1p1, mmcblk0p2).
 */
function isPartition(name: string): boolean {
  if (!/\d$/.test(name)) return false;
  const family = ['mmcblk', 'nvme', 'rbd', 'nbd'].find((prefix) => name.startsWith(prefix));
  return family === undefined || name.slice(family.length).includes('p');
}
