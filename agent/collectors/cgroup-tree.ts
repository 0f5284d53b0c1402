import { statSync, statfsSync } from 'node:fs';
import { Slices } from '../slices.js';
import { log } from '../log.js';
import { CgroupDir, walkCgroups, type CgroupFileReader } from './cgroup-dir.js';
import { CgroupWatch, REREAD_EVERY, processWatchBudget, type WatchBudget } from './cgroup-watch.js';
import { KeptFiles, processFdBudget } from './kept-files.js';
import type { CollectContext } from './types.js';

/** Whether the warning that inotify watches ran out was logged: once per process is enough. */
let refusalLogged = false;

/** statfs(2) f_type of the kernel's cgroup filesystems (linux/magic.h). */
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * Passes between full walks even when nothing says the tree changed: a cgroup created and
 * another removed between two passes can leave the counts as they were, and a cgroup2
 * cgroup's files change when its parent enables a controller, which no count shows. Both are
 * rare, and a full walk of every hierarchy costs more than a pass's reads (at 100 cgroups the
 * walks every 10th pass were a quarter of the agent's CPU): half a minute bounds the delay.
 */
export const REWALK_EVERY = 30;

/** The live cgroups a cgroup2 `cgroup.stat` counts: `nr_descendants`, and the cgroup itself. */
function cgroupsCounted(stat: string | undefined): number | undefined {
  const descendants = stat === undefined ? undefined : /^nr_descendants (\d+)$/m.exec(stat)?.[1];
  return descendants === undefined ? undefined : Number(descendants) + 1;
}

/**
 * One mounted hierarchy's cgroups as the latest walk found them (instance names, paths, file
 * sets), so that a pass reads their files without listing every directory again: at 1000
 * cgroups the listings cost as much as the reads. The tree is walked again when it may have
 * changed:
 * - when a cgroup directory's link count (2 plus its subdirectories, which mkdir and rmdir
 *   below it move at once) differs from what the walk found. Stat'ing every directory costs
 *   a third of listing it, and is skipped while the kernel's count of cgroups agreed with
 *   the walk's on this pass and the one before: `num_cgroups` (/proc/cgroups, v1) and
 *   `nr_descendants` (the root's `cgroup.stat`, cgroup2) rise at once on mkdir. They often
 *   disagree for long: a v1 rmdir lowers num_cgroups only when the kernel frees the cgroup
 *   (memory cgroups linger while they hold page cache), and num_cgroups counts the whole
 *   hierarchy where the mount shows a subtree. While they disagree, a free can hide a mkdir
 *   from the count, which is why one agreeing pass is not enough.
 * - when a read found a cgroup gone (a cgroup removed and another made between two passes);
 * - every REWALK_EVERY passes regardless.
 *
 * While every listed cgroup's directory has an inotify watch (CgroupWatch), the watches say
 * when a subdirectory came or went, and the counts and stats above are not needed: the tree is
 * walked again on an event, on a cgroup2 count that moved (a cgroup made through another
 * cgroup namespace's mount, which the watches do not see), or every REWALK_EVERY passes. On the
 * first pass after a walk the directories are stat'ed once all the same, for a cgroup made
 * between the walk's listing and its watch. The watches also let WRITTEN_ONLY files (limits)
 * be read only after a write, or every REREAD_EVERY passes.
 *
 * Only a real cgroup filesystem is cached and read through kept descriptors. A fixture tree
 * on disk has no counts that move and regular files that a kept descriptor would read stale,
 * so it is walked and read afresh every pass, as before.
 */
export class CgroupTree {
  private listed: CgroupDir[] = [];
  /** Subdirectories of each listed cgroup as the walk found them, in the same order. */
  private subdirs: readonly number[] = [];
  /** No walk yet, or a read found a cgroup of the latest walk gone. */
  private stale = true;
  /** The kernel's count of cgroups agreed with the list on the previous pass. */
  private agreed = false;
  private passesSinceWalk = 0;
  /** Walks made so far (tests count them). */
  walks = 0;
  /** Reads through kept descriptors; undefined when the tree is not on a cgroup filesystem. */
  private readonly reader: CgroupFileReader | undefined;
  private readonly cgroup2: boolean;
  /** The watch on each listed cgroup's directory, by path. */
  private watches = new Map<string, CgroupWatch>();
  /** Every listed cgroup has a live watch, so their events stand in for the counts and stats. */
  private watchedAll = false;
  /** A watch saw a subdirectory made or removed (or failed) since the walk began. */
  private moved = false;
  /** The stat after a walk that covers the moment between a listing and its watch is done. */
  private verified = false;
  /** Cgroups whose parent's watch saw them made or removed since the last walk: their watches start anew. */
  private renamed = new Set<string>();
  /** The kernel's count of cgroups on the previous pass (cgroup2: the root's nr_descendants + 1). */
  private lastCounted: number | undefined;

