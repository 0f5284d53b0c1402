import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCollectors } from '../../agent/collectors/index.js';
import { TCP_STATES_MS, TcpStateCache, collectNetwork, networkCollector } from '../../agent/collectors/network.js';
import type { CollectContext, Collector, Roots } from '../../agent/collectors/types.js';
import { networkFamily } from '../../agent/metrics/network.js';
import { MetricTable } from '../../agent/metrics/table.js';
import { is64, type Value } from '../../agent/metrics/types.js';
import { isWholeDisk } from '../../agent/parsers/diskstats.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';
import { descriptorsOn } from '../support/descriptors.js';

const HOST = ['stat', 'kernel', 'pmcd', 'pressure', 'meminfo', 'vmstat', 'disk', 'network'];
const FIXTURE = fileURLToPath(new URL('../fixtures/host-vm', import.meta.url));
const fixtureRoots: Roots = { procfs: `${FIXTURE}/proc`, sysfs: `${FIXTURE}/sys`, root: FIXTURE };
const liveRoots: Roots = { procfs: '/proc', sysfs: '/sys' };

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});
function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `vigil-test-${process.pid}-`));
  scratch.push(dir);
  return dir;
}

interface Pass {
  table: MetricTable;
  sample: Sample;
  unreadable: string[];
  /** `metric\tinstance` ('' for singular) → value. */
  values: Map<string, Value>;
  /** `metric\tinstance` → instance id. */
  ids: Map<string, number>;
}

/** One sampling pass over the given collectors into a fresh table, as the sampler does it. */
async function collectOnce(
  collectors: readonly Collector[],
  table = new MetricTable(collectors.map((c) => c.family)),
  wants: (metric: string) => boolean = () => true,
): Promise<Pass> {
  const sample = new Sample(Date.now());
  const unreadable: string[] = [];
  const ctx: CollectContext = { wants, unreadable: (key) => unreadable.push(key) };
  for (const collector of collectors) {
    const buffer = new CollectorBuffer(table, sample.time);
    await collector.collect(buffer, ctx);
    buffer.mergeInto(sample);
  }
  const values = new Map<string, Value>();
  const ids = new Map<string, number>();
  for (const [name, byId] of sample.values) {
    const indom = table.metric(name)!.indom;
    for (const [id, value] of byId) {
      const key = `${name}\t${indom === null ? '' : sample.instanceName(indom, id)}`;
      values.set(key, value);
      ids.set(key, id);
    }
  }
  return { table, sample, unreadable, values, ids };
}

/** pcp-values.txt (`pminfo -f`): `metric\tinstance` → the value as printed, and the instance id. */
function pcpValues(): Map<string, { id?: number; text: string }> {
  const values = new Map<string, { id?: number; text: string }>();
  let metric = '';
  for (const line of readFileSync(join(FIXTURE, 'pcp-values.txt'), 'utf8').split('\n')) {
    const inst = /^\s+inst \[(\d+) or "(.*)"\] value (.*)$/.exec(line);
    const single = /^\s+value (.*)$/.exec(line);
    if (inst) values.set(`${metric}\t${inst[2]}`, { id: Number(inst[1]), text: inst[3]! });
    else if (single) values.set(`${metric}\t`, { text: single[1]! });
    else if (/^[a-z]/.test(line)) metric = line.trim();
  }
  return values;
}

/** Whether our value equals what pminfo printed for a metric of this type. */
function samePrinted(type: string, ours: Value, printed: string): boolean {
  if (type === 'string') return ours === JSON.parse(printed);
  if (type === 'float') return Math.fround(Number(ours)) === Math.fround(Number(printed));
  if (type === 'double') return ours === Number(printed);
  return BigInt(ours) === BigInt(printed);
}

