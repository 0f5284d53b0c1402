import { statfsSync } from 'node:fs';
import { CgroupDir, Slices, walkCgroups, type CgroupFileReader } from './cgroup-dir.js';
import { KeptFiles } from './kept-files.js';
import type { CollectContext } from './types.js';

/** statfs(2) f_type of the kernel's cgroup filesystems (linux/magic.h). */
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/**
 * Passes between full walks even when nothing says the tree changed: a cgroup created and
 * another removed between two passes can leave the counts as they were, and a cgroup2
 * cgroup's files change when its parent enables a controller, which no count shows.
 */
export const REWALK_EVERY = 10;

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
 * - when the kernel counts a different number of cgroups than the walk found: mkdir raises
 *   `num_cgroups` (/proc/cgroups, v1) and `nr_descendants` (the root's `cgroup.stat`, cgroup2)
 *   at once. A v1 rmdir lowers num_cgroups only when the kernel frees the cgroup, maybe much
 *   later (memory cgroups linger while they hold page cache); until then the counts differ and
 *   the hierarchy is walked every pass, since a late free could hide a mkdir from a count
 *   that is merely compared with the previous one.
 * - when a read found a cgroup gone (a cgroup removed and another made between two passes);
 * - every REWALK_EVERY passes regardless.
 *
 * Only a real cgroup filesystem is cached and read through kept descriptors. A fixture tree
 * on disk has no counts that move and regular files that a kept descriptor would read stale,
 * so it is walked and read afresh every pass, as before.
 */
export class CgroupTree {
  private listed: readonly CgroupDir[] = [];
  /** No walk yet, or a read found a cgroup of the latest walk gone. */
  private stale = true;
  private passesSinceWalk = 0;
  /** Walks made so far (tests count them). */
  walks = 0;
  /** Reads through kept descriptors; undefined when the tree is not on a cgroup filesystem. */
  private readonly reader: CgroupFileReader | undefined;
  private readonly cgroup2: boolean;

  constructor(
    readonly path: string,
    private readonly kept: KeptFiles,
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
    if (this.mayHaveChanged(counted)) await this.walk(ctx, reader, visit);
    else await this.revisit(ctx, reader, visit);
    // A cgroup went away since the walk: the list is stale, whatever the count says.
    if (this.kept.vanished !== vanishedBefore) this.stale = true;
  }

  private mayHaveChanged(counted: number | undefined): boolean {
    return this.stale || counted !== this.listed.length || ++this.passesSinceWalk >= REWALK_EVERY;
  }

  private async walk(ctx: CollectContext, reader: CgroupFileReader, visit: (dir: CgroupDir) => void): Promise<void> {
    const found: CgroupDir[] = [];
    this.walks++;
    await walkCgroups(this.path, ctx, (dir) => {
      found.push(dir);
      visit(dir);
    }, reader);
    this.listed = found;
    this.stale = false;
    this.passesSinceWalk = 0;
  }

  /** The latest walk's cgroups again, with this pass's context. */
  private async revisit(ctx: CollectContext, reader: CgroupFileReader, visit: (dir: CgroupDir) => void): Promise<void> {
    const slices = new Slices();
    for (const dir of this.listed) {
      visit(new CgroupDir(dir.name, dir.path, dir.files, ctx, reader));
      await slices.next();
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

  constructor(readonly kept = new KeptFiles()) {}

  beginPass(): void {
    this.kept.sweep();
    this.previous = this.current;
    this.current = new Map();
  }

  /** The tree of the hierarchy at `path` (already under `--sysfs`). */
  tree(path: string): CgroupTree {
    let tree = this.current.get(path) ?? this.previous.get(path);
    if (tree === undefined) tree = new CgroupTree(path, this.kept);
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
