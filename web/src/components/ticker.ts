/**
 * One render pass for everything that shows live data. Connections call `schedule()` as
 * messages arrive (many per frame with many hosts); charts and tables register a refresh
 * callback and are run together once. A pass whose script passes FRAME_BUDGET_MS in one frame
 * goes on in the next frames, so the style, layout, paint and canvas flushes of what it redrew
 * are spread out too; but never for longer than MAX_LATE_MS, after which the rest runs at once,
 * so no chart is more than that late however slow the frames are. The cost of each pass is
 * recorded, so the console can show (and the end-to-end test can check) how long an update takes.
 */
export type Refresh = () => void;

/** Least time between two passes driven by incoming data (a few updates a second per screen). */
const MIN_GAP_MS = 250;
/**
 * Script time of a pass in one frame, after which the refreshers left run in the next frame.
 * A frame also pays style, layout, paint and canvas flushes for what its script changed, two or
 * three times as much again. Measured with the console bench (20 hosts): the frames' CPU p95 was
 * 11.3 ms on the overview with the whole pass in one frame, 9.0 with 2 ms a frame and 7.0–7.4 with
 * 1 ms; on the containers view 16.3 with 2 ms and 11–12 with 1 ms. The main thread's total goes up
 * (about 80 to 100 ms a second on the overview: each frame has fixed costs), which buys frames
 * that do not stutter.
 */
const FRAME_BUDGET_MS = 1;
/**
 * The longest a pass is spread for: a few frames at 60 Hz, invisible beside a 1 s sample. Under
 * load (each refresh over the budget, frames far apart) the pass then ends in one more frame
 * instead of taking one frame per view and leaving the last charts seconds behind.
 */
const MAX_LATE_MS = 100;

class Ticker {
  private readonly refreshers = new Set<Refresh>();
  private pending = false;
  private timer?: ReturnType<typeof setTimeout>;
  private lastRun = -Infinity;
  /** Refreshers of the pass under way that have not run yet (from index `next`); its time so far. */
  private left: Refresh[] = [];
  private next = 0;
  private passMs = 0;
  /** A pass asked for while one was under way: true when at once (a user action). */
  private again?: boolean;
  /** Inside run(): a refresher asking for a pass is asking for the next one. */
  private running = false;
  /** Milliseconds of script of the latest pass (all its frames), and the worst since the last reset. */
  lastMs = 0;
  maxMs = 0;
  passes = 0;
  totalMs = 0;

  /** A pass has begun and has refreshers left for the next frames. */
  private get underWay(): boolean {
    return this.next < this.left.length;
  }

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
    if (this.running || this.underWay) {
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
    if (!this.underWay) {
      this.left = [...this.refreshers];
      this.next = 0;
      this.passMs = 0;
      this.lastRun = started;
    }
    // Past MAX_LATE_MS the pass ends in this frame, whatever it costs.
    const spread = started - this.lastRun < MAX_LATE_MS;
    this.running = true;
    while (this.underWay) {
      const refresh = this.left[this.next++]!;
      // Removed (its view left the page) since the pass began.
      if (!this.refreshers.has(refresh)) continue;
      try {
        refresh();
      } catch (error) {
        console.error('a view failed to refresh; the others go on', error);
      }
      if (spread && performance.now() - started > FRAME_BUDGET_MS) break;
    }
    this.running = false;
    this.passMs += performance.now() - started;
    // Still pending: requests meanwhile wait for the pass to end (see schedule).
    if (this.underWay) {
      requestAnimationFrame(() => this.run());
      return;
    }
    this.left = [];
    this.next = 0;
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

/** What an idle callback is told: how much of the idle period is left, and whether the timeout called it. */
export interface IdleTime {
  timeRemaining(): number;
  readonly didTimeout: boolean;
}

/**
 * Runs `work` in idle time between frames (requestIdleCallback), or after `timeoutMs` whatever
 * the frames do; returns a cancel function. Where the browser has no idle callbacks (Safari),
 * it runs on a timer, as if the timeout had come with no idle time left.
 */
export function whenIdle(work: (idle: IdleTime) => void, timeoutMs: number): () => void {
  if (typeof requestIdleCallback === 'function') {
    const handle = requestIdleCallback(work, { timeout: timeoutMs });
    return () => cancelIdleCallback(handle);
  }
  const timer = setTimeout(() => work({ timeRemaining: () => 0, didTimeout: true }), 50);
  return () => clearTimeout(timer);
}
