import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { MetricDesc } from '../../agent/metrics/types.js';
import { counterRate, deliveryOf, rateColumn } from '../../agent/store/rate.js';

/** A real cpuacct.usage sequence with a reset and a missed sample (see the fixture's SOURCE.md). */
const rows = readFileSync(new URL('../fixtures/cpuacct-reset/cpuacct-usage.tsv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t'));
const times = rows.map(([t]) => Number(t));
const usage = rows.map(([, v]) => BigInt(v!));
const RESET = usage.indexOf(0n);
const GAP = times.findIndex((t, i) => i > 0 && t - times[i - 1]! > 300);

const cpuacctUsage: MetricDesc = {
  name: 'cgroup.cpuacct.usage', pmid: '3.21.0', type: 'u64', sem: 'counter', units: 'nanosec', indom: '3.21',
  oneline: 'CPU time consumed by processes in each cgroup',
};
const packets: MetricDesc = {
  name: 'network.interface.in.packets', pmid: '60.3.1', type: 'u64', sem: 'counter', units: 'count', indom: '60.3',
  oneline: 'network recv read packets from /proc/net/dev per network interface',
};
const memoryUsage: MetricDesc = {
  name: 'cgroup.memory.usage', pmid: '3.4.0', type: 'u64', sem: 'instant', units: 'byte', indom: '3.4', oneline: 'memory',
};

test('the fixture has what this test is about', () => {
  assert.equal(rows.length, 40);
  assert.ok(RESET > 1 && usage[RESET - 1]! > 1_000_000_000n, `reset at row ${RESET} from ${usage[RESET - 1]}`);
  assert.ok(GAP > RESET + 1, `gap before row ${GAP}`);
});

test('what a rate subscription delivers for each kind of metric', () => {
  assert.equal(deliveryOf(cpuacctUsage, true), 'utilization');
  assert.equal(deliveryOf(packets, true), 'rate');
  assert.equal(deliveryOf(memoryUsage, true), 'raw');
  assert.equal(deliveryOf(cpuacctUsage, false), 'raw');
});

test('a busy loop in a real cgroup reads as one CPU, with gaps at the reset and the missed sample', () => {
  const rates = rateColumn(cpuacctUsage, usage, times, 100);
  assert.equal(rates[0], null, 'no rate without a previous value');
  assert.equal(rates[RESET], null, 'the counter went backwards (reset): a gap, not a negative spike');
  assert.equal(rates[GAP], null, 'a sample was missed: a gap, not a rate over the longer span');
  // Row 2 by hand: (353631774 - 253666374) ns over (1795765241380.706 - 1795765241280.231) ms.
  assert.ok(Math.abs(rates[2]! - 99_965_400e-9 / 100.475e-3) < 1e-6, `row 2: ${rates[2]}`);
  rates.forEach((rate, i) => {
    if (i === 0 || i === RESET || i === GAP) return;
    // One single-threaded busy loop: at most one CPU second per second, and most of it on this idle-ish VM.
    assert.ok(rate !== null && rate > 0.5 && rate < 1.05, `row ${i}: utilization ${rate}`);
  });
  assert.ok(rates[RESET + 1]! > 0.9, 'counting resumes from zero right after the reset');
});

test('u64 counters past 2^53 rate exactly, and a wrap at 2^64 is a gap', () => {
  // 1 000 001 per 100 ms past 2^63: a double cannot hold these counters exactly, only their delta.
  assert.deepEqual(rateColumn(packets, [2n ** 63n, 2n ** 63n + 1_000_001n], [0, 100], 100), [null, 10_000_010]);
  const near = 2n ** 64n - 3_000_000n;
  const values = [near, near + 2_000_000n, 2n ** 64n - 1n, 5n];
  assert.deepEqual(rateColumn(packets, values, [0, 100, 200, 300], 100), [null, 20_000_000, 9_999_990, null]);
  assert.equal(counterRate(packets, near, 0, null, 100, 100), null, 'a missing value is a gap');
  assert.equal(counterRate(packets, 7n, 100, 9n, 100, 100), null, 'no elapsed time: no rate');
});

test('time counters in milliseconds are utilization too; 32-bit counters are numbers', () => {
  const cpuUser: MetricDesc = { ...packets, name: 'kernel.all.cpu.user', type: 'u64', units: 'millisec' };
  assert.equal(counterRate(cpuUser, 1_000n, 0, 1_150n, 1000, 1000), 0.15);
  const u32: MetricDesc = { ...packets, name: 'test.u32', type: 'u32' };
  assert.equal(counterRate(u32, 4_294_967_000, 0, 4_294_967_295, 500, 500), 590);
  assert.equal(counterRate(u32, 4_294_967_295, 0, 10, 500, 500), null, '32-bit wrap is a gap');
});
