import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBlkioPerDevice, parseBlkioRwstat, parseUeventDevName } from '../../agent/parsers/cgroup-blkio.js';
import {
  MAX, parseCpuMax, parseFlatKeyed, parseNestedKeyed, parsePressure, parsePressureField, parseSingle, parseSpaceSeparated,
} from '../../agent/parsers/cgroup-formats.js';
import { cgroupInstanceName } from '../../agent/parsers/cgroup-path.js';
import { cgroupMounts, distinctHierarchies, parseMountInfo, unescapeMountField } from '../../agent/parsers/mountinfo.js';
import { parseProcCgroups } from '../../agent/parsers/proc-cgroups.js';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const read = (path: string): string => readFileSync(`${fixtures}${path}`, 'utf8');

const HYBRID_LEAF = 'vigil-test-20383-e9d8554c/docker/776a99802593d478844db0e0e3580293f0d315d61813082dfcf68b80f413d0c5';
const V2_DOCKER = 'system.slice/docker-5e1f6ab2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e.scope';
const V1_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';

function mountsOf(fixture: string) {
  const subsystems = new Set(parseProcCgroups(read(`${fixture}/proc/cgroups`)).map((s) => s.name));
  return cgroupMounts(parseMountInfo(read(`${fixture}/proc/self/mountinfo`)), subsystems);
}

test('mountinfo: every field of a line, optional fields included (proc(5) example)', () => {
  const [m] = parseMountInfo('36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n');
  assert.deepEqual(m, {
    mountId: 36, parentId: 35, device: '98:0', root: '/mnt1', mountPoint: '/mnt/parent',
    mountOptions: ['rw', 'noatime'], optionalFields: ['master:1', 'shared:7'], fsType: 'ext3',
    source: '/dev/root', superOptions: ['rw', 'errors=continue'],
  });
  assert.throws(() => parseMountInfo('36 35 98:0 /mnt1 /mnt/parent rw\n'), /mountinfo/);
});

test('mountinfo: octal escapes in paths are decoded', () => {
  assert.equal(unescapeMountField('/mnt/cg\\040space'), '/mnt/cg space');
  assert.equal(unescapeMountField('/a\\011tab\\012nl\\134back'), '/a\ttab\nnl\\back');
  const bind = mountsOf('cgroup-v1-vm').find((m) => m.mountPoint === '/mnt/cg space');
  assert.ok(bind, 'the bind mount at "/mnt/cg\\040space" is found under its decoded name');
  assert.equal(bind.root, `/docker/${V1_ID}`);
});

test('mountinfo: hybrid host, one controller per v1 hierarchy, a named one, cgroup2 unified', () => {
  const mounts = mountsOf('cgroup-hybrid-vm');
  assert.equal(mounts.length, 10);
  const byPoint = new Map(mounts.map((m) => [m.mountPoint, m]));
  assert.deepEqual(byPoint.get('/sys/fs/cgroup/cpu')?.controllers, ['cpu']);
  assert.deepEqual(byPoint.get('/sys/fs/cgroup/cpuacct')?.controllers, ['cpuacct']);
  assert.equal(byPoint.get('/sys/fs/cgroup/systemd')?.name, 'systemd');
  assert.deepEqual(byPoint.get('/sys/fs/cgroup/systemd')?.controllers, []);
  assert.equal(byPoint.get('/sys/fs/cgroup/unified')?.version, 2);
  assert.equal(byPoint.get('/sys/fs/cgroup/memory')?.version, 1);
  assert.equal(distinctHierarchies(mounts).length, 10);
});

test('mountinfo: co-mounted controllers form one hierarchy; a bind mount of it is not a second one', () => {
  const mounts = mountsOf('cgroup-v1-vm');
  const cpu = mounts.find((m) => m.mountPoint === '/sys/fs/cgroup/cpu,cpuacct');
  assert.deepEqual(cpu?.controllers, ['cpu', 'cpuacct']);
  assert.deepEqual(mounts.find((m) => m.mountPoint === '/sys/fs/cgroup/net_cls,net_prio')?.controllers, ['net_cls', 'net_prio']);
  assert.ok(mounts.every((m) => m.version === 1));
  const memory = distinctHierarchies(mounts).filter((m) => m.controllers.includes('memory'));
  assert.deepEqual(memory.map((m) => [m.mountPoint, m.root]), [['/sys/fs/cgroup/memory', '/']]);
});

test('mountinfo: pure v2 host has one cgroup2 mount and no controllers in super options', () => {
  const mounts = mountsOf('cgroup-v2-vm');
  assert.deepEqual(mounts.map((m) => [m.version, m.mountPoint, m.root]), [[2, '/sys/fs/cgroup', '/']]);
});