  constructor(
    readonly path: string,
    private readonly kept: KeptFiles,
    private readonly budget: WatchBudget = processWatchBudget(),
  ) {
    const type = filesystemType(path);
    this.cgroup2 = type === CGROUP2_SUPER_MAGIC;
    if (this.cgroup2 || type === CGROUP_SUPER_MAGIC) this.reader = (file, ctx) => kept.readOptional(file, ctx, true);
  }

  /**
   * Visits every cgroup of the tree, parents before children, giving the event loop a turn
   * every few milliseconds as the walk does.
   * @param count the hierarchy's `num_cgroups` from /proc/cgroups; a cgroup2 tree counts its own.
   */
  async visit(ctx: CollectContext, count: number | undefined, visit: (dir: CgroupDir) => void): Promise<void> {
    const reader = this.reader;
    if (reader === undefined) {
      this.walks++;
      return walkCgroups(this.path, ctx, visit);
    }
    const counted = this.cgroup2 ? cgroupsCounted(reader(`${this.path}/cgroup.stat`, ctx)) : count;
    const vanishedBefore = this.kept.vanished;
    if (await this.mayHaveChanged(counted)) await this.walk(ctx, reader, counted, visit);
    else await this.revisit(ctx, reader, visit);
    // A cgroup went away since the walk: the list is stale, whatever the count says.
    if (this.kept.vanished !== vanishedBefore) this.stale = true;
  }

  /** Once a pass: counts the pass and remembers whether the count agreed. */
  private async mayHaveChanged(counted: number | undefined): Promise<boolean> {
    // An empty list is a hierarchy directory that was not there: nothing to stat, so look again.
    if (this.stale || this.listed.length === 0 || ++this.passesSinceWalk >= REWALK_EVERY) return true;
    if (this.watchedAll) {
      // A cgroup made through the mount of another cgroup namespace (a superblock of its own,
      // which the watches do not see) still raises the kernel's count at once. A v1 count also
      // falls late, when the kernel frees a removed memory cgroup, which says nothing new.
      const last = this.lastCounted;
      const countMoved = counted !== undefined && last !== undefined && (this.cgroup2 ? counted !== last : counted > last);
      this.lastCounted = counted;
      if (this.moved || countMoved) return true;
      if (this.verified) return false;
      this.verified = true;
      return this.subdirsChanged();
    }
    const agrees = counted === this.listed.length;
    const trusted = agrees && this.agreed;
    this.agreed = agrees;
    return !trusted && (await this.subdirsChanged());
  }

  /** Whether a listed cgroup gained or lost a subdirectory (or went away) since the walk. */
  private async subdirsChanged(): Promise<boolean> {
    const slices = new Slices();
    for (let i = 0; i < this.listed.length; i++) {
      try {
        const stat = statSync(this.listed[i]!.path, { throwIfNoEntry: false });
        if (stat === undefined || stat.nlink - 2 !== this.subdirs[i]) return true;
      } catch {
        // Whatever it is, the walk meets it too and applies the error policy.
        return true;
      }
      if (slices.due) await slices.next();
    }
    return false;
  }

  private async walk(ctx: CollectContext, reader: CgroupFileReader, counted: number | undefined, visit: (dir: CgroupDir) => void): Promise<void> {
    const found: CgroupDir[] = [];
    this.walks++;
    this.moved = false;
    await walkCgroups(this.path, ctx, (dir) => {
      found.push(dir);
      visit(dir);
    }, reader);
    const subdirs = new Map<string, number>();
    for (const dir of found) {
      const parent = dir.path.slice(0, dir.path.lastIndexOf('/'));
      subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
    }
    this.releaseGone(this.listed, found);
    this.listed = found;
    this.subdirs = found.map((dir) => subdirs.get(dir.path) ?? 0);
    this.agreed = counted === found.length;
    this.lastCounted = counted;
    this.stale = false;
    this.passesSinceWalk = 0;
    this.watch(found);
  }

  /**
   * Closes the kept descriptors of the cgroups listed before and not now. The sweeps would close
   * them only after the kept files' linger (a removed cgroup's files are not read again), and
   * until then they would keep the removed cgroup's files open.
   */
  private releaseGone(before: readonly CgroupDir[], found: readonly CgroupDir[]): void {
    if (before.length === 0) return;
    const still = new Set(found.map((dir) => dir.path));
    for (const dir of before) if (!still.has(dir.path)) for (const path of dir.paths.values()) this.kept.release(path);
  }

