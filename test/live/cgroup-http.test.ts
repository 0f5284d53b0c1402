import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestAgent, type Fetched } from '../support/agent.js';
import { TestCgroup, readCounter, readKeyed, untilOutput } from '../support/cgroup.js';

// Real cgroups (v1 controllers plus the unified hierarchy of a hybrid host) with real workloads,
// read through the agent's HTTP API. Every served value is checked against the kernel file the
// test reads itself just before and just after the agent's sample: the agent must lie between.

const MiB = 1n << 20n;
/** Vigil's own metric (domain 500): PCP has no OOM-kill count. */
const OOM_KILL = 'cgroup.memory.events.oom_kill';

let agent: TestAgent;
before(async () => {
  agent = await TestAgent.start();
});
after(async () => {
  await agent?.close();
});

/** Kernel values read before and after one agent sample, which therefore read them in between. */
interface Bracket<K> {
  before: K;
  served: Fetched;
  after: K;
}

async function sampleBetween<K>(names: readonly string[], readKernel: () => K): Promise<Bracket<K>> {
  const before = readKernel();
  const served = await agent.fetchFresh(names);
  return { before, served, after: readKernel() };
}

function assertBetween(low: bigint, value: bigint, high: bigint, what: string): void {
  assert.ok(low <= value && value <= high, `${what}: agent served ${value}, the kernel read ${low} before and ${high} after`);
}

describe('CPU of a busy loop under a 20% CFS quota', () => {
  let cg: TestCgroup;
  after(async () => {
    await cg?.destroy();
  });

  it('cpuacct.usage, cpu.stat.usage and the throttling counters move as the kernel says', async (t) => {
    cg = new TestCgroup();
    cg.set('cpu', 'cpu.cfs_period_us', 100_000);
    cg.set('cpu', 'cpu.cfs_quota_us', 20_000);
    await cg.spawn('/bin/sh', ['-c', 'while :; do :; done']);
    await sleep(300);

    const i = cg.path;
    const names = [
      'cgroup.cpuacct.usage', 'cgroup.cpu.stat.usage', 'cgroup.cpusched.periods', 'cgroup.cpusched.throttled',
      'cgroup.cpusched.throttled_time', 'cgroup.cpusched.cfs_quota', 'cgroup.cpusched.cfs_period',
    ];
    const kernel = () => {
      const stat = readKeyed(`${cg.dir('cpu')}/cpu.stat`);
      return {
        usage: readCounter(`${cg.dir('cpuacct')}/cpuacct.usage`),
        usageUsec: readKeyed(`${cg.unified}/cpu.stat`).get('usage_usec')!,
        periods: stat.get('nr_periods')!,
        throttled: stat.get('nr_throttled')!,
        throttledTime: stat.get('throttled_time')!,
      };
    };
    const samples = [await sampleBetween(names, kernel)];
    await sleep(3000);
    samples.push(await sampleBetween(names, kernel));

    for (const { before, served, after } of samples) {
      assertBetween(before.usage, served.bigint('cgroup.cpuacct.usage', i), after.usage, 'cgroup.cpuacct.usage (ns)');
      assertBetween(before.usageUsec, served.bigint('cgroup.cpu.stat.usage', i), after.usageUsec, 'cgroup.cpu.stat.usage (µs)');
      assertBetween(before.periods, served.bigint('cgroup.cpusched.periods', i), after.periods, 'cgroup.cpusched.periods');
      assertBetween(before.throttled, served.bigint('cgroup.cpusched.throttled', i), after.throttled, 'cgroup.cpusched.throttled');
      assertBetween(before.throttledTime, served.bigint('cgroup.cpusched.throttled_time', i), after.throttledTime,
        'cgroup.cpusched.throttled_time (ns)');
      // PCP's units are microseconds for both; PCP 6.0.3 itself serves -2 (-ENOENT) for the quota on this host.
      assert.equal(served.bigint('cgroup.cpusched.cfs_quota', i), 20_000n, 'cgroup.cpusched.cfs_quota (µs)');
      assert.equal(served.bigint('cgroup.cpusched.cfs_period', i), 100_000n, 'cgroup.cpusched.cfs_period (µs)');
    }

    const [a, b] = samples as [(typeof samples)[0], (typeof samples)[0]];
    const seconds = b.served.time - a.served.time;
    const ns = b.served.bigint('cgroup.cpuacct.usage', i) - a.served.bigint('cgroup.cpuacct.usage', i);
    const usec = b.served.bigint('cgroup.cpu.stat.usage', i) - a.served.bigint('cgroup.cpu.stat.usage', i);
    const cores = Number(ns) / 1e9 / seconds;
    assert.ok(cores > 0.1 && cores < 0.3, `cgroup.cpuacct.usage grew ${cores.toFixed(3)} CPU-s/s under a 0.2-CPU quota`);
    const coresV2 = Number(usec) / 1e6 / seconds;
    t.diagnostic(`over ${seconds.toFixed(2)} s: cpuacct.usage ${cores.toFixed(3)} CPUs, cpu.stat.usage ${coresV2.toFixed(3)} CPUs`);
    assert.ok(coresV2 > 0.1 && coresV2 < 0.3, `cgroup.cpu.stat.usage grew ${coresV2.toFixed(3)} CPU-s/s under a 0.2-CPU quota`);
    // The served delta must equal the kernel's delta over the same span, to the bracket's width.
    assertBetween(b.before.usage - a.after.usage, ns, b.after.usage - a.before.usage, 'cgroup.cpuacct.usage delta (ns)');
    assertBetween(b.before.usageUsec - a.after.usageUsec, usec, b.after.usageUsec - a.before.usageUsec,
      'cgroup.cpu.stat.usage delta (µs)');

    for (const metric of ['cgroup.cpusched.periods', 'cgroup.cpusched.throttled', 'cgroup.cpusched.throttled_time']) {
      assert.ok(b.served.bigint(metric, i) > a.served.bigint(metric, i), `${metric} did not grow while the quota throttled a busy loop`);
    }
  });
});

