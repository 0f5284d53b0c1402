import assert from 'node:assert/strict';
import { test } from 'node:test';

// Node has no animation frames: frames are run by hand, so the test says which callbacks share one.
const queued: Array<(t: number) => void> = [];
globalThis.requestAnimationFrame = (cb: (t: number) => void): number => queued.push(cb);
function frame(): void {
  for (const cb of queued.splice(0)) cb(performance.now());
}
const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

const { ticker, whenIdle } = await import('../../web/src/components/ticker.js');

test('a pass longer than a frame\'s budget goes on in the next frames, and counts as one pass', () => {
  const ran: string[] = [];
  const remove = ['a', 'b', 'c', 'd'].map((name) => ticker.add(() => {
    ran.push(name);
    busy(3);
  }));
  ticker.resetStats();
  // Each refresher alone passes the 1 ms budget: one a frame.
  frame();
  assert.deepEqual(ran, ['a']);
  assert.equal(ticker.passes, 0);
  frame();
  frame();
  assert.deepEqual(ran, ['a', 'b', 'c']);
  frame();
  assert.deepEqual(ran, ['a', 'b', 'c', 'd']);
  assert.equal(ticker.passes, 1);
  assert.ok(ticker.lastMs >= 12, `the pass's time is the sum of its frames': ${ticker.lastMs} ms`);
  frame();
  assert.equal(ran.length, 4, 'no pass without a request');
  for (const r of remove) r();
});

test('a pass is spread for at most 100 ms: under load the rest runs in one frame', () => {
  const ran: string[] = [];
  const names = Array.from({ length: 40 }, (_, i) => `v${i}`);
  const remove = names.map((name) => ticker.add(() => {
    ran.push(name);
    busy(3);
  }));
  frame();
  assert.deepEqual(ran, ['v0']);
  // Slow frames: the next one comes 120 ms later, past the limit.
  busy(120);
  frame();
  assert.deepEqual(ran, names, 'every view ran in the second frame instead of one a frame for 40 frames');
  assert.equal(queued.length, 0, 'the pass is over');
  for (const r of remove) r();
});

test('a request during a pass under way gets a pass of its own after it', () => {
  const ran: string[] = [];
  const removeA = ticker.add(() => {
    ran.push('a');
    busy(3);
  });
  const removeB = ticker.add(() => ran.push('b'));
  frame();
  frame();
  assert.deepEqual(ran, ['a', 'b']);
  ran.length = 0;
  ticker.schedule(true);
  frame();
  assert.deepEqual(ran, ['a']);
  // New data for the view that already ran: it must not wait for a pass nobody asked for.
  ticker.schedule(true);
  frame();
  assert.deepEqual(ran, ['a', 'b']);
  frame();
  assert.deepEqual(ran, ['a', 'b', 'a'], 'the request made during the pass runs once it ends');
  frame();
  assert.deepEqual(ran, ['a', 'b', 'a', 'b']);
  removeA();
  removeB();
});

test('idle work runs in the browser\'s idle callbacks, and on a timer where there are none', async () => {
  // Node has no idle callbacks: the work runs on a timer, told it has no idle time left.
  const told = await new Promise<{ left: number; forced: boolean }>((resolve) => whenIdle((idle) => resolve({ left: idle.timeRemaining(), forced: idle.didTimeout }), 1000));
  assert.deepEqual(told, { left: 0, forced: true });
  let ran = false;
  whenIdle(() => (ran = true), 1000)();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(ran, false, 'cancelled before it ran');

  // With idle callbacks, the timeout is the browser's to keep, and cancelling cancels that callback.
  const asked: Array<{ timeout?: number }> = [];
  const cancelled: number[] = [];
  const pending = new Map<number, (deadline: IdleDeadline) => void>();
  globalThis.requestIdleCallback = (cb, options) => (asked.push(options ?? {}), pending.set(pending.size + 1, cb), pending.size);
  globalThis.cancelIdleCallback = (handle) => void cancelled.push(handle);
  try {
    let left = -1;
    whenIdle((idle) => (left = idle.timeRemaining()), 500);
    const cancel = whenIdle(() => assert.fail('cancelled'), 700);
    cancel();
    assert.deepEqual(asked, [{ timeout: 500 }, { timeout: 700 }]);
    assert.deepEqual(cancelled, [2]);
    pending.get(1)!({ didTimeout: false, timeRemaining: () => 12 });
    assert.equal(left, 12);
  } finally {
    delete (globalThis as { requestIdleCallback?: unknown }).requestIdleCallback;
    delete (globalThis as { cancelIdleCallback?: unknown }).cancelIdleCallback;
  }
});
