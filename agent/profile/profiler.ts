import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerScope } from '../containers/scope.js';
import { log } from '../log.js';
import { FoldedStacks, foldSample } from './folded.js';
import { JitMaps } from './jit-resolver.js';
import { PerfError, PerfRun } from './perf.js';
import type { PerfSample } from './perf-script.js';
import { resolveTarget, type ProfileTarget, type ResolvedTarget } from './target.js';

export interface ProfilerLimits {
  /** Longest one-shot profile, seconds. */
  maxSeconds: number;
  defaultSeconds: number;
  /** Highest sampling frequency a client may ask for, Hz per CPU. */
  maxFrequency: number;
  defaultFrequency: number;
  /** One-shot profiles running at once, over all clients. */
  maxRunning: number;
  /** Live profiles (distinct targets) running at once. */
  maxLive: number;
  liveFrequency: number;
  /** The sliding window a live profile shows, seconds. */
  liveWindowSeconds: number;
  /** A live profile nobody has asked about for this long stops, seconds. */
  liveIdleSeconds: number;
  /** Finished profiles kept for their results; older ones are dropped first. */
  keepFinished: number;
  /** Finished profiles are dropped after this long, seconds. */
  finishedTtlSeconds: number;
  /** perf script gets this long after recording stops to print the rest, seconds. */
  drainSeconds: number;
}

/**
 * Sampling at these rates costs well under 1% of a CPU (30-70 µs per sample); each perf session
 * also pays 0.25-0.9 s of CPU once to start and load symbols (measured, docs/PROFILING.md). 49 Hz
 * is Vector's rate and off the 50/100 Hz beat of timers; live mode samples at 19 Hz.
 */
export const DEFAULT_PROFILER_LIMITS: ProfilerLimits = {
  maxSeconds: 60,
  defaultSeconds: 10,
  maxFrequency: 99,
  defaultFrequency: 49,
  maxRunning: 2,
  maxLive: 2,
  liveFrequency: 19,
  liveWindowSeconds: 30,
  liveIdleSeconds: 20,
  keepFinished: 32,
  finishedTtlSeconds: 3600,
  drainSeconds: 60,
};

export type ProfileState = 'running' | 'processing' | 'done' | 'error' | 'cancelled';

/** A request the profiler refuses, with the HTTP status that says why. */
export class ProfileError extends Error {
  constructor(
    message: string,
    /** 400 bad request, 404 no such target, 409 this client already has one running, 503 no free slot. */
    readonly status: number,
  ) {
    super(message);
  }
}

export interface ProfileRequest {
  target: ProfileTarget;
  seconds?: number;
  frequency?: number;
  /** Who asked (a context, a remote address): each may have one one-shot profile running. */
  owner: string;
}

/** CLOCK_MONOTONIC in seconds, the clock perf stamps samples with (`-k mono`). */
function monotonicSeconds(): number {
  return Number(process.hrtime.bigint() / 1_000_000n) / 1000;
}

/** One profile: a one-shot recording of `seconds`, or a live one over a sliding window. */
export class Profile {
  state: ProfileState = 'running';
  error?: string;
  /** Wall-clock start, for display only; durations and ages use the monotonic clock below. */
  readonly startedAt = Date.now();
  private readonly startedMono = performance.now();
  /** Monotonic (performance.now()), so a wall-clock step neither stretches nor expires a profile. */
  endedAt?: number;
  /** Samples of the idle task (pid 0): the CPU had nothing to run. Counted, never drawn. */
  idleSamples = 0;
  /** Live profiles: when a client last asked about it (ms, performance.now()). */
  askedAt = performance.now();
  run?: PerfRun;
  /** Filled as samples arrive (one-shot). */
  private readonly stacks = new FoldedStacks();
  /** Live: one bucket of stacks per second of CLOCK_MONOTONIC. */
  private readonly buckets = new Map<number, FoldedStacks>();
  private perfCpu = 0;

  constructor(
    readonly id: string,
    readonly target: ResolvedTarget,
    readonly frequency: number,
    /** Length of a one-shot profile, or the window of a live one, seconds. */
    readonly seconds: number,
    readonly live: boolean,
    readonly owner: string,
  ) {}

  /** @param time when perf took the sample, CLOCK_MONOTONIC seconds */
  add(stack: string, time: number): void {
    if (!this.live) return this.stacks.add(stack);
    const second = Math.floor(time);
    let bucket = this.buckets.get(second);
    if (!bucket) {
      this.buckets.set(second, (bucket = new FoldedStacks(10_000)));
      const since = monotonicSeconds() - this.seconds - 1;
      for (const old of this.buckets.keys()) if (old < since) this.buckets.delete(old);
    }
    bucket.add(stack);
  }

