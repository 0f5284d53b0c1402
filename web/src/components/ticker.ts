/**
 * One render pass for everything that shows live data. Connections call `schedule()` as
 * messages arrive (many per frame with many hosts); charts and tables register a refresh
 * callback and are run together once. A pass that would take more than FRAME_BUDGET_MS of one
 * frame's script goes on in the next frames, so the style, layout and paint of what it
 * redrew are spread out too. The cost of each pass is recorded, so the console can show (and
 * the end-to-end test can check) how long an update takes.
 */
export type Refresh = () => void;

/** Least time between two passes driven by incoming data (a few updates a second per screen). */
const MIN_GAP_MS = 250;
/**
 * Script time of a pass in one frame, after which the refreshers left run in the next frame.
 * A frame also pays style, layout and paint for what its script changed, about as much again;
 * on the 20-host overview one pass redrew about five charts, a 10–14 ms frame in all.
 */
const FRAME_BUDGET_MS = 2;

class Ticker {
  private readonly refreshers = new Set<Refresh>();
  private pending = false;
  private timer?: ReturnType<typeof setTimeout>;
  private lastRun = -Infinity;
  /** Refreshers of the pass under way that have not run yet; its time so far. */
  private left: Refresh[] = [];
  private passMs = 0;
  /** A pass asked for while one was under way: true when at once (a user action). */
  private again?: boolean;
  /** Inside run(): a refresher asking for a pass is asking for the next one. */
  private running = false;
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
    // Views that ran before the request in a pass under way would miss it: another pass follows.
    if (this.running || this.left.length > 0) {
      this.again = this.again || now;
      return;
    }
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
    const started = performance.now();
    if (this.left.length === 0) {
      this.left = [...this.refreshers];
      this.passMs = 0;
      this.lastRun = started;
    }
    this.running = true;
    while (this.left.length > 0) {
      const refresh = this.left.shift()!;
      // Removed (its view left the page) since the pass began.
      if (!this.refreshers.has(refresh)) continue;
      try {
        refresh();
      } catch (error) {
        console.error('a view failed to refresh; the others go on', error);
      }
      if (this.left.length > 0 && performance.now() - started > FRAME_BUDGET_MS) break;
    }
    this.running = false;
    this.passMs += performance.now() - started;
    // Still pending: requests meanwhile wait for the pass to end (see schedule).
    if (this.left.length > 0) {
      requestAnimationFrame(() => this.run());
      return;
    }
    this.pending = false;
    this.lastMs = this.passMs;
    this.maxMs = Math.max(this.maxMs, this.lastMs);
    this.totalMs += this.lastMs;
    this.passes++;
    if (this.again !== undefined) {
      const now = this.again;
      this.again = undefined;
      this.schedule(now);
    }
  }

  resetStats(): void {
    this.maxMs = 0;
    this.passes = 0;
    this.totalMs = 0;
  }
}

export const ticker = new Ticker();
