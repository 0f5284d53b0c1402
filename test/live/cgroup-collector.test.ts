import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupCollector } from '../../agent/collectors/cgroup.js';
import type { Collector } from '../../agent/collectors/types.js';
import { MetricTable } from '../../agent/metrics/table.js';
import type { Value } from '../../agent/metrics/types.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';
import { TestCgroup, readCounter, readKernel, readKeyed } from '../support/cgroup.js';

// The cgroup collector itself (no HTTP) on this host's real /proc and /sys: a cgroup made for the
// test in every hierarchy, with limits and a busy process, must come out with the kernel's values.

const MiB = 1n << 20n;

interface Pass {
  sample: Sample;
  value(metric: string, instance: string): Value | undefined;
  id(metric: string, instance: string): number | undefined;
}

async function pass(collector: Collector, table: MetricTable): Promise<Pass> {
  const now = Date.now();
  const buffer = new CollectorBuffer(table, now);
  await collector.collect(buffer, { wants: () => true, unreadable: () => {} });
  const sample = new Sample(now);
  buffer.mergeInto(sample);
  const find = (metric: string, instance: string): [number, Value] | undefined => {
    const indom = table.metric(metric)!.indom!;
    for (const [id, value] of sample.get(metric) ?? []) if (sample.instanceName(indom, id) === instance) return [id, value];
    return undefined;
  };
  return { sample, value: (m, i) => find(m, i)?.[1], id: (m, i) => find(m, i)?.[0] };
}

function between(low: bigint, value: Value | undefined, high: bigint, what: string): void {
  assert.equal(typeof value, 'bigint', `${what} is missing or not a bigint: ${String(value)}`);
  assert.ok(low <= (value as bigint) && (value as bigint) <= high, `${what}: collector read ${value}, the kernel said ${low} before and ${high} after`);
}

