import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignTo } from '../../web/src/data/align.js';

test('a second host sampled on its own clock is put on the first host\'s time axis', () => {
  const base = [1000, 2000, 3000, 4000, 5000];
  // 300 ms out of phase, one sample lost (3300), one extra at the end.
  const times = [1300, 2300, 4300, 5300, 6300];
  const values = [1, 2, 4, 5, 6];
  const out = alignTo(base, times, values, 500);
  assert.deepEqual([...out].map((v) => (Number.isNaN(v) ? null : v)), [1, 2, null, 4, 5]);
});
