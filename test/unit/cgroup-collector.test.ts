import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { valueJson } from '../../agent/api/json.js';
import { cgroupCollector, hierarchyPath } from '../../agent/collectors/cgroup.js';
import { walkCgroups } from '../../agent/collectors/cgroup-dir.js';
import type { CollectContext, Collector } from '../../agent/collectors/types.js';
import { cgroupFamily } from '../../agent/metrics/cgroup.js';
import { MetricTable } from '../../agent/metrics/table.js';
import type { Value } from '../../agent/metrics/types.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const read = (path: string): string => readFileSync(`${fixtures}${path}`, 'utf8');

const ctx: CollectContext = {
  wants: () => true,
  unreadable(key, error) {
    throw new Error(`unexpected unreadable ${key}: ${String(error)}`);
  },
};

class Collected {
  constructor(readonly table: MetricTable, readonly sample: Sample) {}

  /** name → value for every instance of `metric`. */
  all(metric: string): Map<string, Value> {
    const desc = this.table.metric(metric);
    assert.ok(desc, `${metric} is declared`);
    const out = new Map<string, Value>();
    for (const [id, value] of this.sample.get(metric) ?? []) {
      out.set(desc.indom === null ? '' : this.sample.instanceName(desc.indom, id)!, value);
    }
    return out;
  }

  value(metric: string, instance = ''): Value | undefined {
    return this.all(metric).get(instance);
  }

  idOf(metric: string, instance: string): number | undefined {
    const desc = this.table.metric(metric)!;
    for (const [id] of this.sample.get(metric) ?? []) if (this.sample.instanceName(desc.indom!, id) === instance) return id;
    return undefined;
  }
}

async function collect(collector: Collector, table = new MetricTable([collector.family])): Promise<Collected> {
  const now = Date.now();
  const buffer = new CollectorBuffer(table, now);
  await collector.collect(buffer, ctx);
  const sample = new Sample(now);
  buffer.mergeInto(sample);
  return new Collected(table, sample);
}

const onFixture = (name: string): Promise<Collected> =>
  collect(cgroupCollector({ procfs: `${fixtures}${name}/proc`, sysfs: `${fixtures}${name}/sys` }));

const HYBRID_PARENT = '/vigil-test-20383-e9d8554c';
const HYBRID_LEAF = `${HYBRID_PARENT}/docker/776a99802593d478844db0e0e3580293f0d315d61813082dfcf68b80f413d0c5`;
const V2_DOCKER = '/system.slice/docker-5e1f6ab2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e.scope';
const V2_POD = '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_5b6a_4789_8a7b_6c5d4e3f2a1b.slice';
const V2_KUBE = `${V2_POD}/cri-containerd-9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b.scope`;
const V1_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const V1_LEAF = `/docker/${V1_ID}`;
const UNLIMITED = 9223372036854771712n;

test('metadata: every PCP cgroup metric with PCP 6.0.3\'s pmid, indom, type, semantics, units and help', () => {
  const pcp = new Map<string, string[]>();
  for (const line of read('pcp/all-metrics-desc.tsv').split('\n')) {
    const fields = line.split('\t');
    if (fields[0]?.startsWith('cgroup.')) pcp.set(fields[0], fields);
  }
  assert.equal(pcp.size, 204);
  const table = new MetricTable([cgroupFamily]);
  for (const [name, [, pmid, indom, type, sem, units, , oneline]] of pcp) {
    const desc = table.metric(name);
    assert.ok(desc, `${name} is served`);
    assert.deepEqual(
      [desc.pmid, desc.indom ?? 'PM_INDOM_NULL', desc.type, desc.sem, desc.units, desc.oneline],
      [pmid, indom, type, sem, units, oneline],
      name,
    );
  }
  const ours = cgroupFamily.metrics.filter((m) => !pcp.has(m.name));
  assert.ok(ours.length > 0);
  for (const m of ours) {
    assert.match(m.pmid, /^500\.(1\d|[2-9]\d)\.\d+$/, `${m.name} is in Vigil's domain, cluster 10 and up`);
    assert.ok(m.help && m.help.length > m.oneline.length, `${m.name} has long help`);
  }
  assert.match(table.metric('cgroup.cpusched.cfs_quota')!.help!, /A value of -1 indicates/);
});

