import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CounterRate, toNumber } from '../../web/src/data/rate.js';

/** The `cpu` line of this host's /proc/stat: user ticks, exact. */
function cpuUserTicks(): bigint {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '))!;
  return BigInt(line.trim().split(/\s+/)[1]!);
}

test('the rate of a real counter: /proc/stat user ticks over a busy second', async () => {
  const rate = new CounterRate(5000);
  const t0 = Date.now();
  const first = cpuUserTicks();
  assert.ok(Number.isNaN(rate.next(t0, String(first))), 'no rate before a second reading');
  const until = Date.now() + 300;
  while (Date.now() < until); // keep one CPU busy in user mode
  await sleep(10);
  const t1 = Date.now();
  const second = cpuUserTicks();
  const r = rate.next(t1, String(second));
  assert.equal(r, Number(second - first) / ((t1 - t0) / 1000));
  assert.ok(r > 0, `ticks per second while busy: ${r}`);
});

test('64-bit counters past 2^53 rate exactly: the delta is taken in bigint', () => {
  const rate = new CounterRate();
  const base = 2n ** 60n + 12345n; // a nanosecond CPU counter after decades, or a wrapped one
  rate.next(1000, base.toString());
  // 2^53 + 1 is not a double: Number(base) loses the 1 ns steps entirely.
  assert.equal(Number(base + 1n) - Number(base), 0);
  assert.equal(rate.next(2000, (base + 1n).toString()), 1);
  assert.equal(rate.next(2500, (base + 1001n).toString()), 2000);
  // The wire switches from number to string as a counter passes 2^53; mixed readings still subtract exactly.
  const crossing = new CounterRate();
  crossing.next(0, Number.MAX_SAFE_INTEGER);
  assert.equal(crossing.next(1000, (BigInt(Number.MAX_SAFE_INTEGER) + 10n).toString()), 10);
});

test('a counter reset, a lost sample, a missing value and a stalled clock give gaps, never spikes', () => {
  const rate = new CounterRate(1500);
  rate.next(0, 1000);
  assert.equal(rate.next(1000, 1500), 500);
  assert.ok(Number.isNaN(rate.next(2000, 20)), 'counter went backwards (process or cgroup restarted)');
  assert.equal(rate.next(3000, 120), 100, 'rates resume from the reset value');
  assert.ok(Number.isNaN(rate.next(6000, 420)), 'previous reading 3 s old: samples were lost');
  assert.equal(rate.next(7000, 520), 100);
  assert.ok(Number.isNaN(rate.next(8000, null)), 'no value this time');
  assert.ok(Number.isNaN(rate.next(9000, 720)), 'the next one has no predecessor');
  assert.ok(Number.isNaN(rate.next(9000, 800)), 'time did not advance');
  rate.reset();
  assert.ok(Number.isNaN(rate.next(10000, 900)));
  assert.equal(rate.next(11000, 950), 50);
});

test('toNumber reads every wire form', () => {
  assert.equal(toNumber('18446744073709551615'), 18446744073709551615);
  assert.equal(toNumber(12n), 12);
  assert.equal(toNumber(1.5), 1.5);
  assert.ok(Number.isNaN(toNumber(null)));
  assert.ok(Number.isNaN(toNumber('eth0')));
});
