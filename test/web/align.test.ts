import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignTo } from '../../web/src/data/align.js';

test('a second host sampled on its own clock is put on the first host\'s time axis', () => {
  const base = [1000, 2000, 3000, 4000, 5000];
  // 300 ms out of phase, one sample lost (3300), one extra at the end.
  const times = [1300, 2300, 4300, 5300, 6300];
  const values = [1, 2, 4, 5, 6];
  const out = alignTo(base, times, values, 1000);
  assert.deepEqual([...out].map((v) => (Number.isNaN(v) ? null : v)), [1, 2, null, 4, 5]);
});

test('clocks half a step out of phase, with jitter, align without gaps or a sample shown twice', () => {
  const base = [1000, 2000, 3000, 4000, 5000, 6000, 7000];
  // About 500 ms late, sometimes a little more: matching each base time to the nearest sample leaves gaps.
  const times = [1480, 2530, 3490, 4560, 5470, 6540, 7490];
  const values = [1, 2, 3, 4, 5, 6, 7];
  const out = [...alignTo(base, times, values, 1000)];
  const shown = out.filter((v) => !Number.isNaN(v));
  // At most the oldest point falls off the axis (which of two equally near times a sample goes to is a choice).
  assert.ok(shown.length >= base.length - 1, `gaps in ${out}`);
  assert.deepEqual(shown, [...new Set(shown)].sort((a, b) => a - b), `a sample shown twice or out of order: ${out}`);
  assert.ok(out.slice(1).every((v) => !Number.isNaN(v)), `a gap inside the line: ${out}`);
});

test('a lost sample on the other host is a gap, not the sample before it again', () => {
  const base = [1000, 2000, 3000, 4000];
  const times = [1300, 3300, 4300];
  const out = alignTo(base, times, [1, 3, 4], 1000);
  assert.deepEqual([...out].map((v) => (Number.isNaN(v) ? null : v)), [1, null, 3, 4]);
});