test('mountinfo: inside a container, the mount on top of a mount point wins, with its own root', () => {
  const hierarchies = distinctHierarchies(mountsOf('cgroup-container-root'));
  const memory = hierarchies.filter((m) => m.controllers.includes('memory'));
  assert.deepEqual(memory.map((m) => [m.mountPoint, m.root]), [['/sys/fs/cgroup/memory', '/vigil-test-725-fad4f342']]);
});

test('mountinfo: under a cgroup namespace, the host\'s mount (root /..) shows more than the namespace\'s own', () => {
  const mounts = mountsOf('cgroup-namespace');
  const memory = mounts.filter((m) => m.controllers.includes('memory'));
  assert.deepEqual(memory.map((m) => m.root), ['/..', '/']);
  const picked = distinctHierarchies(mounts).filter((m) => m.controllers.includes('memory'));
  assert.deepEqual(picked.map((m) => [m.mountPoint, m.root]), [['/sys/fs/cgroup/memory', '/..']]);
});

test('/proc/cgroups: hierarchy ids, cgroup counts, enabled flags', () => {
  const hybrid = parseProcCgroups(read('cgroup-hybrid-vm/proc/cgroups'));
  assert.equal(hybrid.length, 12);
  assert.deepEqual(hybrid.find((s) => s.name === 'cpu'), { name: 'cpu', hierarchy: 1, numCgroups: 5, enabled: 1 });
  assert.equal(hybrid.find((s) => s.name === 'hugetlb')?.hierarchy, 0);
  const v2 = parseProcCgroups(read('cgroup-v2-vm/proc/cgroups'));
  assert.ok(v2.every((s) => s.hierarchy === 0), 'on pure v2 no controller is on a v1 hierarchy');
  assert.throws(() => parseProcCgroups('cpu 1 x 1\n'), /proc\/cgroups/);
});

test('single values: integers exact past 2^53, signed, and "max"', () => {
  assert.equal(parseSingle(read('cgroup-hybrid-vm/sys/fs/cgroup/memory/memory.limit_in_bytes')), 9223372036854771712n);
  assert.equal(parseSingle('18446744073709551615\n'), 18446744073709551615n);
  assert.equal(parseSingle(read('cgroup-hybrid-vm/sys/fs/cgroup/cpu/cpu.cfs_quota_us')), -1n);
  assert.equal(parseSingle(read(`cgroup-v2-vm/sys/fs/cgroup/${V2_DOCKER}/memory.swap.max`)), MAX);
  assert.throws(() => parseSingle('12 34\n'), /12 34/);
});

test('cpu.max: quota and period, "max" quota', () => {
  assert.deepEqual(parseCpuMax(read(`cgroup-v2-vm/sys/fs/cgroup/${V2_DOCKER}/cpu.max`)), { quota: 50000n, period: 100000n });
  const pod = 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_5b6a_4789_8a7b_6c5d4e3f2a1b.slice';
  assert.deepEqual(parseCpuMax(read(`cgroup-v2-vm/sys/fs/cgroup/${pod}/cpu.max`)), { quota: MAX, period: 100000n });
  assert.throws(() => parseCpuMax('max\n'), /PERIOD/);
});

test('flat keyed files: memory.stat, cpu.stat, oom_control', () => {
  const stat = parseFlatKeyed(read('cgroup-hybrid-vm/sys/fs/cgroup/memory/memory.stat'));
  assert.equal(stat.get('hierarchical_memory_limit'), 9223372036854771712n);
  assert.equal(stat.get('total_inactive_file'), 158142464n);
  assert.equal(stat.get('workingset_refault_file'), 889n);
  const cpu = parseFlatKeyed(read(`cgroup-v2-vm/sys/fs/cgroup/${V2_DOCKER}/cpu.stat`));
  assert.deepEqual([cpu.get('usage_usec'), cpu.get('nr_throttled'), cpu.get('throttled_usec')], [59330547n, 1185n, 95032110n]);
  const oom = parseFlatKeyed(read(`cgroup-hybrid-vm/sys/fs/cgroup/memory/${HYBRID_LEAF}/memory.oom_control`));
  assert.deepEqual([...oom], [['oom_kill_disable', 0n], ['under_oom', 0n], ['oom_kill', 1n]]);
  assert.deepEqual([...parseFlatKeyed('a 1\nb x\nc 2')], [['a', 1n], ['c', 2n]], 'non-integer lines are skipped');
});

test('flat keyed with a few wanted keys: the same values as a full parse, whatever line they are on', () => {
  const text = read('cgroup-hybrid-vm/sys/fs/cgroup/memory/memory.stat');
  const all = parseFlatKeyed(text);
  const first = text.slice(0, text.indexOf(' '));
  const wanted = new Set([first, 'total_inactive_file', 'inactive_file', 'no_such_key']);
  assert.deepEqual(parseFlatKeyed(text, wanted), new Map([...wanted].filter((k) => all.has(k)).map((k) => [k, all.get(k)!])));
  assert.equal(parseFlatKeyed(text, wanted).get(first), all.get(first), 'the first line is found too');
  assert.deepEqual([...parseFlatKeyed('total_file 7\nfile 3\nb x\nfile_dirty 5', new Set(['file', 'b']))], [['file', 3n]],
    'a key is not matched inside or as a prefix of another, and a non-integer value is skipped');
});

