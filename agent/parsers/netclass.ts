/** Attribute files of /sys/class/net/<interface> as read (missing or unreadable: undefined). */
export interface LinkFiles {
  flags?: string;
  operstate?: string;
  mtu?: string;
  speed?: string;
  duplex?: string;
}

/** What PCP reports per interface from the link's state; undefined where the kernel does not know. */
export interface LinkState {
  up?: boolean;
  running?: boolean;
  mtu?: number;
  /** Megabits per second. */
  speed?: number;
  /** PCP's encoding: 1 half, 2 full. */
  duplex?: 1 | 2;
}

const IFF_UP = 0x1;

/**
 * `running` is the IFF_RUNNING flag that SIOCGIFFLAGS reports (and PCP shows): the kernel
 * computes it from an administratively up interface whose operational state is `up` or
 * `unknown` (loopback), and sysfs `flags` does not carry it. `speed` is -1 when the driver
 * does not know it (virtio); that is no value, not 4294967295 Mbit/s.
 */
export function parseLinkState(files: LinkFiles): LinkState {
  const state: LinkState = {};
  const flags = files.flags === undefined ? NaN : parseInt(files.flags.trim(), 16);
  if (!Number.isNaN(flags)) {
    state.up = (flags & IFF_UP) !== 0;
    const oper = files.operstate?.trim();
    if (oper !== undefined) state.running = state.up && (oper === 'up' || oper === 'unknown');
  }
  const mtu = Number(files.mtu?.trim());
  if (Number.isInteger(mtu) && mtu > 0) state.mtu = mtu;
  const speed = Number(files.speed?.trim());
  if (Number.isInteger(speed) && speed > 0) state.speed = speed;
  const duplex = files.duplex?.trim();
  if (duplex === 'half') state.duplex = 1;
  else if (duplex === 'full') state.duplex = 2;
  return state;
}