  /** Watches the directories of a new listing, keeping the watches of those listed before. */
  private watch(found: readonly CgroupDir[]): void {
    const before = this.watches;
    this.watches = new Map();
    let all = true;
    for (const dir of found) {
      let watch = before.get(dir.path);
      before.delete(dir.path);
      // A directory removed and made again is another inode: the old watch sees nothing of it.
      if (watch !== undefined && this.renamed.has(dir.path)) watch.close();
      // The walk read every file afresh; what a watch held from before is not needed.
      if (watch?.live) watch.texts.clear();
      else watch = this.startWatch(dir.path);
      if (watch === undefined) {
        all = false;
        continue;
      }
      this.watches.set(dir.path, watch);
      dir.watch = watch;
    }
    for (const gone of before.values()) gone.close();
    this.renamed.clear();
    // A directory gone since the listing is not worth a word (the next walk drops it); a watch
    // the kernel refused or the budget could not give is.
    const short = this.budget.full;
    if (!all && short && !refusalLogged && this.budget.limit > 0) {
      refusalLogged = true;
      log.warn('not every cgroup directory could be watched with inotify; the others have their limits read every pass and are checked by stat, which costs more CPU (raise fs.inotify.max_user_watches to fix)', {
        path: this.path, reason: this.budget.refused ?? `the agent's ${this.budget.limit} watches are in use`,
      });
    }
    this.watchedAll = all && found.length > 0;
    this.verified = false;
  }

  private startWatch(path: string): CgroupWatch | undefined {
    return CgroupWatch.start(path, this.budget, (child) => {
      this.moved = true;
      if (child !== undefined) this.renamed.add(`${path}/${child}`);
    });
  }

  /** Lets go of every watch and kept descriptor (the tree is no longer used). */
  close(): void {
    this.releaseGone(this.listed, []);
    for (const watch of this.watches.values()) watch.close();
    this.watches.clear();
    this.watchedAll = false;
  }

  /** The latest walk's cgroups again, with this pass's context. */
  private async revisit(ctx: CollectContext, reader: CgroupFileReader, visit: (dir: CgroupDir) => void): Promise<void> {
    const slices = new Slices();
    const listed = this.listed;
    for (let i = 0; i < listed.length; i++) {
      const dir = listed[i]!;
      // The walk's CgroupDir serves every pass until the next walk (a new one per cgroup and
      // pass was garbage the young generation collected every pass), unless the caller's context changed.
      const next = dir.serves(ctx, reader) ? dir : (listed[i] = new CgroupDir(dir.name, dir.path, dir.files, ctx, reader, dir.paths));
      const watch = dir.watch;
      next.watch = undefined;
      if (watch !== undefined && watch.live) {
        // Each cgroup on its own pass of REREAD_EVERY: held texts do not all come due together
        // (the walk, which read them all, is pass 0).
        if ((this.passesSinceWalk + i) % REREAD_EVERY === 0) watch.texts.clear();
        next.watch = watch;
      }
      visit(next);
      if (slices.due) await slices.next();
    }
  }
}

/**
 * The trees of one collector and the descriptors they keep, pass by pass: what a pass did not
 * use (an unmounted hierarchy, a removed cgroup's files) is let go when the next one begins.
 */
export class CgroupTrees {
  private previous = new Map<string, CgroupTree>();
  private current = new Map<string, CgroupTree>();

  constructor(
    // A cgroup's limits are re-read every REREAD_EVERY passes: their descriptors wait for it.
    readonly kept = new KeptFiles(processFdBudget(), REREAD_EVERY),
    private readonly watches: WatchBudget = processWatchBudget(),
  ) {}

  beginPass(): void {
    for (const [path, tree] of this.previous) if (!this.current.has(path)) tree.close();
    this.kept.sweep();
    this.previous = this.current;
    this.current = new Map();
  }

  /** The tree of the hierarchy at `path` (already under `--sysfs`). */
  tree(path: string): CgroupTree {
    let tree = this.current.get(path) ?? this.previous.get(path);
    if (tree === undefined) tree = new CgroupTree(path, this.kept, this.watches);
    this.current.set(path, tree);
    return tree;
  }
}

function filesystemType(path: string): number | undefined {
  try {
    return statfsSync(path).type;
  } catch {
    // A hierarchy directory that is not there is walked as before, which finds it empty.
    return undefined;
  }
}