test('hybrid host: v1 controllers give PCP\'s v1 metrics with the kernel files\' values', async () => {
  const c = await onFixture('cgroup-hybrid-vm');
  assert.equal(c.value('cgroup.cpuacct.usage', HYBRID_LEAF), 622018203n);
  assert.equal(c.value('cgroup.cpuacct.usage_percpu', `${HYBRID_LEAF}::cpu0`), 158143779n);
  assert.equal(c.value('cgroup.cpuacct.usage_percpu', `${HYBRID_LEAF}::cpu1`), 463874424n);
  // cpuacct.stat says "user 53" in USER_HZ ticks; PCP's unit for the metric is millisec.
  assert.equal(c.value('cgroup.cpuacct.stat.user', HYBRID_LEAF), 530n);
  assert.equal(c.value('cgroup.cpuacct.stat.system', HYBRID_LEAF), 80n);
  assert.equal(c.value('cgroup.cpusched.cfs_quota', HYBRID_PARENT), 20000n);
  assert.equal(c.value('cgroup.cpusched.cfs_quota', HYBRID_LEAF), -1n);
  assert.equal(c.value('cgroup.cpusched.cfs_period', HYBRID_PARENT), 100000n);
  assert.equal(c.value('cgroup.cpusched.shares', HYBRID_LEAF), 512n);
  assert.equal(c.value('cgroup.cpusched.periods', HYBRID_PARENT), 30n);
  assert.equal(c.value('cgroup.cpusched.throttled', HYBRID_PARENT), 30n);
  assert.equal(c.value('cgroup.cpusched.throttled_time', HYBRID_PARENT), 3491790924n);
  assert.equal(c.value('cgroup.cpuset.cpus', HYBRID_LEAF), '0-1');
  assert.equal(c.value('cgroup.cpuset.mems', HYBRID_LEAF), '0');
  assert.equal(c.value('cgroup.memory.usage', HYBRID_LEAF), 184320n);
  assert.equal(c.value('cgroup.memory.limit', HYBRID_LEAF), 33554432n);
  assert.equal(c.value('cgroup.memory.failcnt', HYBRID_LEAF), 78n);
  assert.equal(c.value('cgroup.memory.stat.rss', HYBRID_LEAF), 110592n);
  assert.equal(c.value('cgroup.memory.stat.total.inactive_file', '/'), 158142464n);
  assert.equal(c.value('cgroup.blkio.dev.throttle.io_service_bytes.read', `${HYBRID_LEAF}::vda`), 8429568n);
  assert.equal(c.value('cgroup.blkio.dev.throttle.io_service_bytes.write', `${HYBRID_LEAF}::vda`), 8388608n);
  assert.equal(c.value('cgroup.blkio.dev.throttle.io_service_bytes.total', `${HYBRID_LEAF}::vda`), 16818176n);
  assert.equal(c.value('cgroup.blkio.all.throttle.io_service_bytes.write', HYBRID_LEAF), 8388608n);
  assert.equal(c.value('cgroup.blkio.all.throttle.io_serviced.read', HYBRID_LEAF), 14n);
  assert.equal(c.value('cgroup.blkio.all.io_service_bytes.read', HYBRID_LEAF), undefined, 'no CFQ-era files on Linux 6.18');
  assert.equal(c.value('cgroup.cpuacct.id.container', HYBRID_LEAF), '776a99802593d478844db0e0e3580293f0d315d61813082dfcf68b80f413d0c5');
  assert.equal(c.value('cgroup.memory.id.container', HYBRID_PARENT), '');
});

