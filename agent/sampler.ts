import { EventEmitter } from 'node:events';
import type { Collector, CollectContext } from './collectors/types.js';
import type { Demand } from './demand.js';
import { errorCode } from './collectors/read.js';
import { log } from './log.js';
import { Slices } from './slices.js';
import type { MetricFamily, MetricTable } from './metrics/table.js';
import { CollectorBuffer, MetricRoutes, Sample } from './store/sample.js';

/** The agent's own health, as metrics in Vigil's domain (500). */
export const selfFamily: MetricFamily = {
  indoms: [{ indom: '500.0', oneline: 'Vigil collectors', help: 'One instance per metric collector of the agent.' }],
  metrics: [
    { name: 'vigil.collector.time', pmid: '500.0.0', type: 'double', sem: 'instant', units: 'millisec', indom: '500.0',
      oneline: 'time the collector took in the latest sample',
      help: 'Wall-clock time the collector spent producing its values in the latest sampling pass.' },
    { name: 'vigil.collector.errors', pmid: '500.0.1', type: 'u64', sem: 'counter', units: 'count', indom: '500.0',
      oneline: 'sampling passes in which the collector failed',
      help: 'Sampling passes in which the collector threw, or did not finish within the sampling interval and so contributed no values.' },
    { name: 'vigil.collector.unreadable', pmid: '500.0.2', type: 'u64', sem: 'counter', units: 'count', indom: '500.0',
      oneline: 'files the collector was not permitted to read',
      help: 'Files the collector skipped because reading them failed with EACCES or EPERM (normal for /proc/1/ns on some hosts). Each distinct file is logged once.' },
    { name: 'vigil.sample.count', pmid: '500.1.0', type: 'u64', sem: 'counter', units: 'count', indom: null,
      oneline: 'sampling passes completed', help: 'Sampling passes completed since the agent started.' },
    { name: 'vigil.sample.time', pmid: '500.1.1', type: 'double', sem: 'instant', units: 'millisec', indom: null,
      oneline: 'time the latest sampling pass took', help: 'Wall-clock time of the latest sampling pass over all collectors.' },
    { name: 'vigil.sample.interval', pmid: '500.1.2', type: 'u32', sem: 'discrete', units: 'millisec', indom: null,
      oneline: 'sampling interval', help: 'The --interval the agent samples at.' },
  ],
};

interface Health {
  errors: bigint;
  /** Whether the latest pass failed: failures are logged when this flips, not every pass. */
  failing: boolean;
  unreadable: bigint;
  timeMs: number;
  running?: Promise<void>;
  context?: CollectContext;
  /** The collector's buffer, reused from pass to pass (a collector still running is not run again). */
  buffer?: CollectorBuffer;
}

/**
 * Runs every collector once per interval and publishes the result as the latest sample.
 * Collectors are independent: one that throws or overruns the interval loses only its own
 * values for that pass.
 */
export class Sampler extends EventEmitter<{ sample: [Sample] }> {
  private readonly health = new Map<string, Health>();
  private readonly loggedUnreadable = new Set<string>();
  private count = 0n;
  private timer?: NodeJS.Timeout;
  private current?: Sample;
  private pending?: Promise<Sample>;
  /** When the latest pass started (performance.now()). */
  private startedAt = -Infinity;
  /** Instance names unseen this long are forgotten (their ids are never reused). */
  private readonly instanceRetentionMs: number;
  /** When instance names were last checked for retention. */
  private forgotAt = -Infinity;
  private readonly collectorDeadlineMs: number;
  /** Whether passes currently take longer than the interval: logged when this flips. */
  private overrunning = false;
  /** Computes metrics from the collected values (PCP's host-wide derived metrics) before publishing. */
  private readonly derive?: (sample: Sample) => void;
  /** What to collect; everything when absent. */
  private readonly demand?: Demand;
  /** Whether each collector runs, as decided for `decidedAt` (the demand's generation). */
  private readonly running = new Map<Collector, boolean>();
  private decidedAt = -1;
  /** Routes of metric names for buffers that keep every metric, and for those that keep what the demand wants (as of `wantedAt`). */
  private readonly allRoutes: MetricRoutes;
  private wantedRoutes?: MetricRoutes;
  private wantedAt = -1;

