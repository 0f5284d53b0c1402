/**
 * Work between yields to the event loop, so that long work (a walk of a thousand cgroups, a
 * sample going out to a hundred stream clients) does not stall the API: a request that arrives
 * meanwhile waits at most this long (pmproxy answers a fetch in under a millisecond; a yield
 * costs a few microseconds).
 */
const SLICE_MS = 1;

/** When the event loop last got a turn from a Slices: the start of the current stretch of work. */
let stretchStart = performance.now();
/** The turn that everyone who gives way in this stretch waits for. */
let turn: Promise<void> | undefined;

function nextTurn(): Promise<void> {
  turn ??= new Promise<void>((resolve) => setImmediate(() => {
    turn = undefined;
    stretchStart = performance.now();
    resolve();
  }));
  return turn;
}

/**
 * Gives the event loop a turn whenever the work since the last turn has taken SLICE_MS. All
 * instances share that stretch: several tasks slicing at once (the cgroup walk, the sampler
 * starting the next collector, the history recording the last pass) resume in the same turn
 * and would otherwise each take a whole slice of it; a task that finds the slice used up by
 * the ones before it gives way again at once.
 */
export class Slices {
  /**
   * Whether the slice is used up, so `next()` would give way. Loops that take a step per
   * cgroup check this first: awaiting `next()` when it has nothing to wait for still costs a
   * promise and a microtask per step.
   */
  get due(): boolean {
    return performance.now() - stretchStart > SLICE_MS;
  }

  async next(): Promise<void> {
    while (this.due) await nextTurn();
  }
}
