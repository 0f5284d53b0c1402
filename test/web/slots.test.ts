import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeInSlots } from '../../web/src/data/slots.js';

test('items that stay in view keep their slots when reordered', () => {
  const slots = placeInSlots([], ['a', 'b', 'c', 'd']);
  assert.deepEqual(slots, ['a', 'b', 'c', 'd']);
  // A re-sort of the same items: no element changes item.
  assert.deepEqual(placeInSlots(slots, ['d', 'c', 'b', 'a']), ['a', 'b', 'c', 'd']);
});

test('a scroll by one item rewrites one slot: the newcomer takes the slot of the one that left', () => {
  assert.deepEqual(placeInSlots(['a', 'b', 'c', 'd'], ['b', 'c', 'd', 'e']), ['e', 'b', 'c', 'd']);
  assert.deepEqual(placeInSlots(['e', 'b', 'c', 'd'], ['c', 'd', 'e', 'f']), ['e', 'f', 'c', 'd']);
});

test('newcomers fill the freed slots in order, then go at the end; empty slots are dropped', () => {
  assert.deepEqual(placeInSlots(['a', 'b', 'c'], ['x', 'b', 'y', 'z']), ['x', 'b', 'y', 'z']);
  assert.deepEqual(placeInSlots(['a', 'b', 'c', 'd'], ['d', 'b']), ['b', 'd']);
  assert.deepEqual(placeInSlots(['a', 'b'], []), []);
});
