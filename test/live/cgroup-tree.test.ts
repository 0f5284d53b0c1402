import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { cgroupCollector } from '../../agent/collectors/cgroup.js';
import { CgroupTree, CgroupTrees, REWALK_EVERY } from '../../agent/collectors/cgroup-tree.js';
import { REREAD_EVERY, WatchBudget } from '../../agent/collectors/cgroup-watch.js';
import { FdBudget, KeptFiles } from '../../agent/collectors/kept-files.js';
import type { CollectContext } from '../../agent/collectors/types.js';
import { MetricTable } from '../../agent/metrics/table.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';
import { TestCgroup, cgroupHierarchies } from '../support/cgroup.js';
import { descriptorsUnder } from '../support/descriptors.js';

// The walked-tree cache and kept descriptors on this host's real cgroups. The tree tests use a
// cgroup of their own as the tree's root, so that other cgroups coming and going on this shared
// machine do not move its counts.

const ctx: CollectContext = { wants: () => true, unreadable: (key, error) => assert.fail(`unexpected unreadable ${key}: ${String(error)}`) };

/** One pass over the tree: the cgroups it visits, each with the text of `file`. */
async function pass(trees: CgroupTrees, root: string, count: number | undefined, file: string): Promise<Map<string, string | undefined>> {
  trees.beginPass();
  const seen = new Map<string, string | undefined>();
  await trees.tree(root).visit(ctx, count, (dir) => seen.set(dir.name, dir.read(file)));
  return seen;
}

/** No inotify watches: the counts, stats and reads every pass that a tree falls back on. */
const unwatched = (): WatchBudget => new WatchBudget(0);

const v1 = cgroupHierarchies().find((h) => h.version === 1 && h.controllers.includes('cpu'));
const v2 = cgroupHierarchies().find((h) => h.version === 2);

