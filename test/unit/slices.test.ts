import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slices } from '../../agent/slices.js';

/** Keeps the thread busy for `ms`, as a synchronous file read or parse does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('tasks slicing at the same time share one slice per turn of the event loop', async () => {
  // A probe counts the event loop's turns; each unit of work notes the turn it ran in.
  let turn = 0;
  let probing = true;
  const probe = (): void => {
    turn++;
    if (probing) setImmediate(probe);
  };
  setImmediate(probe);
  const unitsInTurn = new Map<number, number>();
  const task = async (units: number): Promise<void> => {
    const slices = new Slices();
    for (let i = 0; i < units; i++) {
      busy(0.3);
      unitsInTurn.set(turn, (unitsInTurn.get(turn) ?? 0) + 1);
      await slices.next();
    }
  };
  await Promise.all([task(40), task(40), task(40)]);
  probing = false;
  // A 1 ms slice holds four 0.3 ms units, and each other task may run the one unit it was
  // cleared for before the slice ran out: six. Slices of their own would let the three tasks
  // run four units each in the same turn.
  const most = Math.max(...unitsInTurn.values());
  assert.ok(most <= 6, `${most} units of 0.3 ms ran in one turn`);
});
