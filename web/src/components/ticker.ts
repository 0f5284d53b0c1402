/**
 * One render pass per animation frame for everything that shows live data. Connections call
 * `schedule()` as messages arrive (many per frame with many hosts); charts and tables register
 * a refresh callback and are run together once. The cost of each pass is recorded, so the
 * console can show (and the end-to-end test can check) that a full overview updates well
 * within a frame.
 */
export type Refresh = () => void;

/** Least time between two passes driven by incoming data (a few updates a second per screen). */
const MIN_GAP_MS = 250;

class Ticker {
  private readonly refreshers = new Set<Refresh>();
  private pending = false;
  private timer?: ReturnType<typeof setTimeout>;
  private lastRun = -Infinity;
  /** Milliseconds of the latest pass, and the worst since the last reset. */
  lastMs = 0;
  maxMs = 0;
  passes = 0;
  totalMs = 0;

  add(refresh: Refresh): () => void {
    this.refreshers.add(refresh);
    this.schedule(true);
    return () => this.refreshers.delete(refresh);
  }

  /**
   * Asks for a pass. New data waits until MIN_GAP_MS after the previous pass: with many hosts,
   * samples arrive all through the second, and redrawing every chart for each one would spend
   * the frame budget many times a second for no visible gain. `now` is for user actions.
   */
  schedule(now = false): void {
    if (this.pending) {
      if (now && this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
        requestAnimationFrame(() => this.run());
      }
      return;
    }
    this.pending = true;
    const wait = now ? 0 : MIN_GAP_MS - (performance.now() - this.lastRun);
    if (wait <= 0) requestAnimationFrame(() => this.run());
    else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        requestAnimationFrame(() => this.run());
      }, wait);
    }
  }

  private run(): void {
    this.pending = false;
    const started = performance.now();
    this.lastRun = started;
    for (const refresh of this.refreshers) {
      try {
        refresh();
      } catch (error) {
        console.error('a view failed to refresh; the others go on', error);
      }
    }
    this.lastMs = performance.now() - started;
    this.maxMs = Math.max(this.maxMs, this.lastMs);
    this.totalMs += this.lastMs;
    this.passes++;
  }

  resetStats(): void {
    this.maxMs = 0;
    this.passes = 0;
    this.totalMs = 0;
  }
}

export const ticker = new Ticker();