test('nested keyed files: io.stat per device', () => {
  const io = parseNestedKeyed(read(`cgroup-v2-vm/sys/fs/cgroup/${V2_DOCKER}/io.stat`));
  assert.deepEqual([...io.keys()], ['1:0']);
  assert.deepEqual(Object.fromEntries(io.get('1:0')!), { rbytes: 4194304n, wbytes: 8388608n, rios: 64n, wios: 128n, dbytes: 0n, dios: 0n });
  assert.equal(parseNestedKeyed(read('cgroup-v2-vm/sys/fs/cgroup/io.stat')).get('1:0')?.size, 0, 'the root lists a device without counters');
});

test('pressure files: some and full lines; full alone (irq.pressure)', () => {
  const cpu = parsePressure(read(`cgroup-v2-vm/sys/fs/cgroup/${V2_DOCKER}/cpu.pressure`));
  assert.deepEqual(cpu, {
    some: { avg10: 36.85, avg60: 35.55, avg300: 15.8, total: 59199019n },
    full: { avg10: 36.24, avg60: 33.97, avg300: 14.83, total: 55270128n },
  });
  // irq.pressure has only a "full" line (Documentation/accounting/psi.rst); no host here has one.
  assert.deepEqual(parsePressure('full avg10=0.12 avg60=0.05 avg300=0.01 total=4242\n'), {
    full: { avg10: 0.12, avg60: 0.05, avg300: 0.01, total: 4242n },
  });
  assert.throws(() => parsePressure('some avg10=x avg60=0 avg300=0 total=0\n'), /decimal/);
  const text = read(`cgroup-v2-vm/sys/fs/cgroup/${V2_DOCKER}/cpu.pressure`);
  for (const line of ['some', 'full'] as const) {
    for (const field of ['avg10', 'avg60', 'avg300', 'total'] as const) {
      assert.equal(parsePressureField(text, line, field), cpu[line]![field], `${line} ${field}: one value alone is what the whole parse gives`);
    }
  }
  assert.equal(parsePressureField('full avg10=0.12 avg60=0.05 avg300=0.01 total=4242\n', 'some', 'avg10'), undefined);
  assert.equal(parsePressureField('full avg10=0.12 avg60=0.05 avg300=0.01 total=4242', 'full', 'total'), 4242n, 'no closing newline');
  assert.throws(() => parsePressureField('some avg10=x avg60=0 avg300=0 total=0\n', 'some', 'avg10'), /decimal/);
  assert.throws(() => parsePressureField('some avg10=0.00 avg60=0.00\nfull avg10=0 avg60=0 avg300=0 total=0\n', 'some', 'total'), /total=/,
    'a field is looked for on its own line only');
});

test('cpuacct.usage_percpu: one value per CPU', () => {
  assert.deepEqual(parseSpaceSeparated(read(`cgroup-hybrid-vm/sys/fs/cgroup/cpuacct/${HYBRID_LEAF}/cpuacct.usage_percpu`)), [158143779n, 463874424n]);
});

test('blkio: per-device operations, the closing Total line skipped; per-device values', () => {
  const bytes = parseBlkioRwstat(read(`cgroup-hybrid-vm/sys/fs/cgroup/blkio/${HYBRID_LEAF}/blkio.throttle.io_service_bytes`));
  assert.deepEqual([...bytes.keys()], ['254:0']);
  assert.deepEqual(bytes.get('254:0'), { Read: 8429568n, Write: 8388608n, Sync: 16818176n, Async: 0n, Discard: 0n, Total: 16818176n });
  assert.equal(parseBlkioRwstat('Total 0\n').size, 0);
  assert.throws(() => parseBlkioRwstat('254:0 Frobnicate 1\n'), /Frobnicate/);
  assert.deepEqual([...parseBlkioPerDevice('8:0 1234\n8:16 5\n')], [['8:0', 1234n], ['8:16', 5n]]);
});

test('uevent: the block device name', () => {
  assert.equal(parseUeventDevName(read('cgroup-hybrid-vm/sys/dev/block/254:0/uevent')), 'vda');
  assert.equal(parseUeventDevName(read('cgroup-v2-vm/sys/dev/block/1:0/uevent')), 'ram0');
  assert.equal(parseUeventDevName('MAJOR=1\n'), undefined);
});

test('instance names: "/" for the mount point, systemd escapes decoded', () => {
  assert.equal(cgroupInstanceName(''), '/');
  assert.equal(cgroupInstanceName('/docker/abc'), '/docker/abc');
  assert.equal(cgroupInstanceName('/system.slice/system-serial\\x2dgetty.slice'), '/system.slice/system-serial-getty.slice');
});
