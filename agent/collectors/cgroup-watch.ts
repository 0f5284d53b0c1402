import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { Budget } from './budget.js';

/**
 * Interface files that change only when someone writes them: limits and weights. While an
 * inotify watch on the cgroup's directory reports no write to one, a pass uses the text read
 * before instead of reading it again (4 of the 14 files a console wants per cgroup on a
 * hybrid host). `.effective` cpusets are not here: the kernel changes them when a parent's
 * cpuset or the online CPUs change, with no write to the file.
 */
export const WRITTEN_ONLY: ReadonlySet<string> = new Set([
  // v1
  'cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us',
  'memory.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.memsw.limit_in_bytes',
  // cgroup2
  'cpu.weight', 'cpu.max', 'memory.max', 'memory.high', 'memory.low', 'memory.min', 'memory.swap.max',
  // both
  'cpuset.cpus', 'cpuset.mems', 'pids.max',
]);

/**
 * A held text is read again every this many passes even when no write was seen (each cgroup
 * on its own pass, so that they do not all come due together). inotify sees a write made
 * through any mount of a v1 hierarchy, and through any cgroup2 mount of the same cgroup
 * namespace; a container that mounts cgroup2 in a namespace of its own writes through another
 * superblock, and v1 cpusets lose CPUs that go offline with no write at all.
 */
export const REREAD_EVERY = 10;

/**
 * The process's budget of inotify watches. The kernel's limit (fs.inotify.max_user_watches) is
 * per user, shared with every other process of that user on the host, so an agent takes at most
 * a quarter of it, and no more than WATCHES_MAX (each watch is about 1 KB of kernel memory and a
 * handle in the agent).
 */
export class WatchBudget extends Budget {
  /** Set when the kernel refused a watch (ENOSPC: the user's watches are used up): no more tries. */
  refused?: string;

  /** Whether no more watches may be started: used up here, or refused by the kernel. */
  override get full(): boolean {
    return this.refused !== undefined || super.full;
  }
}

export const WATCHES_MAX = 16_384;

let processBudget: WatchBudget | undefined;

export function processWatchBudget(): WatchBudget {
  if (processBudget === undefined) {
    let limit = 0;
    try {
      limit = Math.min(WATCHES_MAX, Math.floor(Number(readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8')) / 4));
    } catch {
      // No inotify (or no /proc/sys): every tree reads and checks as if unwatched.
    }
    processBudget = new WatchBudget(Number.isFinite(limit) ? limit : 0);
  }
  return processBudget;
}

/**
 * An inotify watch on one cgroup directory. Its events say what a pass would otherwise have to
 * look at: a write to one of its files (`change` with the file's name) lets go of that file's
 * held text; a subdirectory made or removed is a `rename`, which makes the tree walk again.
 */
export class CgroupWatch {
  /** Texts of WRITTEN_ONLY files read since the last write the watch saw, by file name. */
  readonly texts = new Map<string, string>();
  private watcher: FSWatcher | undefined;

  private constructor(
    readonly path: string,
    private readonly budget: WatchBudget,
    onMoved: (child: string | undefined) => void,
  ) {
    this.watcher = watch(path, { persistent: false }, (event, file) => {
      if (event === 'change' && file) {
        this.texts.delete(file);
        return;
      }
      // A subdirectory made or removed. (Node does not report the watched directory's own
      // removal, so a cgroup removed and made again under its name is known by its parent's
      // watch: the tree starts a new watch for it.)
      onMoved(file ?? undefined);
    });
    budget.take();
    // The directory was removed, or the watch failed: no held text can be trusted any more.
    this.watcher.on('error', () => {
      this.close();
      onMoved(undefined);
    });
  }

  /** A watch on `path`, or undefined when the budget is used up or the kernel refuses. */
  static start(path: string, budget: WatchBudget, onMoved: (child: string | undefined) => void): CgroupWatch | undefined {
    if (budget.full) return undefined;
    try {
      return new CgroupWatch(path, budget, onMoved);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Used up for this user, or not allowed: stop asking; a directory gone is the walk's business.
      if (code === 'ENOSPC' || code === 'EMFILE' || code === 'EACCES' || code === 'EPERM') budget.refused = code;
      return undefined;
    }
  }

  get live(): boolean {
    return this.watcher !== undefined;
  }

  close(): void {
    if (this.watcher === undefined) return;
    this.watcher.close();
    this.watcher = undefined;
    this.budget.give();
    this.texts.clear();
  }
}
