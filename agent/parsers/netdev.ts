import { counter, lines, malformed } from './fields.js';

interface Common {
  bytes: bigint;
  packets: bigint;
  errors: bigint;
  drops: bigint;
  fifo: bigint;
  compressed: bigint;
}

/** The receive and transmit counters of one interface in <net>/dev. */
export interface NetDevice {
  name: string;
  rx: Common & { frame: bigint; multicast: bigint };
  tx: Common & { collisions: bigint; carrier: bigint };
}

/**
 * /proc/net/dev (or /proc/<pid>/net/dev for another network namespace): two header lines,
 * then `  eth0: 210583093 5329 0 0 0 0 0 0 345231 3053 0 0 0 0 0 0`. The name is split off at
 * the colon, not by column, because long names push the numbers out of alignment.
 */
export function parseNetDev(text: string): NetDevice[] {
  return lines(text).slice(2).map((line) => {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/);
    if (colon < 0 || name === '' || f.length < 16) throw malformed(line, '"<interface>: " and 16 counters');
    const n = (i: number): bigint => counter(f[i], line);
    return {
      name,
      rx: { bytes: n(0), packets: n(1), errors: n(2), drops: n(3), fifo: n(4), frame: n(5), compressed: n(6),
        multicast: n(7) },
      tx: { bytes: n(8), packets: n(9), errors: n(10), drops: n(11), fifo: n(12), collisions: n(13), carrier: n(14),
        compressed: n(15) },
    };
  });
}
