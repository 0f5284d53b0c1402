import { counter, lines, malformed } from './fields.js';

/** /proc/partitions: block device name → size in 1 KiB blocks. */
export function parsePartitions(text: string): Map<string, bigint> {
  const sizes = new Map<string, bigint>();
  for (const line of lines(text).slice(1)) {
    const [major, minor, blocks, name, extra] = line.trim().split(/\s+/);
    if (!name || extra !== undefined || !/^\d+$/.test(major!) || !/^\d+$/.test(minor!)) {
      throw malformed(line, '"<major> <minor> <#blocks> <name>"');
    }
    sizes.set(name, counter(blocks, line));
  }
  return sizes;
}
