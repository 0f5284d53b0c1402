import { readdirSync, readlinkSync } from 'node:fs';

/** How many of this process's descriptors are open on `path` (as /proc/self/fd links it). */
export function descriptorsOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // the descriptor readdir itself used, closed by now
    }
  }).length;
}
