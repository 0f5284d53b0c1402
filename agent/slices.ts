/**
 * Work between yields to the event loop, so that long work (a walk of a thousand cgroups, a
 * sample going out to a hundred stream clients) does not stall the API: a request that arrives
 * meanwhile waits at most this long (pmproxy answers a fetch in under a millisecond; a yield
 * costs a few microseconds).
 */
const SLICE_MS = 1;

/** Gives the event loop a turn whenever the work since the last turn has taken SLICE_MS. */
export class Slices {
  private start = performance.now();

  async next(): Promise<void> {
    if (performance.now() - this.start <= SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}
