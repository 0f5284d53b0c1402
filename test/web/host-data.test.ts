import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalog, HostData, SINGULAR, type MetricMeta } from '../../web/src/data/host-data.js';

const meta = (name: string, sem: string, type: string, units: string, indom: string | null = null): MetricMeta =>
  ({ name, pmid: '0.0.0', indom, type, sem, units, oneline: name, help: name });

function store(capacity = 10, keep?: (m: string) => boolean): HostData {
  const catalog = new Catalog();
  catalog.setMeta([
    meta('kernel.all.pswitch', 'counter', 'u64', 'count'),
    meta('mem.util.free', 'instant', 'u64', 'Kbyte'),
    meta('cgroup.cpuacct.usage', 'counter', 'u64', 'nanosec', '3.21'),
    meta('cgroup.cpusched.throttled', 'instant', 'u64', 'none', '3.23'),
  ]);
  catalog.setNames('3.21', [[7, '/a'], [8, '/b']]);
  return new HostData(catalog, { capacity, maxGapMs: 1500, keep });
}

const values = (ring: { view(): ArrayLike<number> } | undefined): Array<number | null> =>
  [...(ring?.view() ?? [])].map((v) => (Number.isNaN(v) ? null : Math.round(v * 1000) / 1000));

test('back-fill then live samples: counters become rates, gauges stay, all on one time axis', () => {
  const s = store();
  const t = [1000, 2000, 3000];
  const [pswitch, free] = s.backfill(t, [
    { metric: 'kernel.all.pswitch', instance: SINGULAR, values: ['100', '300', '600'] },
    { metric: 'mem.util.free', instance: SINGULAR, values: ['5', '6', null] },
  ]);
  assert.deepEqual(values(s.times), t);
  assert.deepEqual(values(s.column('kernel.all.pswitch')), [null, 200, 300]);
  assert.deepEqual(values(s.column('mem.util.free')), [5, 6, null]);
  assert.equal(s.latest('mem.util.free'), '6', 'the newest value that was there');
  s.beginSample(4000);
  s.write(pswitch!, '1000');
  s.write(free!, '7');
  assert.deepEqual(values(s.column('kernel.all.pswitch')), [null, 200, 300, 400]);
  assert.equal(s.current('kernel.all.pswitch'), 400);
  assert.equal(s.latest('kernel.all.pswitch'), '1000');
});

test('u64 counters past 2^53 rate exactly from their decimal strings', () => {
  const s = store();
  const big = 2n ** 62n;
  const [usage] = s.backfill([0, 1000], [{ metric: 'cgroup.cpuacct.usage', instance: 7, values: [String(big), String(big + 250_000_000n)] }]);
  s.beginSample(2000);
  s.write(usage!, String(big + 750_000_001n));
  // 0.25 and 0.500000001 s of CPU per second: nanosecond steps survive at 2^62.
  assert.equal(s.current('cgroup.cpuacct.usage', 7), 500_000_001);
});

test('a series that leaves the stream gets gaps, stays aligned, and goes after a window', () => {
  const s = store(4);
  const [a, b] = s.backfill([1000], [
    { metric: 'cgroup.cpuacct.usage', instance: 7, values: ['0'] },
    { metric: 'cgroup.cpuacct.usage', instance: 8, values: ['0'] },
  ]);
  for (let i = 1; i <= 3; i++) {
    s.beginSample(1000 + i * 1000);
    s.write(a!, String(i * 1e9));
    if (i === 1) s.write(b!, String(i * 5e8)); // /b is removed after the first live sample
  }
  assert.deepEqual(values(s.column('cgroup.cpuacct.usage', 7)), [null, 1e9, 1e9, 1e9]);
  assert.deepEqual(values(s.column('cgroup.cpuacct.usage', 8)), [null, 5e8, null, null]);
  assert.ok(Number.isNaN(s.current('cgroup.cpuacct.usage', 8)), 'no current value for a gone cgroup');
  // An agent may miss a pass under load: names and newest values survive two missed samples…
  assert.equal(s.latest('cgroup.cpuacct.usage', 8), '500000000');
  assert.deepEqual([...s.instances('cgroup.cpuacct.usage')].sort(), [7, 8]);
  for (let i = 4; i <= 70; i++) {
    s.beginSample(1000 + i * 1000);
    s.write(a!, String(i * 1e9));
    // …but not three.
    if (i === 4) assert.equal(s.latest('cgroup.cpuacct.usage', 8), undefined);
  }
  assert.deepEqual([...s.instances('cgroup.cpuacct.usage')], [7], 'the dead series was dropped');
});

test('a series that appears later is padded to the time axis; a new instance mid-stream', () => {
  const s = store(5);
  const [a] = s.backfill([1000, 2000], [{ metric: 'cgroup.cpuacct.usage', instance: 7, values: ['0', '1000000000'] }]);
  const b = s.seriesFor('cgroup.cpuacct.usage', 8); // announced by an `instances` message
  s.beginSample(3000);
  s.write(a!, '2000000000');
  s.write(b, '0');
  s.beginSample(4000);
  s.write(a!, '3000000000');
  s.write(b, '500000000');
  assert.equal(s.column('cgroup.cpuacct.usage', 8)!.length, s.times.length);
  assert.deepEqual(values(s.column('cgroup.cpuacct.usage', 8)), [null, null, null, 5e8]);
});

test('a gap announced by the agent breaks rates instead of averaging across it', () => {
  const s = store();
  const [p] = s.backfill([1000], [{ metric: 'kernel.all.pswitch', instance: SINGULAR, values: ['0'] }]);
  s.gap(2000);
  s.beginSample(3000);
  s.write(p!, '300');
  s.beginSample(4000);
  s.write(p!, '400');
  assert.deepEqual(values(s.column('kernel.all.pswitch')), [null, null, null, 100]);
});

test('cumulative counts PCP calls instant (CFS throttled periods) are rated', () => {
  const s = store();
  s.backfill([0, 1000, 2000], [{ metric: 'cgroup.cpusched.throttled', instance: 7, values: ['10', '15', '25'] }]);
  assert.deepEqual(values(s.column('cgroup.cpusched.throttled', 7)), [null, 5, 10]);
});

test('latest-only metrics keep no ring; resize keeps the newest samples', () => {
  const s = store(6, (m) => m !== 'mem.util.free');
  s.backfill([1, 2, 3, 4, 5, 6], [
    { metric: 'mem.util.free', instance: SINGULAR, values: ['1', '2', '3', '4', '5', '6'] },
    { metric: 'kernel.all.pswitch', instance: SINGULAR, values: ['0', '1', '2', '3', '4', '5'] },
  ]);
  assert.equal(s.column('mem.util.free'), undefined);
  assert.equal(s.current('mem.util.free'), 6);
  s.resize(3);
  assert.deepEqual(values(s.times), [4, 5, 6]);
  assert.equal(s.column('kernel.all.pswitch')!.length, 3);
});