  /** The stacks to draw: all of a one-shot profile; the last `seconds` of a live one. */
  folded(): FoldedStacks {
    if (!this.live) return this.stacks;
    const since = monotonicSeconds() - this.seconds;
    const window = new FoldedStacks();
    for (const [second, bucket] of this.buckets) if (second >= since) window.addAll(bucket);
    return window;
  }

  get elapsedSeconds(): number {
    return ((this.endedAt ?? performance.now()) - this.startedMono) / 1000;
  }

  /** CPU perf has used for this profile, seconds (read from /proc about once a second). */
  get perfCpuSeconds(): number {
    return this.run ? this.run.cpuSeconds : this.perfCpu;
  }

  finish(state: ProfileState, error?: string): void {
    if (this.run) this.perfCpu = this.run.cpuSeconds;
    this.run = undefined;
    this.state = state;
    this.error = error;
    this.endedAt = performance.now();
  }
}

export interface ProfilerOptions {
  procfs: string;
  containers: ContainerScope;
  /** The perf executable; `perf` on PATH by default. */
  perf?: string;
  limits?: Partial<ProfilerLimits>;
}

/**
 * Runs perf for clients, within bounds: a duration cap, one running profile per client, a few
 * at once over all clients, live profiles shared by target and stopped when nobody looks.
 */
