import { counter, malformed } from './fields.js';

/** Per-device counters of the cgroup v1 blkio controller, and block device names from sysfs. */

export const BLKIO_OPS = ['Read', 'Write', 'Sync', 'Async', 'Discard', 'Total'] as const;
export type BlkioOp = (typeof BLKIO_OPS)[number];
export type BlkioOps = Partial<Record<BlkioOp, bigint>>;

/**
 * `blkio.throttle.io_service_bytes`, `blkio.throttle.io_serviced` and the I/O scheduler's
 * `blkio.[bfq.]io_*` files: `254:0 Read 1675264` per device and operation, then a `Total N`
 * line over all devices, which is skipped (callers sum what they need).
 * @returns `major:minor` → operation → value, in file order.
 */
export function parseBlkioRwstat(text: string): Map<string, BlkioOps> {
  const devices = new Map<string, BlkioOps>();
  // A cgroup that did no I/O (most of them) has only the total line.
  if (text.startsWith('Total ') && text.indexOf('\n') >= text.length - 1) return devices;
  for (const line of text.split('\n')) {
    const [device, op, value] = line.split(' ');
    if (value === undefined && (device === '' || device === 'Total')) continue;
    if (!device?.includes(':') || !(BLKIO_OPS as readonly string[]).includes(op ?? '')) {
      throw malformed(line, '"<major>:<minor> Read|Write|Sync|Async|Discard|Total <count>" or "Total <count>"');
    }
    let ops = devices.get(device);
    if (!ops) devices.set(device, (ops = {}));
    ops[op as BlkioOp] = counter(value, line);
  }
  return devices;
}

/** `blkio.[bfq.]sectors`, `blkio.[bfq.]time`: `254:0 12345` per device. */
export function parseBlkioPerDevice(text: string): Map<string, bigint> {
  const devices = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [device, value] = line.split(' ');
    if (!device?.includes(':')) throw malformed(line, '"<major>:<minor> <count>"');
    devices.set(device, counter(value, line));
  }
  return devices;
}

/** `<sysfs>/dev/block/M:m/uevent`: `DEVNAME=vda` among `KEY=value` lines; undefined when absent. */
export function parseUeventDevName(text: string): string | undefined {
  return /^DEVNAME=(.+)$/m.exec(text)?.[1];
}