test('on the fixture tree every host metric equals what PCP\'s own linux PMDA reports for the same files', async () => {
  const pass = await collectOnce(createCollectors(fixtureRoots, HOST));
  // What PCP takes from the live host rather than the tree (SOURCE.md): getpagesize(), and
  // ethtool's speed, which for virtio is "unknown" (sysfs says -1) and PCP prints as 4294967295 Mbit/s.
  const fromLiveHost = /^(hinv\.pagesize|network\.interface\.(speed|baudrate))\t/;
  const pcp = new Map([...pcpValues()].filter(([key]) => pass.table.metric(key.split('\t')[0]!) && !fromLiveHost.test(key)));
  assert.ok(pcp.size > 650, `PCP reported ${pcp.size} comparable values`);

  const mismatches: string[] = [];
  for (const [key, { id, text }] of pcp) {
    const ours = pass.values.get(key);
    const type = pass.table.metric(key.split('\t')[0]!)!.type;
    if (ours === undefined) mismatches.push(`${key}: PCP ${text}, Vigil none`);
    else if (!samePrinted(type, ours, text)) mismatches.push(`${key}: PCP ${text}, Vigil ${String(ours)}`);
    else if (id !== undefined && pass.ids.get(key) !== id) {
      mismatches.push(`${key}: PCP instance ${id}, Vigil instance ${pass.ids.get(key)}`);
    }
  }
  assert.deepEqual(mismatches, []);
  // And nothing PCP would not report, apart from pmcd's identity (not a linux PMDA metric).
  const extra = [...pass.values.keys()].filter((key) => !pcp.has(key) && !key.startsWith('pmcd.') && !fromLiveHost.test(key));
  assert.deepEqual(extra, []);
  // This kernel has no /proc/pressure/irq: its metrics are absent, not zero.
  assert.equal(pass.values.get('kernel.all.pressure.irq.full.total\t'), undefined);
  assert.equal(pass.values.get('kernel.all.pressure.cpu.some.total\t'), 25762972n);
  assert.deepEqual(pass.unreadable, []);
});

