import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cgroupCollector } from '../../agent/collectors/cgroup.js';
import type { Collector, Roots } from '../../agent/collectors/types.js';
import { MetricTable } from '../../agent/metrics/table.js';
import { CollectorBuffer, Sample } from '../../agent/store/sample.js';
import { TestCgroup } from '../support/cgroup.js';

// The agent reads only the cgroup files whose metrics someone wants (agent/collectors/cgroup-feeds.ts).
// Asking for each metric alone must give exactly what a pass over everything gives for it: a
// file missing from the feeds table, or a reader that gives up early when a file it did not
// need is skipped, shows up here as a missing metric or instance.

const fixtures = new URL('../fixtures/', import.meta.url).pathname;

/** metric → sorted instance names, from one pass wanting only what `wants` says. */
async function instances(collector: Collector, table: MetricTable, wants: (m: string) => boolean, keep: (i: string) => boolean): Promise<Map<string, string[]>> {
  const now = Date.now();
  const buffer = new CollectorBuffer(table, now);
  await collector.collect(buffer, { wants, unreadable: () => {} });
  const sample = new Sample(now);
  buffer.mergeInto(sample);
  const out = new Map<string, string[]>();
  for (const [name, values] of sample.values) {
    const indom = table.metric(name)!.indom;
    const names = [...values.keys()].map((id) => (indom === null ? '' : sample.instanceName(indom, id)!)).filter(keep).sort();
    if (names.length > 0) out.set(name, names);
  }
  return out;
}

async function eachMetricAlone(roots: Roots, keep: (instance: string) => boolean): Promise<{ checked: number; reads: { all: number } }> {
  const collector = cgroupCollector(roots);
  const table = new MetricTable([collector.family]);
  const all = await instances(collector, table, () => true, keep);
  assert.ok(all.size > 20, `a pass over everything gave only ${all.size} metrics`);
  for (const [metric, expected] of all) {
    const alone = await instances(collector, table, (m) => m === metric, keep);
    assert.deepEqual(alone.get(metric), expected, `${metric} asked for alone`);
  }
  // And asking for nothing reads no cgroup at all.
  const none = await instances(collector, table, () => false, keep);
  assert.deepEqual([...none.keys()].filter((m) => !m.startsWith('cgroup.subsys.') && !m.startsWith('cgroup.mounts.')), []);
  return { checked: all.size, reads: { all: all.size } };
}

describe('cgroup metrics collected on demand', () => {
  for (const tree of ['cgroup-hybrid-vm', 'cgroup-v2-vm', 'cgroup-v1-vm']) {
    it(`each metric alone equals a full pass (${tree} fixture)`, async () => {
      const { checked } = await eachMetricAlone({ procfs: `${fixtures}${tree}/proc`, sysfs: `${fixtures}${tree}/sys` }, () => true);
      assert.ok(checked > 20);
    });
  }

  let cg: TestCgroup | undefined;
  after(async () => cg?.destroy());

  it('each metric alone equals a full pass (this host, a cgroup made for the test)', async () => {
    cg = new TestCgroup();
    cg.set('cpu', 'cpu.cfs_quota_us', 50_000);
    await cg.spawn('/bin/sleep', ['60']);
    // Other cgroups on a shared host come and go between passes: compare the test's own.
    const mine = (instance: string): boolean => instance === cg!.path || instance.startsWith(`${cg!.path}::`);
    const { checked } = await eachMetricAlone({ procfs: '/proc', sysfs: '/sys' }, mine);
    assert.ok(checked > 40, `only ${checked} metrics for the test cgroup`);
  });
});