  constructor(
    private readonly table: MetricTable,
    private readonly collectors: readonly Collector[],
    readonly intervalMs: number,
    options: { instanceRetentionMs?: number; derive?: (sample: Sample) => void; collectorDeadlineMs?: number; demand?: Demand } = {},
  ) {
    super();
    // A slow collector (1000 cgroups on a loaded host) delays the sample rather than losing its
    // values: a late, complete sample beats a punctual one without cgroups. Only a collector
    // that is stuck past the deadline is cut off, so it cannot hold the others hostage.
    this.collectorDeadlineMs = options.collectorDeadlineMs ?? Math.max(2 * intervalMs, 2000);
    this.instanceRetentionMs = options.instanceRetentionMs ?? 15 * 60_000;
    this.derive = options.derive;
    this.demand = options.demand;
    this.allRoutes = new MetricRoutes(table);
    for (const c of collectors) this.health.set(c.name, { errors: 0n, unreadable: 0n, timeMs: 0, failing: false });
  }

  get latest(): Sample | undefined {
    return this.current;
  }

  /** Collectors whose latest pass failed or overran (for /health). */
  get failing(): string[] {
    return [...this.health].filter(([, h]) => h.failing).map(([name]) => name);
  }

  /** The latest sample, waiting for the first one if none has completed yet. */
  async ready(): Promise<Sample> {
    return this.current ?? this.pending ?? this.sampleNow();
  }