test('hybrid host: v2 names from the v1 files, and v1 wins over unified where both have the cgroup', async () => {
  const c = await onFixture('cgroup-hybrid-vm');
  // unified/<leaf>/cpu.stat says usage_usec 648524 (read a moment later); v1 cpuacct is the authority.
  assert.equal(c.value('cgroup.cpu.stat.usage', HYBRID_LEAF), 622018n);
  assert.equal(c.value('cgroup.cpu.stat.user', HYBRID_LEAF), 530000n);
  assert.equal(c.value('cgroup.memory.current', HYBRID_LEAF), 184320n);
  assert.equal(c.value('cgroup.io.stat.rbytes', `${HYBRID_LEAF}::vda`), 8429568n);
  assert.equal(c.value('cgroup.io.stat.wios', `${HYBRID_LEAF}::vda`), 8n);
  assert.equal(c.value('cgroup.io.stat.dbytes', '/::vda'), 19648512n, 'v1 Discard');
  // Pressure exists only in the unified tree.
  assert.equal(c.value('cgroup.pressure.cpu.some.avg10sec', HYBRID_LEAF), 12.68);
  assert.equal(c.value('cgroup.pressure.cpu.some.total', HYBRID_LEAF), 2347133n);
  assert.equal(c.value('cgroup.pressure.cpu.full.total', HYBRID_LEAF), 2334675n);
  assert.equal(c.value('cgroup.pressure.memory.full.total', HYBRID_LEAF), 460n);
});

test('hybrid host: Vigil\'s additions (limits, events, working set, pids)', async () => {
  const c = await onFixture('cgroup-hybrid-vm');
  assert.equal(c.value('cgroup.memory.max', HYBRID_LEAF), 33554432n);
  assert.equal(c.value('cgroup.memory.max_usage', HYBRID_LEAF), 33554432n);
  assert.equal(c.value('cgroup.memory.events.oom_kill', HYBRID_LEAF), 1n);
  assert.equal(c.value('cgroup.memory.events.max', HYBRID_LEAF), 78n);
  assert.equal(c.value('cgroup.memory.under_oom', HYBRID_LEAF), 0);
  assert.equal(c.value('cgroup.memory.swap.current', HYBRID_LEAF), 0n);
  // usage_in_bytes 424046592 minus total_inactive_file 158142464 (not the local inactive_file 57344).
  assert.equal(c.value('cgroup.memory.working_set', '/'), 265904128n);
  assert.equal(c.value('cgroup.pids.max', HYBRID_PARENT), 50n);
  assert.equal(c.value('cgroup.pids.max', HYBRID_LEAF), -1n);
  assert.equal(c.value('cgroup.pids.current', HYBRID_LEAF), 2n);
});

test('hybrid host: subsystems and mounts as PCP shows them', async () => {
  const c = await onFixture('cgroup-hybrid-vm');
  assert.equal(c.value('cgroup.subsys.count'), 12);
  assert.equal(c.value('cgroup.subsys.hierarchy', 'memory'), 4);
  assert.equal(c.value('cgroup.subsys.num_cgroups', 'cpu'), 5);
  assert.equal(c.value('cgroup.mounts.count'), 10);
  assert.equal(c.value('cgroup.mounts.subsys', '/sys/fs/cgroup/cpuacct'), 'cpuacct');
  assert.equal(c.value('cgroup.mounts.subsys', '/sys/fs/cgroup/systemd'), '?');
  assert.equal(c.value('cgroup.mounts.subsys', '/sys/fs/cgroup/unified'), '?');
});

test('one allocator: a cgroup has the same instance id in every cgroup indom', async () => {
  const c = await onFixture('cgroup-hybrid-vm');
  const ids = ['cgroup.cpuacct.usage', 'cgroup.cpusched.shares', 'cgroup.memory.usage', 'cgroup.cpu.stat.usage',
    'cgroup.blkio.all.throttle.io_serviced.read', 'cgroup.cpuset.cpus', 'cgroup.pids.current'].map((m) => c.idOf(m, HYBRID_LEAF));
  assert.ok(ids[0] !== undefined);
  assert.deepEqual(new Set(ids).size, 1, `ids ${ids.join(',')}`);
});

