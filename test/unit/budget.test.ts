import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WatchBudget } from '../../agent/collectors/cgroup-watch.js';

test('a watch budget is full when used up, or once the kernel refused a watch', () => {
  const budget = new WatchBudget(2);
  budget.take();
  assert.equal(budget.full, false);
  budget.take();
  assert.equal(budget.full, true);
  budget.give();
  assert.equal(budget.full, false);
  budget.refused = 'ENOSPC';
  assert.equal(budget.full, true, 'refused: no more tries, though one would fit');
});
