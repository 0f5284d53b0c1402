import { closeSync, openSync, readFileSync } from 'node:fs';
import { Budget } from './budget.js';
import { errorCode, readFd, readText, tolerated } from './read.js';
import type { CollectContext } from './types.js';

/**
 * The process's budget of kept descriptors. The descriptor table is the process's, shared with
 * sockets (API clients, stream subscribers) and everything else, so every KeptFiles draws on one
 * budget.
 */
export class FdBudget extends Budget {}

/**
 * At most this many kept descriptors, whatever the fd limit: each holds about 5 KB of kernel
 * memory (see KeptFiles), so 4096 cost about 20 MB, charged to the agent's memory cgroup. That
 * keeps every file of about 100 cgroups on a hybrid host (35 files each), more on cgroup2.
 * Container runtimes and systemd give hard fd limits of 512Ki and more, and Node raises the
 * soft limit to the hard one, so the fd limit alone would allow gigabytes.
 */
export const KEPT_FILES_MAX = 4096;

/**
 * Half of `Max open files` (the soft limit) from /proc/self/limits, leaving the other half to
 * sockets, and no more than KEPT_FILES_MAX. Not found: half of 1024, the usual soft limit.
 */
export function keptFileLimit(limits: string): number {
  const soft = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)?.[1];
  const half = soft === 'unlimited' ? Infinity : Math.floor((soft === undefined ? 1024 : Number(soft)) / 2);
  return Math.min(half, KEPT_FILES_MAX);
}

let processBudget: FdBudget | undefined;

/**
 * This process's budget, from the agent's own limits whatever `--procfs` points at. Node
 * raises the soft fd limit to the hard one at start-up, so it is read once, on first use.
 */
export function processFdBudget(): FdBudget {
  processBudget ??= new FdBudget(keptFileLimit(readFileSync('/proc/self/limits', 'utf8')));
  return processBudget;
}

/**
 * Kernel files read every pass through descriptors kept open between passes. A seq_file (every
 * cgroup interface file, /proc/stat, /proc/<pid>/stat…) builds its text afresh on a read at
 * offset 0, so a pread at 0 on a kept descriptor reads what a fresh open would, without the
 * open and close. Regular files do not work that way (an unlinked or replaced file still reads
 * its old bytes), so only files on kernel filesystems belong here.
 *
 * Bounded twice: by the budget (beyond it files are opened, read and closed as before), and by
 * sweep(), called once a pass, which closes what was not read since the previous sweep, so a
 * removed cgroup or a file nobody wants any more does not hold a descriptor. Holding one does
 * not stop a cgroup's owner from removing it; reads on it then fail with ENODEV, which the
 * error policy treats as gone.
 *
 * With `linger`, a file read only every few passes (a cgroup's limits, re-read every
 * REREAD_EVERY passes) keeps its descriptor for that many sweeps without a read, while the
 * budget has room: a re-read is then a pread, not an open, a read and a close. When the budget
 * is full, sweep() lets go of every descriptor not read in the latest pass, as without linger,
 * so files read every pass get the descriptors first.
 *
 * Not free: an open seq_file keeps its page-sized kernel buffer, about 5 KB of unreclaimable
 * kernel memory per descriptor (measured on this kernel: 10,000 kept cgroup files, 49 MB of
 * SUnreclaim), which is what KEPT_FILES_MAX bounds.
 */
export class KeptFiles {
  private readonly kept = new Map<string, { fd: number; pass: number }>();
  private pass = 0;
  /** Reads that found their file gone (ENOENT at open, ENODEV on a kept descriptor). */
  vanished = 0;

  /**
   * @param linger sweeps a descriptor outlives its latest read while the budget has room (0: it
   * is closed at the first sweep after a pass that did not read it).
   */
  constructor(
    private readonly budget: FdBudget = processFdBudget(),
    private readonly linger = 0,
  ) {}

  get size(): number {
    return this.kept.size;
  }

  /** Like readOptional (read.ts): gone → undefined, EACCES/EPERM → ctx.unreadable, else throws. */
  readOptional(path: string, ctx: CollectContext | undefined, seqFile: boolean): string | undefined {
    // Not through tolerant(): a closure per read, thousands of reads a pass.
    try {
      return this.read(path, seqFile);
    } catch (error) {
      return tolerated(path, ctx, error);
    }
  }

  /**
   * Like readText (read.ts), from a kept descriptor when the budget allows. A kept descriptor
   * whose file was removed is let go and the path opened again, once: a cgroup removed and made
   * again under the same name (a restarted systemd service) reads on without a gap, and so does
   * a pid reused by a new process (a kept /proc/<pid> file of the process that exited reads
   * ESRCH, never the new one's).
   */
  read(path: string, seqFile: boolean): string {
    try {
      const kept = this.kept.get(path);
      if (kept !== undefined) {
        try {
          return this.readKept(path, kept, seqFile);
        } catch (error) {
          const code = errorCode(error);
          if (code !== 'ENODEV' && code !== 'ESRCH') throw error;
          this.vanished++;
        }
      }
      const file = this.keep(path);
      return file === undefined ? readText(path, seqFile) : this.readKept(path, file, seqFile);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENODEV') this.vanished++;
      throw error;
    }
  }

  private readKept(path: string, file: { fd: number; pass: number }, seqFile: boolean): string {
    file.pass = this.pass;
    try {
      return readFd(file.fd, seqFile);
    } catch (error) {
      this.forget(path, file.fd);
      throw error;
    }
  }

  /**
   * Closes every descriptor not read since the previous sweep, or with `linger` not read for
   * more than that many sweeps (every one when the budget is full): call it once a pass.
   */
  sweep(): void {
    const linger = this.budget.full ? 0 : this.linger;
    // forEach rather than for…of: no [path, file] array for each of thousands of descriptors a pass.
    this.kept.forEach((file, path) => {
      if (this.pass - file.pass > linger) this.forget(path, file.fd);
    });
    this.pass++;
  }

  /** Closes the descriptor kept for `path`, if there is one: its file is known to be gone. */
  release(path: string): void {
    const file = this.kept.get(path);
    if (file !== undefined) this.forget(path, file.fd);
  }

  /** Closes every descriptor. */
  close(): void {
    for (const [path, file] of this.kept) this.forget(path, file.fd);
  }

  private keep(path: string): { fd: number; pass: number } | undefined {
    if (this.budget.full) return undefined;
    const file = { fd: openSync(path, 'r'), pass: this.pass };
    this.kept.set(path, file);
    this.budget.take();
    return file;
  }

  private forget(path: string, fd: number): void {
    this.kept.delete(path);
    this.budget.give();
    closeSync(fd);
  }
}