test('a pass that wants one host metric gets the values for it that a pass wanting everything gets', async () => {
  // Collectors convert and put only what is wanted: a metric computed from fields that feed
  // other metrics (mem.util.used, mem.vmstat.pgsteal_total, disk.all.*) must not lose them.
  const collectors = createCollectors(fixtureRoots, HOST);
  const table = new MetricTable(collectors.map((c) => c.family));
  const everything = await collectOnce(collectors, table);
  const valuesOf = (pass: Pass, name: string): Array<[string, Value]> => [...pass.values].filter(([key]) => key.startsWith(`${name}\t`));
  const names = new Set([...everything.values.keys()].map((key) => key.split('\t')[0]!));
  assert.ok(names.size > 600, `${names.size} metrics have values`);
  const differ: string[] = [];
  for (const name of names) {
    const alone = await collectOnce(collectors, table, (metric) => metric === name);
    if (JSON.stringify(valuesOf(alone, name), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) !==
      JSON.stringify(valuesOf(everything, name), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) differ.push(name);
  }
  assert.deepEqual(differ, []);
  const nothing = await collectOnce(collectors, table, () => false);
  // Only a few scalars of files read anyway, which cost less to put than to ask about.
  assert.ok(nothing.values.size < 15, `a pass that wants nothing puts almost nothing (${[...nothing.values.keys()].join(', ')})`);
});

test('the hostname is read every pass (sethostname changes it); uname fields and the distribution once', async () => {
  const dir = scratchDir();
  cpSync(FIXTURE, dir, { recursive: true });
  const [kernel] = createCollectors({ procfs: join(dir, 'proc'), sysfs: join(dir, 'sys'), root: dir }, ['kernel']);
  const first = await collectOnce([kernel!]);
  writeFileSync(join(dir, 'proc/sys/kernel/hostname'), 'renamed\n');
  const second = await collectOnce([kernel!]);
  assert.notEqual(first.values.get('kernel.uname.nodename\t'), 'renamed');
  assert.equal(second.values.get('kernel.uname.nodename\t'), 'renamed');
  assert.equal(second.values.get('kernel.uname.release\t'), first.values.get('kernel.uname.release\t'));
  assert.ok(second.values.get('kernel.uname.release\t'));
});

test('on the real /proc: values for every family, u64 as bigint, percpu instances cpuN with id N', async () => {
  const pass = await collectOnce(createCollectors(liveRoots, HOST));
  for (const [name, byId] of pass.sample.values) {
    const desc = pass.table.metric(name)!;
    for (const value of byId.values()) {
      if (is64(desc.type)) assert.equal(typeof value, 'bigint', `${name} is ${desc.type}`);
      else if (desc.type === 'string') assert.equal(typeof value, 'string', name);
      else assert.equal(typeof value, 'number', name);
    }
  }
  const present = ['kernel.all.cpu.user\t', 'kernel.all.pswitch\t', 'kernel.all.uptime\t', 'kernel.uname.release\t',
    'pmcd.hostname\t', 'pmcd.version\t', 'kernel.all.pressure.cpu.some.total\t', 'mem.util.used\t', 'mem.physmem\t',
    'mem.vmstat.pgfault\t', 'disk.all.read\t', 'network.interface.in.bytes\tlo', 'network.interface.up\tlo',
    'network.tcp.retranssegs\t', 'network.tcpconn.listen\t'];
  assert.deepEqual(present.filter((key) => !pass.values.has(key)), []);

  const stat = readFileSync('/proc/stat', 'utf8');
  const cpuLines = stat.split('\n').filter((l) => /^cpu\d+ /.test(l));
  for (const line of cpuLines) {
    const [name, user] = line.split(/\s+/) as [string, string];
    const key = `kernel.percpu.cpu.user\t${name}`;
    assert.equal(pass.ids.get(key), Number(name.slice(3)), `${name} has id ${name.slice(3)}`);
    // Ticks → ms: at most the later reading, and within the 2 s our read can precede it.
    const ms = pass.values.get(key) as bigint;
    assert.ok(ms <= BigInt(user) * 10n && ms >= BigInt(user) * 10n - 2000n, `${key} ${ms} vs ${user} ticks`);
  }
  assert.equal(pass.values.get('hinv.ncpu\t'), cpuLines.length);
  assert.equal(pass.values.get('hinv.pagesize\t'), Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' })));
  assert.equal(pass.values.get('kernel.uname.release\t'), execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());

  const instances = (metric: string): string[] =>
    [...pass.values.keys()].filter((k) => k.startsWith(`${metric}\t`)).map((k) => k.split('\t')[1]!);
  const diskstats = readFileSync('/proc/diskstats', 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/)[2]!);
  assert.deepEqual(instances('disk.dev.read'), diskstats.filter(isWholeDisk));
  const netdev = readFileSync('/proc/net/dev', 'utf8').trim().split('\n').slice(2).map((l) => l.split(':')[0]!.trim());
  assert.deepEqual(instances('network.interface.in.bytes'), netdev);
});

test('on the real /proc, host files are read through descriptors kept between passes, and read afresh', async () => {
  const before = descriptorsOn('/proc/stat');
  const [stat] = createCollectors(liveRoots, ['stat']);
  const table = new MetricTable([stat!.family]);
  const first = await collectOnce([stat!], table);
  assert.equal(descriptorsOn('/proc/stat'), before + 1, 'the collector keeps /proc/stat open');
  await new Promise((resolve) => setTimeout(resolve, 20));
  const second = await collectOnce([stat!], table);
  assert.equal(descriptorsOn('/proc/stat'), before + 1, 'and reads it again through the same descriptor');
  const switches = (pass: Pass): bigint => pass.values.get('kernel.all.pswitch\t') as bigint;
  assert.ok(switches(second) > switches(first), 'with the values of the moment, not those of the first read');

  const [meminfo] = createCollectors(liveRoots, ['meminfo']);
  const memTable = new MetricTable([meminfo!.family]);
  const memBefore = descriptorsOn('/proc/meminfo');
  await collectOnce([meminfo!], memTable);
  assert.equal(descriptorsOn('/proc/meminfo'), memBefore + 1);
  await collectOnce([meminfo!], memTable, () => false);
  await collectOnce([meminfo!], memTable, () => false);
  assert.equal(descriptorsOn('/proc/meminfo'), memBefore, 'a file the passes no longer read is closed');
});

test('on the real /sys, link state is read through kept descriptors, one per file, and agrees with the files', async () => {
  // /sys/class/net/lo is a link to the device's directory: a descriptor reads as the real path.
  const mtu = realpathSync('/sys/class/net/lo/mtu');
  const before = descriptorsOn(mtu);
  const [network] = createCollectors(liveRoots, ['network']);
  const table = new MetricTable([network!.family]);
  for (let pass = 0; pass < 3; pass++) {
    const { values } = await collectOnce([network!], table);
    assert.equal(values.get('network.interface.mtu\tlo'), Number(readFileSync(mtu, 'utf8')));
    assert.equal(values.get('network.interface.up\tlo'), 1);
    assert.equal(descriptorsOn(mtu), before + 1, `pass ${pass}: one kept descriptor on ${mtu}`);
  }
  // Loopback has no speed (EINVAL): no value, and no descriptor left on it.
  const { values } = await collectOnce([network!], table);
  assert.equal(values.get('network.interface.speed\tlo'), undefined);
  assert.equal(descriptorsOn(realpathSync('/sys/class/net/lo/speed')), 0);
  // A pass that no longer wants link state lets its descriptors go.
  const noLinkState = (metric: string): boolean => !/^network\.interface\.(mtu|up|running|speed|duplex|baudrate)$/.test(metric);
  await collectOnce([network!], table, noLinkState);
  await collectOnce([network!], table, noLinkState);
  assert.equal(descriptorsOn(mtu), before);
});

test('missing kernel files leave their metrics absent and throw nothing', async () => {
  const empty = scratchDir();
  const pass = await collectOnce(createCollectors({ procfs: join(empty, 'proc'), sysfs: join(empty, 'sys'), root: empty }, HOST));
  assert.deepEqual([...pass.values.keys()], ['pmcd.version\t']);
});

test('a malformed kernel file fails its collector with an error naming the file and the line', async () => {
  const dir = scratchDir();
  mkdirSync(join(dir, 'proc'));
  writeFileSync(join(dir, 'proc/stat'), 'cpu  1 2 x 4\n');
  const [stat] = createCollectors({ procfs: join(dir, 'proc'), sysfs: join(dir, 'sys') }, ['stat']);
  await assert.rejects(
    collectOnce([stat!]),
    (error: Error) => error.message.includes(`${dir}/proc/stat`) && error.message.includes('"cpu  1 2 x 4"'),
  );
});

test('iowait that steps back a little holds at its last value, a large drop passes (as PCP does)', async () => {
  const dir = scratchDir();
  mkdirSync(join(dir, 'proc'));
  const [stat] = createCollectors({ procfs: join(dir, 'proc'), sysfs: join(dir, 'sys') }, ['stat']);
  const table = new MetricTable([stat!.family]);
  const iowaitAfter = async (ticks: number): Promise<Value | undefined> => {
    writeFileSync(join(dir, 'proc/stat'), `cpu  1 0 1 1 ${ticks} 0 0 0 0 0\ncpu0 1 0 1 1 ${ticks} 0 0 0 0 0\n`);
    const pass = await collectOnce([stat!], table);
    assert.equal(pass.values.get('kernel.percpu.cpu.wait.total\tcpu0'), pass.values.get('kernel.all.cpu.wait.total\t'));
    return pass.values.get('kernel.all.cpu.wait.total\t');
  };
  assert.equal(await iowaitAfter(1000), 10000n);
  assert.equal(await iowaitAfter(950), 10000n);
  assert.equal(await iowaitAfter(1010), 10100n);
  assert.equal(await iowaitAfter(10), 100n);
});

test('collectNetwork reads the network namespace whose net directory it is given', async (t) => {
  const table = new MetricTable([networkFamily]);
  const networkOf = async (netDir: string, classNetDir?: string): Promise<Pass> =>
    collectOnce([{ name: 'network', family: networkFamily, collect: (out, ctx) => collectNetwork(netDir, out, ctx, { classNetDir }) }], table);

  const fixture = await networkOf(`${FIXTURE}/proc/net`);
  assert.equal(fixture.values.get('network.interface.in.bytes\teth0'), 337729873n);
  assert.equal(fixture.values.get('network.interface.mtu\teth0'), undefined, 'no link state without a /sys/class/net');

  let child: ChildProcess | undefined;
  t.after(() => {
    child?.kill('SIGKILL');
  });
  child = spawn('unshare', ['--net', '--', 'sleep', '300'], { stdio: 'ignore' });
  const ours = readlinkSync('/proc/self/ns/net');
  let entered = false;
  for (let i = 0; i < 100 && !entered && child.exitCode === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    try {
      entered = readlinkSync(`/proc/${child.pid}/ns/net`) !== ours;
    } catch {
      break;
    }
  }
  if (!entered) {
    t.skip('cannot create a network namespace here (unshare --net needs root)');
    return;
  }
  // A fresh namespace has only a loopback that never carried a byte, whatever the host has.
  const inside = await networkOf(`/proc/${child.pid}/net`);
  const host = await networkOf('/proc/net');
  assert.deepEqual([...inside.values.keys()].filter((k) => k.startsWith('network.interface.in.bytes\t')), ['network.interface.in.bytes\tlo']);
  assert.equal(inside.values.get('network.interface.in.bytes\tlo'), 0n);
  assert.equal(inside.values.get('network.ip.inreceives\t'), 0n);
  assert.equal(inside.values.get('network.tcpconn.listen\t'), 0);
  assert.ok([...host.values.keys()].some((k) => k.startsWith('network.interface.in.bytes\t') && !k.endsWith('\tlo')));
});

test('kernel.uname.distro comes from the release file under the host root (Roots.root), not the agent\'s /etc', async () => {
  const dir = scratchDir();
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'etc/debian_version'), '13.1\n');
  const [kernel] = createCollectors({ procfs: join(dir, 'proc'), sysfs: join(dir, 'sys'), root: dir }, ['kernel']);
  const pass = await collectOnce([kernel!]);
  assert.equal(pass.values.get('kernel.uname.distro\t'), 'Debian 13.1');
  assert.equal(pass.values.get('kernel.uname.nodename\t'), readFileSync(join(FIXTURE, 'proc/sys/kernel/hostname'), 'utf8').trim());
});

