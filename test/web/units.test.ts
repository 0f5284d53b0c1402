import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { displayOf, formatValue, lagText, parseUnits } from '../../web/src/data/units.js';

const TSV = new URL('../fixtures/pcp/all-metrics-desc.tsv', import.meta.url);

test('every unit string PCP 6.0.3 uses on this host parses', () => {
  const rows = readFileSync(TSV, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const units = new Set(rows.map((r) => r[5]!));
  assert.ok(units.size > 15, `distinct unit strings: ${units.size}`);
  for (const u of units) assert.doesNotThrow(() => parseUnits(u), u);
});

test('dimensions and scales', () => {
  assert.deepEqual(parseUnits('Kbyte'), { space: 1, time: 0, count: 0, scale: 1024 });
  assert.deepEqual(parseUnits('millisec / count'), { space: 0, time: 1, count: -1, scale: 1e-3 });
  assert.deepEqual(parseUnits('byte / sec^2'), { space: 1, time: -2, count: 0, scale: 1 });
  assert.deepEqual(parseUnits('/ microsec'), { space: 0, time: -1, count: 0, scale: 1e6 });
  assert.equal(parseUnits('count x 10^3').scale, 1000);
  assert.throws(() => parseUnits('furlong'), /unknown PCP unit/);
});

test('metrics read as people expect once rated', () => {
  // kernel.all.cpu.user: a millisecond counter becomes utilization.
  assert.deepEqual(displayOf('millisec', true), { kind: 'percent', scale: 1e-3 });
  // cgroup.cpuacct.usage: nanoseconds per second → seconds per second (cores).
  assert.deepEqual(displayOf('nanosec', true), { kind: 'percent', scale: 1e-9 });
  // mem.util.used: Kbyte gauge; disk.dev.read_bytes: Kbyte counter.
  assert.deepEqual(displayOf('Kbyte', false), { kind: 'bytes', scale: 1024 });
  assert.deepEqual(displayOf('Kbyte', true), { kind: 'bytes/s', scale: 1024 });
  assert.deepEqual(displayOf('count', true), { kind: 'count/s', scale: 1 });
  assert.deepEqual(displayOf('millisec / count', false), { kind: 'seconds', scale: 1e-3 });
  assert.deepEqual(displayOf('none', false), { kind: 'number', scale: 1 });
  assert.deepEqual(displayOf('not a unit', true), { kind: 'count/s', scale: 1 });
});

test('formatting', () => {
  assert.equal(formatValue(1536, 'bytes'), '1.5 KiB');
  assert.equal(formatValue(1023.7, 'bytes'), '1 KiB');
  assert.equal(formatValue(5 * 2 ** 30, 'bytes'), '5 GiB');
  assert.equal(formatValue(12.5 * 2 ** 20, 'bytes/s'), '12.5 MiB/s');
  assert.equal(formatValue(0.4567, 'percent'), '45.7 %');
  assert.equal(formatValue(1, 'cores'), '1 core');
  assert.equal(formatValue(1.25, 'cores'), '1.25 cores');
  assert.equal(formatValue(0.00035, 'seconds'), '350 µs');
  assert.equal(formatValue(0.0123, 'seconds'), '12.3 ms');
  assert.equal(formatValue(3 * 3600, 'seconds'), '3 h');
  assert.equal(formatValue(1999, 'count/s'), '2k/s');
  assert.equal(formatValue(999, 'count'), '999');
  assert.equal(formatValue(0.52, 'number'), '0.52');
  assert.equal(formatValue(-1, 'number'), '-1');
  assert.equal(formatValue(NaN, 'bytes'), '—');
});

test('a host\'s lag, short: milliseconds under a second, then seconds', () => {
  assert.equal(lagText(3.4), '3 ms');
  assert.equal(lagText(-2), '0 ms', 'a clock behind the agent\'s shows no lag, not a negative one');
  assert.equal(lagText(999.4), '999 ms');
  assert.equal(lagText(999.6), '1.0 s');
  assert.equal(lagText(12_345), '12.3 s');
});