describe('cgroup trees on this host', () => {
  const made: string[] = [];
  const cgroups: TestCgroup[] = [];
  after(async () => {
    for (const dir of made.reverse()) {
      try {
        rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    for (const cg of cgroups) await cg.destroy();
  });
  const mkdir = (dir: string): string => {
    mkdirSync(dir);
    made.push(dir);
    return dir;
  };
  const rmdir = (dir: string): void => {
    rmdirSync(dir);
    made.splice(made.indexOf(dir), 1);
  };

  it('cgroup2: a stable tree is walked once; a child made or removed shows in the next pass', { skip: !v2 && 'no cgroup2 hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.unified;
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000)), unwatched());
    const a = mkdir(`${root}/a`);
    assert.deepEqual([...(await pass(trees, root, undefined, 'cgroup.procs')).keys()], ['/', '/a']);
    for (let n = 0; n < 3; n++) await pass(trees, root, undefined, 'cgroup.procs');
    assert.equal(trees.tree(root).walks, 1, 'nothing changed: no walk after the first');
    assert.ok(descriptorsUnder(a) >= 1, 'the cgroup.procs of /a stays open between passes');

    const b = mkdir(`${root}/b`);
    assert.deepEqual([...(await pass(trees, root, undefined, 'cgroup.procs')).keys()], ['/', '/a', '/b']);
    rmdir(a);
    assert.deepEqual([...(await pass(trees, root, undefined, 'cgroup.procs')).keys()], ['/', '/b']);
    await pass(trees, root, undefined, 'cgroup.procs');
    assert.equal(descriptorsUnder(a), 0, 'the removed cgroup holds no descriptor');
    assert.ok(descriptorsUnder(b) >= 1);
    trees.kept.close();
  });

  it('v1: a late free cannot hide a mkdir; a removed cgroup is noticed by its reads', { skip: !v1 && 'no v1 cpu hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.dir('cpu');
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000)), unwatched());
    const walks = (): number => trees.tree(root).walks;
    // num_cgroups counts the whole hierarchy; for a tree rooted in the test's own cgroup the test
    // says what the kernel would count for it.
    const a = mkdir(`${root}/a`);
    mkdir(`${root}/b`);
    const shares = await pass(trees, root, 3, 'cpu.shares');
    assert.deepEqual([...shares.keys()], ['/', '/a', '/b']);
    assert.equal(shares.get('/a'), '1024\n');
    await pass(trees, root, 3, 'cpu.shares');
    assert.equal(walks(), 1, 'the count matches the walk: no walk');

    // rmdir leaves num_cgroups where it was until the kernel frees the cgroup.
    rmdir(a);
    const during = await pass(trees, root, 3, 'cpu.shares');
    assert.equal(during.get('/a'), undefined, 'the read on the kept descriptor found /a gone, and said nothing');
    assert.equal(walks(), 1);
    assert.equal(descriptorsUnder(a), 0, 'its descriptor was closed on that read');
    assert.deepEqual([...(await pass(trees, root, 3, 'cpu.shares')).keys()], ['/', '/b'], 'the next pass walked again');
    await pass(trees, root, 3, 'cpu.shares');
    assert.equal(walks(), 2, 'counted but not freed: the directories are stat\'ed, not listed');

    // /a is freed and /c made between two passes: num_cgroups stays at 3.
    mkdir(`${root}/c`);
    assert.ok((await pass(trees, root, 3, 'cpu.shares')).has('/c'), 'the root\'s link count gave /c away');
    assert.equal(walks(), 3);
    await pass(trees, root, 3, 'cpu.shares');
    await pass(trees, root, 3, 'cpu.shares');
    assert.equal(walks(), 3, 'the count agrees with the walk: nothing to look at');

    // A cgroup that no count shows (made while another was removed and freed between two
    // passes, and the removed one not read) shows within REWALK_EVERY passes.
    mkdir(`${root}/d`);
    let passes = 0;
    while (!(await pass(trees, root, 3, 'cpu.shares')).has('/d')) passes++;
    assert.ok(passes > 0 && passes < REWALK_EVERY, `took ${passes} passes`);
    trees.kept.close();
  });

  it('a cgroup removed and made again under the same name reads on in the same pass', { skip: !v2 && 'no cgroup2 hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.unified;
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000)), unwatched());
    const a = mkdir(`${root}/a`);
    assert.equal((await pass(trees, root, undefined, 'cgroup.type')).get('/a'), 'domain\n');
    rmdir(a);
    mkdir(a);
    assert.equal((await pass(trees, root, undefined, 'cgroup.type')).get('/a'), 'domain\n', 'read from the new /a, not lost with the old descriptor');
    assert.equal(descriptorsUnder(a), 1, 'one descriptor, on the new /a');
    trees.kept.close();
  });

  it('a hierarchy directory that was gone at a walk is walked again when it is back', { skip: !v2 && 'no cgroup2 hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const x = mkdir(`${cg.unified}/x`);
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000)), unwatched());
    trees.tree(x);
    rmdir(x);
    assert.deepEqual([...(await pass(trees, x, undefined, 'cgroup.type')).keys()], []);
    mkdir(x);
    assert.deepEqual([...(await pass(trees, x, undefined, 'cgroup.type')).keys()], ['/']);
    trees.kept.close();
  });

  it('keeps no more descriptors than its budget, and still reads every file', { skip: !v2 && 'no cgroup2 hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.unified;
    for (let n = 0; n < 10; n++) mkdir(`${root}/c${n}`);
    const budget = new FdBudget(25);
    const trees = new CgroupTrees(new KeptFiles(budget), unwatched());
    const before = readdirSync('/proc/self/fd').length;
    let files = 0;
    for (let n = 0; n < 3; n++) {
      trees.beginPass();
      files = 0;
      await trees.tree(root).visit(ctx, undefined, (dir) => {
        for (const file of ['cgroup.procs', 'cgroup.stat', 'cgroup.controllers', 'cgroup.events', 'cgroup.type', 'cgroup.threads', 'cpu.stat']) {
          if (!dir.files.has(file)) continue;
          files++;
          assert.notEqual(dir.read(file), undefined, `${dir.path}/${file}`);
        }
      });
    }
    assert.ok(files > 50, `read ${files} files a pass, more than the budget of 25`);
    assert.equal(trees.kept.size, 25);
    assert.ok(readdirSync('/proc/self/fd').length - before <= 25);
    trees.kept.close();
    assert.equal(descriptorsUnder(root), 0);
  });

  it('a hierarchy no pass visits any more lets go of its descriptors, whatever the linger', { skip: !v1 && 'no v1 cpu hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.dir('cpu');
    mkdir(`${root}/a`);
    // Descriptors linger for REREAD_EVERY sweeps, as in the agent.
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000), REREAD_EVERY), unwatched());
    for (let n = 0; n < 2; n++) await pass(trees, root, 2, 'cpu.shares');
    assert.equal(descriptorsUnder(root), 2, 'the root\'s and /a\'s cpu.shares are kept open');
    // Two passes that do not visit the tree: the first begins without it, the second closes it.
    trees.beginPass();
    trees.beginPass();
    assert.equal(descriptorsUnder(root), 0, 'the tree no pass uses holds no descriptor');
    trees.kept.close();
  });

  it('watched, v1: a limit is read again only after a write; a cgroup made shows without any count', { skip: !v1 && 'no v1 cpu hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.dir('cpu');
    const budget = new WatchBudget(100);
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000)), budget);
    const walks = (): number => trees.tree(root).walks;
    const a = mkdir(`${root}/a`);
    // A count that never agrees (as num_cgroups does not, on a host with lingering memory
    // cgroups): unwatched, the tree would stat every directory every pass.
    const count = 99;
    const quota = async (): Promise<string | undefined> => (await pass(trees, root, count, 'cpu.cfs_quota_us')).get('/a');
    assert.equal(await quota(), '-1\n');
    assert.equal(budget.held, 2, 'the root and /a are watched');
    for (let n = 0; n < 3; n++) assert.equal(await quota(), '-1\n');
    assert.equal(walks(), 1, 'no event, no walk, whatever the count says');
    assert.equal(descriptorsUnder(a), 0, 'the held limit was not read again, so its descriptor was let go');

    writeFileSync(`${a}/cpu.cfs_quota_us`, '50000');
    await sleep(50); // the watch's event reaches the event loop
    assert.equal(await quota(), '50000\n', 'the write let go of the held text');
    assert.equal(walks(), 1);

    // A v1 count that rises (a mkdir through another cgroup namespace's mount, unseen by the
    // watches) makes the tree walk again; one that falls (a memory cgroup freed late) does not.
    await pass(trees, root, count + 1, 'cpu.cfs_quota_us');
    assert.equal(walks(), 2, 'the count rose');
    await pass(trees, root, count, 'cpu.cfs_quota_us');
    assert.equal(walks(), 2, 'the count fell');

    mkdir(`${root}/b`);
    await sleep(50);
    assert.deepEqual([...(await pass(trees, root, count, 'cpu.cfs_quota_us')).keys()], ['/', '/a', '/b'], 'the mkdir\'s event made the tree walk again');
    assert.equal(walks(), 3);
    assert.equal(budget.held, 3);
    rmdir(`${root}/b`);
    await sleep(50);
    assert.deepEqual([...(await pass(trees, root, count, 'cpu.cfs_quota_us')).keys()], ['/', '/a']);
    assert.equal(budget.held, 2, 'the removed cgroup\'s watch was let go');

    // A change the watches cannot see (a write through another cgroup namespace's mount, a CPU
    // going offline under a v1 cpuset) is caught by reading the held limit again within
    // REREAD_EVERY passes: its descriptor is opened again.
    let reread = false;
    for (let n = 0; n < REREAD_EVERY && !reread; n++) {
      await quota();
      reread = descriptorsUnder(a) > 0;
    }
    assert.ok(reread, `the held limit was read again within ${REREAD_EVERY} passes`);
    trees.tree(root).close();
    assert.equal(budget.held, 0);
    trees.kept.close();
  });

  it('watched: a cgroup removed and made again under the same name serves the new one\'s limits', { skip: !v1 && 'no v1 cpu hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.dir('cpu');
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000)), new WatchBudget(100));
    const a = mkdir(`${root}/a`);
    writeFileSync(`${a}/cpu.shares`, '512');
    for (let n = 0; n < 3; n++) assert.equal((await pass(trees, root, 2, 'cpu.shares')).get('/a'), '512\n');
    rmdir(a);
    mkdir(a);
    await sleep(50);
    assert.equal((await pass(trees, root, 2, 'cpu.shares')).get('/a'), '1024\n', 'the new /a, not the old one\'s held text');
    await sleep(50);
    assert.equal((await pass(trees, root, 2, 'cpu.shares')).get('/a'), '1024\n');
    writeFileSync(`${a}/cpu.shares`, '256');
    await sleep(50);
    assert.equal((await pass(trees, root, 2, 'cpu.shares')).get('/a'), '256\n', 'the new /a is watched');
    trees.tree(root).close();
    trees.kept.close();
  });

  it('a tree that can have no watch reads its limits every pass', { skip: !v1 && 'no v1 cpu hierarchy' }, async () => {
    const cg = new TestCgroup();
    cgroups.push(cg);
    const root = cg.dir('cpu');
    const trees = new CgroupTrees(new KeptFiles(new FdBudget(1000)), new WatchBudget(1));
    const a = mkdir(`${root}/a`);
    for (let n = 0; n < 3; n++) await pass(trees, root, 2, 'cpu.shares');
    assert.equal(descriptorsUnder(a), 1, '/a has no watch (the budget went to the root): its limit is read every pass');
    trees.tree(root).close();
    trees.kept.close();
  });

  it('a fixture-like tree on an ordinary filesystem is walked every pass and keeps nothing', async () => {
    const tree = new CgroupTree(new URL('../fixtures/cgroup-v2-vm/sys/fs/cgroup', import.meta.url).pathname, new KeptFiles(new FdBudget(100)));
    for (let n = 0; n < 3; n++) await tree.visit(ctx, undefined, (dir) => dir.read('cpu.stat'));
    assert.equal(tree.walks, 3);
  });

  it('the collector: a cgroup made after the first passes is in the next sample; a removed one leaves, with its descriptors', async () => {
    const collector = cgroupCollector({ procfs: '/proc', sysfs: '/sys' });
    const table = new MetricTable([collector.family]);
    const cpuStat = async (): Promise<Set<string>> => {
      const now = Date.now();
      const buffer = new CollectorBuffer(table, now);
      // One metric, one file per cgroup: on a host with a thousand cgroups every file of every
      // cgroup would use up the descriptor cap before the test's cgroup comes along.
      await collector.collect(buffer, { wants: (m) => m === 'cgroup.cpuacct.usage', unreadable: () => {} });
      const sample = new Sample(now);
      buffer.mergeInto(sample);
      const indom = table.metric('cgroup.cpuacct.usage')!.indom!;
      return new Set([...(sample.get('cgroup.cpuacct.usage') ?? [])].map(([id]) => sample.instanceName(indom, id)!));
    };
    await cpuStat();
    await cpuStat();
    const cg = new TestCgroup();
    cgroups.push(cg);
    assert.ok((await cpuStat()).has(cg.path), 'the new cgroup is in the first pass after it was made');
    const dirs = cgroupHierarchies().map((h) => `${h.mountPoint}${cg.path}`);
    assert.ok(dirs.reduce((n, dir) => n + descriptorsUnder(dir), 0) > 0, 'its files are read through kept descriptors');
    await cg.destroy();
    cgroups.pop();
    assert.ok(!(await cpuStat()).has(cg.path), 'the removed cgroup is gone from the next pass');
    await cpuStat();
    assert.equal(dirs.reduce((n, dir) => n + descriptorsUnder(dir), 0), 0, 'and holds no descriptor');
  });
});