test('pure v2 host: PCP\'s v2 metrics and the v1 names computed from the v2 files', async () => {
  const c = await onFixture('cgroup-v2-vm');
  assert.equal(c.value('cgroup.cpu.stat.usage', V2_DOCKER), 59330547n);
  assert.equal(c.value('cgroup.cpu.stat.user', V2_DOCKER), 53364228n);
  assert.equal(c.value('cgroup.cpuacct.usage', V2_DOCKER), 59330547000n);
  assert.equal(c.value('cgroup.cpuacct.stat.user', V2_DOCKER), 53364n);
  assert.equal(c.value('cgroup.cpuacct.stat.system', V2_DOCKER), 5966n);
  assert.equal(c.value('cgroup.cpusched.cfs_quota', V2_DOCKER), 50000n);
  assert.equal(c.value('cgroup.cpusched.cfs_period', V2_DOCKER), 100000n);
  assert.equal(c.value('cgroup.cpusched.cfs_quota', V2_POD), -1n, 'cpu.max "max 100000"');
  assert.equal(c.value('cgroup.cpusched.shares', V2_DOCKER), 512n, 'cpu.weight 50 is 512 shares');
  assert.equal(c.value('cgroup.cpusched.shares', V2_KUBE), 1024n, 'cpu.weight 100 is 1024 shares');
  assert.equal(c.value('cgroup.cpusched.periods', V2_DOCKER), 1188n);
  assert.equal(c.value('cgroup.cpusched.throttled', V2_DOCKER), 1185n);
  assert.equal(c.value('cgroup.cpusched.throttled_time', V2_DOCKER), 95032110000n, 'throttled_usec in ns');
  assert.equal(c.value('cgroup.cpuset.cpus', V2_DOCKER), '0-1');
  assert.equal(c.value('cgroup.memory.current', V2_DOCKER), 286720n);
  assert.equal(c.value('cgroup.memory.usage', V2_DOCKER), 286720n);
  assert.equal(c.value('cgroup.memory.limit', V2_DOCKER), 33554432n);
  assert.equal(c.value('cgroup.memory.limit', V2_KUBE), 67108864n);
  assert.equal(c.value('cgroup.memory.limit', '/system.slice'), UNLIMITED, 'memory.max "max" reads as v1\'s unlimited');
  assert.equal(c.value('cgroup.memory.failcnt', V2_DOCKER), 73n, 'memory.events max');
  assert.equal(c.value('cgroup.memory.stat.anon', V2_DOCKER), 53248n);
  assert.equal(c.value('cgroup.memory.stat.rss', V2_DOCKER), 53248n);
  assert.equal(c.value('cgroup.memory.stat.total.rss', V2_DOCKER), 53248n);
  assert.equal(c.value('cgroup.memory.stat.slab', V2_DOCKER), 10400n);
  assert.equal(c.value('cgroup.memory.stat.swap', V2_DOCKER), 0n, 'memory.swap.current');
  assert.equal(c.value('cgroup.memory.usage', '/'), undefined, 'the v2 root has no memory.current');
  assert.ok(c.value('cgroup.memory.stat.anon', '/') !== undefined, 'but it has memory.stat');
  assert.equal(c.value('cgroup.io.stat.rbytes', `${V2_DOCKER}::ram0`), 4194304n);
  assert.equal(c.value('cgroup.io.stat.wios', `${V2_DOCKER}::ram0`), 128n);
  assert.equal(c.value('cgroup.blkio.dev.throttle.io_service_bytes.write', `${V2_DOCKER}::ram0`), 8388608n);
  assert.equal(c.value('cgroup.blkio.dev.throttle.io_service_bytes.total', `${V2_DOCKER}::ram0`), 12582912n);
  assert.equal(c.value('cgroup.blkio.all.throttle.io_serviced.total', V2_DOCKER), 192n);
  assert.equal(c.value('cgroup.pressure.cpu.some.avg10sec', V2_DOCKER), 36.85);
  assert.equal(c.value('cgroup.pressure.cpu.full.total', V2_DOCKER), 55270128n);
  assert.equal(c.value('cgroup.pids.max', V2_DOCKER), 20n);
  assert.equal(c.value('cgroup.pids.max', V2_KUBE), -1n);
  assert.equal(c.value('cgroup.hugetlb.usage', `${V2_DOCKER}::2MB`), 0n);
  assert.equal(c.value('cgroup.mounts.subsys', '/sys/fs/cgroup'), '?');
  assert.equal(c.value('cgroup.netclass.classid', V2_DOCKER), undefined, 'net_cls has no v2 counterpart');
});

