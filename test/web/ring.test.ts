import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ring } from '../../web/src/data/ring.js';

test('a ring hands out its newest values oldest first, contiguous across the wrap, without copying', () => {
  const ring = new Ring(4);
  for (let i = 1; i <= 10; i++) ring.push(i);
  const view = ring.view();
  assert.deepEqual([...view], [7, 8, 9, 10]);
  assert.equal(ring.length, 4);
  // A view of the backing store: what uPlot gets is not a copy.
  const again = ring.view();
  assert.equal(view.buffer, again.buffer);
  ring.push(11);
  assert.deepEqual([...ring.view()], [8, 9, 10, 11]);
  assert.equal(ring.at(-1), 11);
  assert.equal(ring.at(0), 8);
  assert.ok(Number.isNaN(ring.at(4)));
});

test('a partly filled ring, padding, setLast and gaps', () => {
  const ring = new Ring(5, 32);
  ring.padTo(2);
  ring.push(1.5);
  assert.deepEqual([...ring.view()].map((v) => (Number.isNaN(v) ? 'gap' : v)), ['gap', 'gap', 1.5]);
  ring.setLast(2.5);
  assert.equal(ring.at(-1), 2.5);
  assert.equal(ring.lastValue(), 2.5);
  ring.push(NaN);
  assert.equal(ring.lastValue(), 2.5);
  assert.equal(ring.isEmpty(), false);
  const empty = new Ring(3);
  empty.push(NaN);
  assert.equal(empty.isEmpty(), true);
  assert.throws(() => new Ring(0), /positive integer/);
});