describe('memory of a hog under a 32 MiB limit', () => {
  let cg: TestCgroup;
  after(async () => {
    await cg?.destroy();
  });

  it('usage, limit and failcnt match the kernel, and the OOM kill is counted', async (t) => {
    cg = new TestCgroup();
    const limit = 32n * MiB;
    cg.set('memory', 'memory.limit_in_bytes', String(limit));
    // Limit memory+swap too, or on a host with swap the hog is swapped out instead of killed. Not
    // to the same value: then the memsw counter fails first and only memory.memsw.failcnt counts.
    if (existsSync(`${cg.dir('memory')}/memory.memsw.limit_in_bytes`)) {
      cg.set('memory', 'memory.memsw.limit_in_bytes', String(2n * limit));
    }

    // Holds 16 MiB until SIGUSR1, then grows 1 MiB at a time until the OOM killer stops it.
    const hog = await cg.spawn('perl', ['-e', `
      $| = 1; my @held; my $grow = 0; $SIG{USR1} = sub { $grow = 1 };
      push @held, "x" x (1 << 20) for 1 .. 16;
      print "holding\\n";
      sleep 1 until $grow;
      push @held, "x" x (1 << 20) while 1;`]);
    await untilOutput(hog, 'holding');

    const i = cg.path;
    const memoryFile = (file: string) => `${cg.dir('memory')}/${file}`;
    const holding = await sampleBetween(['cgroup.memory.usage', 'cgroup.memory.limit'], () => readCounter(memoryFile('memory.usage_in_bytes')));
    const usage = holding.served.bigint('cgroup.memory.usage', i);
    assert.ok(usage >= 16n * MiB, `cgroup.memory.usage is ${usage} bytes while the hog holds 16 MiB`);
    // An idle process's usage only wobbles by a few pages between the reads.
    const [low, high] = holding.before < holding.after ? [holding.before, holding.after] : [holding.after, holding.before];
    assertBetween(low - MiB / 4n, usage, high + MiB / 4n, 'cgroup.memory.usage (bytes) while holding');
    assert.equal(holding.served.bigint('cgroup.memory.limit', i), limit, 'cgroup.memory.limit');
    assert.equal(readCounter(memoryFile('memory.limit_in_bytes')), limit);

    hog.child.kill('SIGUSR1');
    const { signal } = await hog.exited;
    assert.equal(signal, 'SIGKILL', 'the hog should have been OOM-killed');

    const oom = await sampleBetween(['cgroup.memory.failcnt', OOM_KILL], () => ({
      failcnt: readCounter(memoryFile('memory.failcnt')),
      oomKill: readKeyed(memoryFile('memory.oom_control')).get('oom_kill')!,
    }));
    const failcnt = oom.served.bigint('cgroup.memory.failcnt', i);
    assert.ok(failcnt > 0n, 'cgroup.memory.failcnt stayed 0 although the cgroup hit its limit');
    assertBetween(oom.before.failcnt, failcnt, oom.after.failcnt, 'cgroup.memory.failcnt');
    const kills = oom.served.bigint(OOM_KILL, i);
    t.diagnostic(`usage ${usage} B while holding; after the OOM kill failcnt ${failcnt}, oom_kill ${kills}`);
    assert.ok(kills >= 1n, `${OOM_KILL} is ${kills} after an OOM kill`);
    assertBetween(oom.before.oomKill, kills, oom.after.oomKill, `${OOM_KILL} (memory.oom_control oom_kill)`);
  });
});