test('stale TCP state counts are read again in the background: passes serve the old counts until the new ones are in', async () => {
  const root = mkdtempSync(`${tmpdir()}/vigil-tcp-`);
  try {
    cpSync(`${FIXTURE}/proc/net/tcp`, `${root}/tcp`);
    const cache = new TcpStateCache();
    const ctx = { unreadable: () => undefined, wants: () => true } as unknown as Parameters<TcpStateCache['read']>[1];
    const before = cache.read(`${root}/tcp`, ctx, 0)!.listen;
    const tcp = readFileSync(`${root}/tcp`, 'utf8').split('\n');
    writeFileSync(`${root}/tcp`, [...tcp.slice(0, 2), tcp[1]!.replace(/^(\s*)\d+:/, '$1999:'), ...tcp.slice(2)].join('\n'));
    assert.equal(cache.read(`${root}/tcp`, ctx, TCP_STATES_MS - 1)!.listen, before, 'fresh enough: not read');
    // Stale: this pass still gets the old counts (the read is under way, off the event loop)...
    assert.equal(cache.read(`${root}/tcp`, ctx, TCP_STATES_MS)!.listen, before, 'a stale table does not block the pass');
    // ...and a later pass the new ones.
    let after = before;
    for (let i = 0; i < 100 && after === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      after = cache.read(`${root}/tcp`, ctx, TCP_STATES_MS + 1)!.listen;
    }
    assert.equal(after, before + 1, 'the background read brought the new listening socket');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('TCP state counts are read at most every TCP_STATES_MS; the other network files every pass', async () => {
  // The kernel walks its whole socket hash to print /proc/net/tcp (milliseconds on a big host).
  const root = mkdtempSync(`${tmpdir()}/vigil-tcp-`);
  try {
    cpSync(`${FIXTURE}/proc/net`, `${root}/net`, { recursive: true });
    const pass = async (): Promise<Pass> => collectOnce([networkCollector({ procfs: root, sysfs: `${root}/no-sys` })]);
    const first = await pass();
    const tcp = readFileSync(`${root}/net/tcp`, 'utf8').split('\n');
    // One more listening socket (state 0A), and more bytes on every interface.
    writeFileSync(`${root}/net/tcp`, [...tcp.slice(0, 2), tcp[1]!.replace(/^(\s*)\d+:/, '$1999:'), ...tcp.slice(2)].join('\n'));
    writeFileSync(`${root}/net/dev`, readFileSync(`${root}/net/dev`, 'utf8').replace(/(lo:\s*)(\d+)/, (_, head, n) => `${head}${Number(n) + 1000}`));
    const second = await pass();
    assert.notEqual(second.values.get('network.interface.in.bytes\tlo'), first.values.get('network.interface.in.bytes\tlo'), 'net/dev is read every pass');
    assert.equal(second.values.get('network.tcpconn.listen\t'), first.values.get('network.tcpconn.listen\t'), 'net/tcp is not read again within TCP_STATES_MS');
    assert.ok(TCP_STATES_MS <= 10_000, 'state counts are at most 10 s old');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