describe('cgroup collector on this host', () => {
  const collector = cgroupCollector({ procfs: '/proc', sysfs: '/sys' });
  const table = new MetricTable([collector.family]);
  let cg: TestCgroup | undefined;
  let churn: TestCgroup | undefined;
  let churner: ReturnType<typeof spawn> | undefined;
  after(async () => {
    if (churner && churner.exitCode === null && churner.signalCode === null) {
      const exited = new Promise((resolve) => churner!.once('exit', resolve));
      churner.kill('SIGKILL');
      await exited;
    }
    await churn?.destroy();
    await cg?.destroy();
  });

  it('serves a new cgroup from every hierarchy with the values of its kernel files, twice', async () => {
    cg = new TestCgroup();
    cg.set('cpu', 'cpu.cfs_quota_us', 20_000);
    cg.set('memory', 'memory.limit_in_bytes', String(64n * MiB));
    if (cg.has('pids')) cg.set('pids', 'pids.max', 100);
    await cg.spawn('/bin/sh', ['-c', 'while :; do :; done']);
    await sleep(300);
    const i = cg.path;

    const kernel = () => ({
      usage: readCounter(`${cg!.dir('cpuacct')}/cpuacct.usage`),
      ticks: readKeyed(`${cg!.dir('cpuacct')}/cpuacct.stat`),
      cpu: readKeyed(`${cg!.dir('cpu')}/cpu.stat`),
      memory: readCounter(`${cg!.dir('memory')}/memory.usage_in_bytes`),
      some: BigInt(/^some .* total=(\d+)$/m.exec(readKernel(`${cg!.unified}/cpu.pressure`))![1]!),
    });
    const passes: Pass[] = [];
    for (let n = 0; n < 2; n++) {
      if (n > 0) await sleep(1000);
      const before = kernel();
      const p = await pass(collector, table);
      const afterwards = kernel();
      passes.push(p);

      between(before.usage, p.value('cgroup.cpuacct.usage', i), afterwards.usage, 'cgroup.cpuacct.usage');
      between(before.usage / 1000n, p.value('cgroup.cpu.stat.usage', i), afterwards.usage / 1000n, 'cgroup.cpu.stat.usage');
      between(before.ticks.get('user')! * 10n, p.value('cgroup.cpuacct.stat.user', i), afterwards.ticks.get('user')! * 10n,
        'cgroup.cpuacct.stat.user (ms from USER_HZ ticks)');
      between(before.cpu.get('nr_periods')!, p.value('cgroup.cpusched.periods', i), afterwards.cpu.get('nr_periods')!, 'cgroup.cpusched.periods');
      between(before.cpu.get('throttled_time')!, p.value('cgroup.cpusched.throttled_time', i), afterwards.cpu.get('throttled_time')!,
        'cgroup.cpusched.throttled_time');
      between(before.some, p.value('cgroup.pressure.cpu.some.total', i), afterwards.some, 'cgroup.pressure.cpu.some.total (unified)');
      const [low, high] = before.memory < afterwards.memory ? [before.memory, afterwards.memory] : [afterwards.memory, before.memory];
      between(low - MiB / 4n, p.value('cgroup.memory.usage', i), high + MiB / 4n, 'cgroup.memory.usage');

      assert.equal(p.value('cgroup.cpusched.cfs_quota', i), 20_000n);
      assert.equal(p.value('cgroup.cpusched.cfs_period', i), readCounter(`${cg.dir('cpu')}/cpu.cfs_period_us`));
      assert.equal(p.value('cgroup.cpusched.shares', i), readCounter(`${cg.dir('cpu')}/cpu.shares`));
      assert.equal(p.value('cgroup.memory.limit', i), 64n * MiB);
      assert.equal(p.value('cgroup.memory.max', i), 64n * MiB);
      assert.equal(p.value('cgroup.cpuset.cpus', i), readKernel(`${cg.dir('cpuset')}/cpuset.cpus`));
      if (cg.has('pids')) {
        assert.equal(p.value('cgroup.pids.max', i), 100n);
        assert.equal(p.value('cgroup.pids.current', i), readCounter(`${cg.dir('pids')}/pids.current`));
      }
      assert.equal(p.value('cgroup.memory.id.container', i), '');
    }

    const [first, second] = passes as [Pass, Pass];
    const grew = (second.value('cgroup.cpuacct.usage', i) as bigint) - (first.value('cgroup.cpuacct.usage', i) as bigint);
    assert.ok(grew > 0n, 'a busy loop used no CPU between the passes');
    const id = first.id('cgroup.cpuacct.usage', i);
    assert.ok(id !== undefined);
    for (const metric of ['cgroup.memory.usage', 'cgroup.cpusched.shares', 'cgroup.cpu.stat.usage']) {
      assert.equal(first.id(metric, i), id, `${metric} gives the cgroup the same id`);
      assert.equal(second.id(metric, i), id, `${metric} keeps the cgroup's id in the next pass`);
    }
  });

  it('cgroups created and removed while it walks are skipped without an error', async (t) => {
    churn = new TestCgroup();
    const dirs = [churn.dir('memory'), churn.dir('cpu'), churn.unified];
    // Another process makes and removes child cgroups as fast as it can, racing the walks.
    churner = spawn('/bin/sh', ['-c', 'while :; do for d in "$@"; do mkdir "$d/x" && rmdir "$d/x"; done; done', 'sh', ...dirs],
      { stdio: 'ignore' });
    await sleep(100);
    let sawChild = 0;
    for (let n = 0; n < 30; n++) {
      const p = await pass(collector, table);
      assert.ok(p.value('cgroup.memory.usage', churn.path) !== undefined, `pass ${n} lost the parent cgroup`);
      if (p.value('cgroup.memory.usage', `${churn.path}/x`) !== undefined) sawChild++;
    }
    assert.equal(churner.exitCode, null, 'the churning shell stopped early, so nothing raced the walks');
    t.diagnostic(`30 passes without an error; the short-lived child was caught in ${sawChild} of them`);
  });
});