describe('direct-I/O writes under a 4 MiB/s blkio throttle', () => {
  let cg: TestCgroup;
  let file: string | undefined;
  after(async () => {
    if (file) rmSync(file, { force: true });
    await cg?.destroy();
  });

  it('throttle.io_service_bytes.write grows by the 8 MiB written, at the throttled rate, as the kernel says', async (t) => {
    const disk = blockBackedDirectory();
    cg = new TestCgroup();
    const bps = 4n * MiB;
    cg.set('blkio', 'blkio.throttle.write_bps_device', `${disk.device} ${bps}`);
    file = `${disk.directory}/${cg.name}.dd`;

    const i = cg.path;
    const perDevice = `${i}::${disk.name}`;
    const names = ['cgroup.blkio.all.throttle.io_service_bytes.write', 'cgroup.blkio.dev.throttle.io_service_bytes.write'];
    const kernel = () => {
      const text = readFileSync(`${cg.dir('blkio')}/blkio.throttle.io_service_bytes`, 'utf8');
      const writes = [...text.matchAll(/^(\d+:\d+) Write (\d+)$/gm)];
      return {
        all: writes.reduce((sum, m) => sum + BigInt(m[2]!), 0n),
        device: BigInt(writes.find((m) => m[1] === disk.device)?.[2] ?? 0),
      };
    };
    const check = (s: Bracket<ReturnType<typeof kernel>>, when: string): bigint => {
      const all = s.served.bigint(names[0]!, i);
      assertBetween(s.before.all, all, s.after.all, `cgroup.blkio.all.throttle.io_service_bytes.write ${when}`);
      // A cgroup that has not written yet has no per-device line at all.
      const device = s.after.device === 0n ? 0n : s.served.bigint(names[1]!, perDevice);
      assertBetween(s.before.device, device, s.after.device, `cgroup.blkio.dev.throttle.io_service_bytes.write[${perDevice}] ${when}`);
      return all;
    };

    const start = check(await sampleBetween(names, kernel), 'before dd');
    const began = performance.now();
    const dd = await cg.spawn('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', 'count=8', 'oflag=direct', 'status=none']);
    let ddErrors = '';
    dd.child.stderr!.setEncoding('utf8').on('data', (text: string) => (ddErrors += text));
    await sleep(1000);
    const during = check(await sampleBetween(names, kernel), 'during dd');
    const { code } = await dd.exited;
    const seconds = (performance.now() - began) / 1000;
    assert.equal(code, 0, `dd failed: ${ddErrors}`);
    const end = check(await sampleBetween(names, kernel), 'after dd');

    assert.ok(end - start >= 8n * MiB, `the agent saw ${end - start} bytes written; dd wrote ${8n * MiB}`);
    assert.ok(start < during && during < end, `the counter did not move while dd ran: ${start}, ${during}, ${end}`);
    const rate = Number(end - start) / seconds;
    t.diagnostic(`${end - start} B written to ${disk.name} (${disk.device}) in ${seconds.toFixed(2)} s: ${(rate / 2 ** 20).toFixed(2)} MiB/s`);
    // The throttle holds writes to 4 MiB/s (a little over at the start: blk-throttle grants a first slice).
    assert.ok(rate <= Number(bps) * 1.3 && rate >= Number(bps) * 0.5,
      `write rate ${(rate / 2 ** 20).toFixed(2)} MiB/s under a ${bps / MiB} MiB/s throttle`);
  });
});

/**
 * A directory on a real block device (direct I/O is charged to blkio; tmpfs has no device) and
 * that device's whole disk, which is what blkio throttles take: `major:minor` and kernel name.
 */
function blockBackedDirectory(): { directory: string; device: string; name: string } {
  const tried: string[] = [];
  for (const directory of [tmpdir(), '/var/tmp', process.cwd()]) {
    const dev = statSync(directory, { bigint: true }).dev;
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    const sys = `/sys/dev/block/${major}:${minor}`;
    tried.push(`${directory} (${major}:${minor})`);
    if (!existsSync(sys)) continue;
    const real = realpathSync(sys);
    const disk = existsSync(`${real}/partition`) ? realpathSync(`${real}/..`) : real;
    return { directory, device: readFileSync(`${disk}/dev`, 'utf8').trim(), name: basename(disk) };
  }
  throw new Error(`none of ${tried.join(', ')} is on a block device; the blkio test needs one (not tmpfs/overlay)`);
}
