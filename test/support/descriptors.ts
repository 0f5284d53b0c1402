import { readdirSync, readlinkSync } from 'node:fs';

/** How many of this process's descriptors point at a target (the real path /proc/self/fd links to) that `matches`. */
function descriptors(matches: (target: string) => boolean): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return matches(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false; // the descriptor readdir itself used, closed by now
    }
  }).length;
}

/** How many of this process's descriptors are open on `path`. */
export function descriptorsOn(path: string): number {
  return descriptors((target) => target === path);
}

/** How many of this process's descriptors are open on files below the directory `dir`. */
export function descriptorsUnder(dir: string): number {
  return descriptors((target) => target.startsWith(`${dir}/`));
}