export class Profiler {
  readonly limits: ProfilerLimits;
  private readonly profiles = new Map<string, Profile>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: ProfilerOptions) {
    this.limits = { ...DEFAULT_PROFILER_LIMITS, ...options.limits };
    this.sweeper = setInterval(() => this.sweep(), 2000);
    this.sweeper.unref();
  }

  /** Starts a one-shot profile. Throws ProfileError (or TargetError) when it cannot. */
  start(request: ProfileRequest): Profile {
    const seconds = this.checkNumber('seconds', request.seconds ?? this.limits.defaultSeconds, 1, this.limits.maxSeconds);
    const frequency = this.checkNumber('frequency', request.frequency ?? this.limits.defaultFrequency, 1, this.limits.maxFrequency, true);
    const target = resolveTarget(request.target, this.options);
    const running = [...this.profiles.values()].filter((p) => !p.live && (p.state === 'running' || p.state === 'processing'));
    const mine = running.find((p) => p.owner === request.owner);
    if (mine) {
      throw new ProfileError(`profile ${mine.id} is still running for this client; wait for it to finish or DELETE /profile/${mine.id}`, 409);
    }
    if (running.length >= this.limits.maxRunning) {
      throw new ProfileError(`${running.length} profiles are already running (at most ${this.limits.maxRunning} at once, to bound perf's cost); try again when one finishes`, 503);
    }
    const profile = new Profile(newId(), target, frequency, seconds, false, request.owner);
    this.launch(profile, { seconds });
    // perf times the recording itself; this only catches a perf that never gets going.
    const timer = setTimeout(() => this.stopRecording(profile), (seconds + this.limits.drainSeconds) * 1000);
    timer.unref();
    void profile.run!.recorded.finally(() => clearTimeout(timer));
    return profile;
  }

  /** The live profile of a target, started if there is none; asking keeps it running. */
  live(targetRequest: ProfileTarget, frequency?: number): Profile {
    const target = resolveTarget(targetRequest, this.options);
    const existing = [...this.profiles.values()].find((p) => p.live && p.state === 'running' && p.target.perfCgroup === target.perfCgroup);
    if (existing) {
      existing.askedAt = performance.now();
      return existing;
    }
    const hz = this.checkNumber('frequency', frequency ?? this.limits.liveFrequency, 1, this.limits.maxFrequency, true);
    const live = [...this.profiles.values()].filter((p) => p.live && p.state === 'running');
    if (live.length >= this.limits.maxLive) {
      throw new ProfileError(
        `${live.length} live profiles are already running (at most ${this.limits.maxLive}); one stops ${this.limits.liveIdleSeconds} s after nobody asks for it`, 503,
      );
    }
    const profile = new Profile(newId(), target, hz, this.limits.liveWindowSeconds, true, 'live');
    // A small ring buffer (16 KiB per CPU) makes perf hand samples over every few seconds even at 19 Hz.
    this.launch(profile, { mmapPages: 4 });
    return profile;
  }

  /** A profile by id; asking about a live one keeps it running. */
  get(id: string): Profile | undefined {
    const profile = this.profiles.get(id);
    if (profile?.live) profile.askedAt = performance.now();
    return profile;
  }

  list(): Profile[] {
    return [...this.profiles.values()];
  }

  /** Stops a running profile: a one-shot one keeps what it has recorded so far. */
  cancel(id: string): Profile | undefined {
    const profile = this.profiles.get(id);
    if (profile?.state === 'running') {
      this.stopRecording(profile);
      if (profile.live) profile.state = 'cancelled';
    }
    return profile;
  }

  /** Ends every perf process and forgets every profile (agent shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const runs = [...this.profiles.values()].map((p) => p.run).filter((r): r is PerfRun => r !== undefined);
    for (const run of runs) run.kill();
    await Promise.all(runs.map((r) => r.done.catch(() => undefined)));
    this.profiles.clear();
  }

  private checkNumber(name: string, value: number, min: number, max: number, integer = false): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new ProfileError(`${name} must be ${integer ? 'an integer ' : ''}from ${min} to ${max}; got ${JSON.stringify(value)}`, 400);
    }
    return value;
  }

  private launch(profile: Profile, how: { seconds?: number; mmapPages?: number }): void {
    if (this.closed) throw new ProfileError('the agent is shutting down', 503);
    const home = mkdtempSync(join(tmpdir(), 'vigil-perf-'));
    const jit = new JitMaps(this.options.procfs);
    const onSample = (sample: PerfSample): void => {
      if (sample.pid === 0) profile.idleSamples++;
      else profile.add(foldSample(sample, jit.resolve), sample.time);
    };
    try {
      profile.run = new PerfRun({
        perf: this.options.perf ?? 'perf',
        frequency: profile.frequency,
        cgroup: profile.target.perfCgroup,
        ...how,
        home,
        procfs: this.options.procfs,
        onSample,
      });
    } catch (error) {
      rmSync(home, { recursive: true, force: true });
      throw error;
    }
    this.profiles.set(profile.id, profile);
    this.prune();
    log.info('profiling', { id: profile.id, target: profile.target.description, seconds: profile.live ? 'live' : profile.seconds, hz: profile.frequency });
    const run = profile.run;
    void run.recorded.then(() => {
      if (profile.state === 'running') profile.state = 'processing';
      // perf script normally drains within seconds; a stuck one must not hold a slot for ever.
      const timer = setTimeout(() => {
        if (profile.run !== run) return;
        run.kill();
        profile.finish('error', `perf script did not finish within ${this.limits.drainSeconds} s of the end of recording; try a shorter profile or a lower frequency`);
      }, this.limits.drainSeconds * 1000);
      timer.unref();
      void run.done.catch(() => undefined).finally(() => clearTimeout(timer));
    });
    run.done.then(
      () => {
        if (profile.run !== run) return;
        profile.finish(profile.state === 'cancelled' ? 'cancelled' : 'done');
      },
      (error: unknown) => {
        if (profile.run !== run) return;
        const message = error instanceof PerfError ? error.message : `perf failed: ${(error as Error).message}`;
        if (profile.state === 'cancelled' || this.closed) return profile.finish('cancelled');
        profile.finish('error', message);
        log.warn('profile failed', { id: profile.id, target: profile.target.description, error: message });
      },
    ).finally(() => {
      rmSync(home, { recursive: true, force: true });
      log.info('profile finished', { id: profile.id, state: profile.state, samples: profile.folded().total, perfCpuSeconds: profile.perfCpuSeconds.toFixed(2) });
    });
  }

  private stopRecording(profile: Profile): void {
    if (!profile.run || profile.state !== 'running') return;
    profile.state = 'processing';
    profile.run.stop();
  }

  /** Stops live profiles nobody asks about and drops old results. */
  private sweep(): void {
    const idleSince = performance.now() - this.limits.liveIdleSeconds * 1000;
    for (const profile of this.profiles.values()) {
      if (profile.live && profile.state === 'running' && profile.askedAt < idleSince) {
        log.info('live profile stopped: no client asked for it', { id: profile.id, idleSeconds: this.limits.liveIdleSeconds });
        this.stopRecording(profile);
        profile.state = 'cancelled';
      }
    }
    this.prune();
  }

  private prune(): void {
    const expired = performance.now() - this.limits.finishedTtlSeconds * 1000;
    const finished = [...this.profiles.values()].filter((p) => p.endedAt !== undefined).sort((a, b) => a.endedAt! - b.endedAt!);
    for (const [i, profile] of finished.entries()) {
      const stoppedLive = profile.live;
      if (stoppedLive || profile.endedAt! < expired || finished.length - i > this.limits.keepFinished) this.profiles.delete(profile.id);
    }
  }
}

function newId(): string {
  return randomBytes(6).toString('hex');
}
