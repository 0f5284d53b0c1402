/**
 * Pieces every bench scenario uses: process CPU and memory from /proc, percentiles, the budget
 * verdicts, real cgroups named `vigil-bench-<pid>-<n>`, and what to undo when interrupted.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestCgroup } from '../test/support/cgroup.js';

export { sleep };

/**
 * What an interrupted bench must undo. Whatever a scenario starts (an agent, PCP daemons, a
 * cgroup, a helper process) is registered here before it exists and unregistered once the
 * scenario has undone it itself; SIGINT/SIGTERM run what is still registered (bench/run.ts).
 */
interface Undo {
  what: string;
  undo: () => unknown;
}
const pending = new Set<Undo>();
let interruptedBy: string | undefined;

/**
 * Registers `undo` for `what`; returns the function that unregisters it. Throws once the bench is
 * interrupted, so that a scenario still running starts nothing new while the bench cleans up.
 */
export function undoOnInterrupt(what: string, undo: () => unknown): () => void {
  if (interruptedBy) throw new Error(`the bench was interrupted (${interruptedBy}); not starting ${what}`);
  const entry = { what, undo };
  pending.add(entry);
  return () => void pending.delete(entry);
}

export const interrupted = (): string | undefined => interruptedBy;

/**
 * Undoes everything registered, newest first (agents stop before the cgroups they watch go),
 * each given `timeoutMs`; then SIGKILLs every process still descending from this one (a browser,
 * wrk, strace). Returns what could not be undone, for the message the bench exits with.
 */
export async function undoEverything(reason: string, timeoutMs = 15_000): Promise<string[]> {
  interruptedBy = reason;
  const failures: string[] = [];
  for (const entry of [...pending].reverse()) {
    pending.delete(entry);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(entry.undo),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`gave up after ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (error) {
      failures.push(`${entry.what}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  for (const pid of descendantsOf(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // it exited meanwhile
    }
  }
  return failures;
}

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Fields of /proc/<pid>/stat after the command name (index 0 is field 3, `state`). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process is gone
  }
}

/** User and system CPU seconds (utime, stime) a process has used, in whole clock ticks (10 ms); zeros once it is gone. */
function tickSeconds(pid: number): [user: number, system: number] {
  const f = statFields(pid);
  return f ? [Number(f[11]) / CLK_TCK, Number(f[12]) / CLK_TCK] : [0, 0];
}

/**
 * CPU seconds a process's live threads have used, in nanoseconds: the sum of the first field of
 * /proc/<pid>/task/<tid>/schedstat (time on a CPU). /proc/<pid>/stat counts in 10 ms ticks, too
 * coarse for a process that uses 1 ms/s over an 8-second window. A thread that has exited is no
 * longer listed, so `cpuMeter` checks this against the ticks. 0 once the process is gone.
 */
export function cpuSeconds(pid: number): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  let nanos = 0;
  for (const tid of tids) {
    try {
      nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return nanos / 1e9;
}

/** Resident memory in bytes (VmRSS); 0 once the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Pids whose parent is `ppid` (PCP's PMDAs are pmcd's children). */
export function childrenOf(ppid: number): number[] {
  return parents().get(ppid) ?? [];
}

/** Every live process below `pid`, however deep. */
export function descendantsOf(pid: number): number[] {
  const byParent = parents();
  const found = [...(byParent.get(pid) ?? [])];
  for (let i = 0; i < found.length; i++) found.push(...(byParent.get(found[i]!) ?? []));
  return found;
}

/** Live (not zombie) processes grouped by parent pid, from one pass over /proc. */
function parents(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f || f[0] === 'Z') continue;
    const ppid = Number(f[1]);
    byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(entry)]);
  }
  return byParent;
}

/**
 * A CPU meter over a set of pids: `stop()` gives the CPU seconds they used since `start`, and the
 * wall seconds. Per pid it counts the threads' nanoseconds (`cpuSeconds`); when the process's
 * ticks grew by more than that plus two ticks, threads that used CPU have exited in the window,
 * and the ticks are the better figure. `system` is the part of `cpu` spent in the kernel, by the
 * share of system ticks among the ticks of the window (NaN when no tick was counted): what
 * reading the kernel's files costs in the kernel itself, apart from the reader's own code.
 */