  start(): void {
    if (this.timer) return;
    this.tick();
    this.schedule();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** (Re)starts the interval timer, so the next regular pass is one interval from now. */
  private schedule(): void {
    clearInterval(this.timer);
    this.timer = setInterval(this.tick, this.intervalMs);
    this.timer.unref?.();
  }

  /** A regular pass: its failure is logged, and the previous sample stays the latest. */
  private readonly tick = (): void => {
    this.sampleNow().catch((error) => log.error('sampling pass failed; the agent keeps the previous sample', { error }));
  };

  /**
   * A sample from a pass that starts after this call, so it sees demand added just before (the
   * first REST fetch of a metric nobody collected). Such a pass comes off the regular cadence:
   * it starts no sooner than half an interval after the previous one, because a rate over a few
   * milliseconds is mostly noise (a CFS-throttled task runs its whole quota in bursts), and the
   * timer restarts from it so the samples after it are one interval apart again.
   */
  async fresh(): Promise<Sample> {
    const asked = performance.now();
    if (this.pending) await this.pending.catch(() => undefined);
    const wait = this.startedAt + this.intervalMs / 2 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // A regular pass that started meanwhile already includes the new demand.
    if (this.startedAt >= asked) return this.pending ?? this.current ?? this.sampleNow();
    if (this.timer) this.schedule();
    return this.sampleNow();
  }

  sampleNow(): Promise<Sample> {
    if (this.pending) return this.pending;
    this.pending = this.pass().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async pass(): Promise<Sample> {
    const started = performance.now();
    this.startedAt = started;
    const now = performance.timeOrigin + started;
    const sample = new Sample(now);
    const deadline = this.collectorDeadlineMs;

    // Most collectors read synchronously; between two of them the event loop gets a turn once
    // a slice is used up (by them or by a collector still walking cgroups), so an HTTP request
    // waits for about a slice and one collector, not for the whole pass.
    this.demand?.expire();
    const runs: Array<Promise<void>> = [];
    const slices = new Slices();
    for (const collector of this.collectors) {
      if (!this.runs(collector)) continue;
      runs.push(this.runOne(collector, sample, now, deadline));
      await slices.next();
    }
    await Promise.all(runs);
    try {
      this.derive?.(sample);
    } catch (error) {
      log.warn('derived metrics failed for this sample; collected values are unaffected', { error });
    }

    this.count++;
    const tookMs = performance.now() - started;
    if ((tookMs > this.intervalMs) !== this.overrunning) {
      this.overrunning = !this.overrunning;
      if (this.overrunning) {
        log.warn('a sampling pass took longer than the interval; samples are taken less often until it is faster ' +
          '(vigil.collector.time shows which collector is slow; consider a longer --interval)', {
          tookMs: Math.round(tookMs), intervalMs: this.intervalMs,
        });
      } else {
        log.info('sampling passes fit the interval again', { tookMs: Math.round(tookMs) });
      }
    }
    const self = new CollectorBuffer(this.table, now, undefined, this.allRoutes);
    for (const [name, h] of this.health) {
      self.put('vigil.collector.time', h.timeMs, name);
      self.put('vigil.collector.errors', h.errors, name);
      self.put('vigil.collector.unreadable', h.unreadable, name);
    }
    self.put('vigil.sample.count', this.count);
    self.put('vigil.sample.time', performance.now() - started);
    self.put('vigil.sample.interval', this.intervalMs);
    self.mergeInto(sample);

    // Every name the agent knows is visited: do it a few times per retention period, not every pass.
    if (now - this.forgotAt >= this.instanceRetentionMs / 16) {
      this.forgotAt = now;
      this.table.forgetInstancesOlderThan(now - this.instanceRetentionMs);
    }
    this.current = sample;
    this.emit('sample', sample);
    return sample;
  }

  /** A collector runs when some metric of its family is wanted (or it must always run). */
  private runs(collector: Collector): boolean {
    const demand = this.demand;
    if (!demand || demand.all || collector.always) return true;
    if (demand.generation !== this.decidedAt) {
      this.running.clear();
      this.decidedAt = demand.generation;
    }
    let runs = this.running.get(collector);
    if (runs === undefined) this.running.set(collector, (runs = collector.family.metrics.some((m) => demand.wants(m.name))));
    return runs;
  }

  private async runOne(collector: Collector, sample: Sample, now: number, deadline: number): Promise<void> {
    const h = this.health.get(collector.name)!;
    if (h.running) {
      // Still busy with an earlier pass: count it, do not pile up a second run.
      this.failed(collector.name, h, 'collector is still busy with an earlier pass; skipping it', {});
      return;
    }
    // Files often hold more than was asked for (memory.stat has 50 lines): keep only what is wanted.
    const routes = this.routesFor(collector);
    if (h.buffer?.routes !== routes) h.buffer = new CollectorBuffer(this.table, now, undefined, routes);
    else h.buffer.reset(now);
    const buffer = h.buffer;
    h.context ??= this.contextFor(collector, h);
    const started = performance.now();
    let run: void | Promise<void>;
    try {
      run = collector.collect(buffer, h.context);
    } catch (error) {
      run = Promise.reject(error);
    }
    // Most collectors read synchronously: done already, they need no deadline.
    if (!(run instanceof Promise)) {
      this.succeeded(collector, h, buffer, sample);
      h.timeMs = performance.now() - started;
      return;
    }
    h.running = run.then(() => undefined, () => undefined).finally(() => (h.running = undefined));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadline)));
    try {
      const outcome = await Promise.race([run, late]);
      if (outcome === 'late') {
        this.failed(collector.name, h, 'collector is stuck past its deadline; its values are missing until it finishes', {
          deadlineMs: Math.round(deadline),
        });
        return;
      }
      this.succeeded(collector, h, buffer, sample);
    } catch (error) {
      this.failed(collector.name, h, 'collector failed; its values are missing, other collectors are unaffected', { error });
    } finally {
      clearTimeout(timer);
      h.timeMs = performance.now() - started;
    }
  }

  private succeeded(collector: Collector, h: Health, buffer: CollectorBuffer, sample: Sample): void {
    buffer.mergeInto(sample);
    if (h.failing) log.info('collector recovered', { collector: collector.name });
    h.failing = false;
  }

  /** What a collector may ask while it runs; made once, as it only reads the demand's current state. */
  private contextFor(collector: Collector, h: Health): CollectContext {
    const demand = this.demand;
    return {
      wants: demand && !demand.all ? (metric) => demand.wants(metric) : () => true,
      unreadable: (key, error) => {
        h.unreadable++;
        if (this.loggedUnreadable.has(key)) return;
        if (this.loggedUnreadable.size < 10_000) this.loggedUnreadable.add(key);
        log.warn('cannot read a kernel file; its values are skipped (counted in vigil.collector.unreadable)', {
          collector: collector.name, path: key, code: errorCode(error) ?? String(error),
        });
      },
    };
  }

  /**
   * The metric routes a collector's buffer uses: every metric for one that must always run,
   * else what the demand wants, looked up again when the demand changes (from the next
   * collector on: one already running keeps the routes it started with).
   */
  private routesFor(collector: Collector): MetricRoutes {
    const demand = this.demand;
    if (!demand || demand.all || collector.always) return this.allRoutes;
    if (demand.generation !== this.wantedAt) {
      this.wantedAt = demand.generation;
      this.wantedRoutes = new MetricRoutes(this.table, (metric) => demand.wants(metric));
    }
    return this.wantedRoutes!;
  }

  private failed(name: string, h: Health, message: string, fields: Record<string, unknown>): void {
    h.errors++;
    if (!h.failing) log.warn(message, { collector: name, ...fields });
    h.failing = true;
  }
}
