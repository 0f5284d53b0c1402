import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createCollectors } from '../../agent/collectors/index.js';
import { HostDerived } from '../../agent/derive/host.js';
import { hostDerivedDefinitions } from '../../agent/metrics/derived.js';
import { MetricTable } from '../../agent/metrics/table.js';
import { Sampler, selfFamily } from '../../agent/sampler.js';
import { SINGULAR } from '../../agent/store/sample.js';

const roots = { procfs: '/proc', sysfs: '/sys' };

function build() {
  const collectors = createCollectors(roots, ['stat', 'disk']);
  const table = new MetricTable([selfFamily, ...collectors.map((c) => c.family)]);
  const derived = new HostDerived(table, hostDerivedDefinitions);
  table.add(derived.family);
  return { table, sampler: new Sampler(table, collectors, 200, { derive: (s) => derived.apply(s) }) };
}

test("PCP's host-wide derived metrics carry PCP's own descriptors", () => {
  const { table } = build();
  const pcp = new Map(
    readFileSync(new URL('../fixtures/pcp/all-metrics-desc.tsv', import.meta.url), 'utf8')
      .split('\n').slice(1).filter(Boolean).map((line) => line.split('\t'))
      .map((f) => [f[0]!, { pmid: f[1], indom: f[2] === 'PM_INDOM_NULL' ? null : f[2], type: f[3], sem: f[4], units: f[5], oneline: f[7] }]),
  );
  for (const name of ['kernel.cpu.util.user', 'kernel.cpu.util.sys', 'kernel.cpu.util.intr', 'kernel.cpu.util.wait', 'disk.dev.util']) {
    const ours = table.metric(name);
    assert.ok(ours, `${name} is served (grafana-pcp's Host Overview charts it)`);
    const theirs = pcp.get(name)!;
    assert.deepEqual(
      { pmid: ours.pmid, indom: ours.indom, type: ours.type, sem: ours.sem, units: ours.units, oneline: ours.oneline },
      theirs, name,
    );
  }
});

test('kernel.cpu.util.* is the per-CPU percentage of the CPU time counters over one interval', async () => {
  const { sampler } = build();
  const first = await sampler.sampleNow();
  assert.equal(first.get('kernel.cpu.util.user'), undefined, 'no rate before a second sample');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const second = await sampler.sampleNow();
  const ncpu = second.get('hinv.ncpu')!.get(SINGULAR) as number;
  const seconds = (second.time - first.time) / 1000;
  let total = 0;
  for (const [what, source] of [['user', 'user'], ['nice', 'nice'], ['sys', 'sys'], ['idle', 'idle'], ['wait', 'wait.total'], ['intr', 'intr'], ['steal', 'steal']]) {
    const ms = (s: typeof first) => s.get(`kernel.all.cpu.${source}`)!.get(SINGULAR) as bigint;
    const expected = (100 * Number(ms(second) - ms(first))) / 1000 / seconds / ncpu;
    const served = second.get(`kernel.cpu.util.${what}`)!.get(SINGULAR) as number;
    assert.ok(Math.abs(served - expected) < 1e-9, `${what}: ${served} vs ${expected}`);
    total += served;
  }
  // user includes guest time, so the parts add up to 100% of the interval within tick granularity
  assert.ok(total > 80 && total < 120, `CPU states add up to about 100%: ${total}`);
});