test('pure v2 host: Vigil\'s additions from memory.max, memory.high, memory.events, memory.peak', async () => {
  const c = await onFixture('cgroup-v2-vm');
  assert.equal(c.value('cgroup.memory.max', V2_DOCKER), 33554432n);
  assert.equal(c.value('cgroup.memory.high', V2_DOCKER), 25165824n);
  assert.equal(c.value('cgroup.memory.high', V2_KUBE), UNLIMITED);
  assert.equal(c.value('cgroup.memory.swap.max', V2_DOCKER), UNLIMITED);
  assert.equal(c.value('cgroup.memory.max_usage', V2_DOCKER), 33554432n);
  assert.equal(c.value('cgroup.memory.events.high', V2_DOCKER), 2516n);
  assert.equal(c.value('cgroup.memory.events.oom', V2_DOCKER), 1n);
  assert.equal(c.value('cgroup.memory.events.oom_kill', V2_DOCKER), 1n);
  assert.equal(c.value('cgroup.memory.working_set', V2_DOCKER), 286720n);
});

test('pure v2 host: systemd and kubepods layouts, escapes decoded, container ids', async () => {
  const c = await onFixture('cgroup-v2-vm');
  const names = [...c.all('cgroup.cpu.stat.usage').keys()];
  assert.deepEqual(names, [
    '/', '/kubepods.slice', '/kubepods.slice/kubepods-burstable.slice', V2_POD, V2_KUBE,
    '/system.slice', V2_DOCKER, '/system.slice/system-serial-getty.slice',
  ]);
  assert.equal(c.value('cgroup.memory.id.container', V2_KUBE), '9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b');
  assert.equal(c.value('cgroup.cpusched.id.container', V2_DOCKER), '5e1f6ab2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e');
  assert.equal(c.value('cgroup.memory.id.container', V2_POD), '');
});

test('v1 host with co-mounted cpu,cpuacct: both families from one hierarchy, v2 names from v1', async () => {
  const c = await onFixture('cgroup-v1-vm');
  assert.equal(c.value('cgroup.cpusched.shares', V1_LEAF), 256n);
  assert.equal(c.value('cgroup.cpusched.cfs_quota', V1_LEAF), 30000n);
  assert.equal(c.value('cgroup.cpusched.throttled_time', V1_LEAF), 182512897600n);
  assert.equal(c.value('cgroup.cpuacct.usage', V1_LEAF), 34066818734n);
  assert.equal(c.value('cgroup.cpuacct.stat.user', V1_LEAF), 22870n);
  assert.equal(c.value('cgroup.cpu.stat.usage', V1_LEAF), 34066818n);
  assert.equal(c.value('cgroup.cpu.stat.system', V1_LEAF), 11180000n);
  assert.equal(c.value('cgroup.memory.current', V1_LEAF), c.value('cgroup.memory.usage', V1_LEAF));
  assert.equal(c.value('cgroup.memory.limit', V1_LEAF), 50331648n);
  assert.equal(c.value('cgroup.memory.failcnt', V1_LEAF), 323n);
  assert.equal(c.value('cgroup.memory.events.oom_kill', V1_LEAF), 1n);
  assert.equal(c.value('cgroup.io.stat.wbytes', `${V1_LEAF}::ram0`), 4194304n);
  assert.equal(c.value('cgroup.netclass.classid', V1_LEAF), 1048577n);
  assert.equal(c.value('cgroup.netclass.id.container', V1_LEAF), V1_ID);
  assert.equal(c.value('cgroup.hugetlb.usage', `${V1_LEAF}::2MB`), 4194304n);
  assert.equal(c.value('cgroup.hugetlb.usage', `${V1_LEAF}::1GB`), 0n);
  assert.equal(c.value('cgroup.pids.max', V1_LEAF), 30n);
  assert.equal(c.all('cgroup.pressure.cpu.some.total').size, 0, 'no cgroup2, no pressure');
  // The bind mount is listed among mounts, and its cgroups are not walked a second time.
  assert.equal(c.value('cgroup.mounts.subsys', '/mnt/cg space'), 'memory');
  assert.equal(c.value('cgroup.mounts.subsys', '/sys/fs/cgroup/cpu,cpuacct'), 'cpu,cpuacct');
  assert.deepEqual([...c.all('cgroup.memory.usage').keys()], ['/', '/docker', V1_LEAF]);
});