export function cpuMeter(pids: readonly number[]): { stop(): { cpu: number; wall: number; system: number } } {
  const start = pids.map((pid) => [cpuSeconds(pid), tickSeconds(pid)] as const);
  const t0 = performance.now();
  return {
    stop: () => {
      let [cpu, user, system] = [0, 0, 0];
      pids.forEach((pid, i) => {
        const nanos = cpuSeconds(pid) - start[i]![0];
        const [u, s] = tickSeconds(pid);
        const [du, ds] = [u - start[i]![1][0], s - start[i]![1][1]];
        cpu += du + ds > nanos + 2 / CLK_TCK ? du + ds : nanos;
        user += du;
        system += ds;
      });
      return { cpu, wall: (performance.now() - t0) / 1000, system: user + system > 0 ? (cpu * system) / (user + system) : NaN };
    },
  };
}

/** The q-quantile (0..1) of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** One budget's verdict. `lowerIsBetter` budgets pass when value ≤ limit, the others when value ≥ limit. */
export interface Verdict {
  budget: string;
  value: number;
  limit: number;
  unit: string;
  lowerIsBetter: boolean;
  pass: boolean;
  /** How far from the limit a miss is, as a factor (2 = twice the limit, or half of it); 1 for a pass. */
  missedBy: number;
}

export function verdict(budget: string, value: number, limit: number, unit: string, lowerIsBetter = true): Verdict {
  const pass = Number.isFinite(value) && (lowerIsBetter ? value <= limit : value >= limit);
  const missedBy = pass ? 1 : lowerIsBetter ? value / limit : limit / value;
  const v: Verdict = { budget, value: round(value, 4), limit, unit, lowerIsBetter, pass, missedBy: round(missedBy, 2) };
  console.log(`  ${pass ? 'PASS' : 'FAIL'}  ${budget}: ${v.value} ${unit} (budget ${lowerIsBetter ? '≤' : '≥'} ${limit} ${unit})` +
    (pass ? '' : ` — missed by ${v.missedBy}×`));
  return v;
}

/** What a scenario hands back: its figures (for benchmarks.json), Markdown for BENCHMARKS.md, and verdicts. */
export interface ScenarioResult {
  figures: Record<string, unknown>;
  markdown: string;
  verdicts: Verdict[];
}

export interface BenchOptions {
  quick: boolean;
}

/**
 * `count` real cgroups named `vigil-bench-<pid>-<n>`, in every mounted hierarchy (each v1 one and
 * unified/), each with the files the kernel gives it; every `sleeperEvery`-th one holds a
 * sleeping process. `destroy()` kills those processes and removes every directory.
 */
export class BenchCgroups {
  private readonly cgroups: TestCgroup[] = [];

  private forget?: () => void;

  /** Grows the set to `count` cgroups (names continue from the last one). */
  async growTo(count: number, sleeperEvery = 10): Promise<void> {
    this.forget ??= undoOnInterrupt('vigil-bench cgroups', () => this.destroy());
    for (let n = this.cgroups.length; n < count; n++) {
      if (interruptedBy) throw new Error(`the bench was interrupted (${interruptedBy}); not creating more cgroups`);
      const cgroup = new TestCgroup(`vigil-bench-${process.pid}-${n}`);
      this.cgroups.push(cgroup);
      if (n % sleeperEvery === 0) await cgroup.spawn('/bin/sleep', ['3600']);
    }
  }

  static async create(count: number, sleeperEvery = 10): Promise<BenchCgroups> {
    const set = new BenchCgroups();
    try {
      await set.growTo(count, sleeperEvery);
    } catch (error) {
      await set.destroy();
      throw error;
    }
    return set;
  }

  get size(): number {
    return this.cgroups.length;
  }

  async destroy(): Promise<void> {
    this.forget?.();
    this.forget = undefined;
    const failures: string[] = [];
    for (const cgroup of this.cgroups.splice(0)) {
      try {
        await cgroup.destroy();
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (failures.length) throw new Error(failures.join('\n'));
  }
}

/** Markdown table from a header and rows. */
export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