test('inside a container: cgroups are named relative to the visible mount\'s root', async () => {
  const c = await onFixture('cgroup-container-root');
  assert.deepEqual([...c.all('cgroup.memory.usage').keys()], ['/', '/app']);
  assert.equal(c.value('cgroup.memory.limit', '/'), 67108864n);
  assert.equal(c.value('cgroup.memory.usage', '/app'), BigInt(read('cgroup-container-root/sys/fs/cgroup/memory/app/memory.usage_in_bytes').trim()));
});

test('u64 values stay exact on the wire', async () => {
  const c = await onFixture('cgroup-hybrid-vm');
  const limit = c.value('cgroup.memory.limit', '/');
  assert.equal(typeof limit, 'bigint');
  assert.equal(valueJson('u64', limit!), '9223372036854771712');
  assert.equal(valueJson('u64', c.value('cgroup.cpuacct.usage', '/')!), read('cgroup-hybrid-vm/sys/fs/cgroup/cpuacct/cpuacct.usage').trim());
});

test('--sysfs: mount points under /sys are looked up below it, others as they stand', () => {
  assert.equal(hierarchyPath('/sys/fs/cgroup/cpu', '/host/sys'), '/host/sys/fs/cgroup/cpu');
  assert.equal(hierarchyPath('/sys/fs/cgroup/cpu', '/sys'), '/sys/fs/cgroup/cpu');
  assert.equal(hierarchyPath('/mnt/cg space', '/host/sys'), '/mnt/cg space');
  assert.equal(hierarchyPath('/sysroot/cgroup', '/host/sys'), '/sysroot/cgroup');
});

test('a cgroup that vanishes during the walk is skipped silently', async () => {
  const root = mkdtempSync(`${tmpdir()}/vigil-test-${process.pid}-`);
  try {
    cpSync(`${fixtures}cgroup-v2-vm/sys/fs/cgroup`, root, { recursive: true });
    const visited: string[] = [];
    await walkCgroups(root, ctx, (dir) => {
      visited.push(dir.name);
      if (dir.name === '/kubepods.slice') {
        // A sibling subtree and a file of this cgroup go away after the directory was listed.
        rmSync(`${root}/system.slice`, { recursive: true });
        rmSync(`${dir.path}/memory.stat`);
        assert.equal(dir.read('memory.stat'), undefined);
        assert.equal(dir.read('cpu.stat')?.startsWith('usage_usec'), true);
      }
    });
    assert.deepEqual(visited, ['/', '/kubepods.slice', '/kubepods.slice/kubepods-burstable.slice', V2_POD, V2_KUBE]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the collector copes with a missing hierarchy directory and an unknown block device, and names a bad file', async () => {
  const root = mkdtempSync(`${tmpdir()}/vigil-test-${process.pid}-`);
  try {
    cpSync(`${fixtures}cgroup-v2-vm`, root, { recursive: true });
    rmSync(`${root}/sys/dev/block/1:0`, { recursive: true });
    const c = await collect(cgroupCollector({ procfs: `${root}/proc`, sysfs: `${root}/sys` }));
    assert.equal(c.value('cgroup.io.stat.rbytes', `${V2_DOCKER}::1:0`), 4194304n, 'named by major:minor');
    writeFileSync(`${root}/sys/fs/cgroup${V2_DOCKER}/cpu.max`, '50000\n');
    await assert.rejects(collect(cgroupCollector({ procfs: `${root}/proc`, sysfs: `${root}/sys` })),
      new RegExp(`${V2_DOCKER.replaceAll('.', '\\.')}/cpu\\.max: cannot parse "50000\\\\n"`), 'a file it cannot parse is named');
    writeFileSync(`${root}/proc/self/mountinfo`, read('cgroup-v2-vm/proc/self/mountinfo').replace('/sys/fs/cgroup', '/sys/fs/nowhere'));
    const gone = await collect(cgroupCollector({ procfs: `${root}/proc`, sysfs: `${root}/sys` }));
    assert.equal(gone.all('cgroup.cpu.stat.usage').size, 0);
    assert.equal(gone.value('cgroup.mounts.count'), 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
