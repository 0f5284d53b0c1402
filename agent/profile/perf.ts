import { spawn, type ChildProcess } from 'node:child_process';
import { readOptional } from '../collectors/read.js';
import { parseProcStat } from '../parsers/proc-pid.js';
import { PerfScriptParser, type PerfSample } from './perf-script.js';

/** What `perf script` prints for each sample; the parser in perf-script.ts reads exactly this. */
export const SCRIPT_FIELDS = 'comm,pid,tid,time,ip,sym,dso';

export interface PerfRunOptions {
  /** The perf executable (`perf`, found on PATH). */
  perf: string;
  /** Samples per second per CPU. */
  frequency: number;
  /**
   * Record this long, timed by perf itself (`-- sleep N`: the clock starts once perf has set up,
   * which takes seconds on a loaded host); until `stop()` when absent.
   */
  seconds?: number;
  /** Only tasks in this cgroup, a path relative to the mount perf uses (`-G`); every task when absent. */
  cgroup?: string;
  /**
   * perf's ring buffer per CPU, in pages. perf wakes up to copy samples out when it is half
   * full, so a small buffer makes samples of a quiet cgroup arrive within seconds (live mode)
   * rather than when the profile ends.
   */
  mmapPages?: number;
  /** A private directory for perf's HOME (its ~/.debug build-id cache and config). */
  home: string;
  procfs: string;
  onSample(sample: PerfSample): void;
}

/** Why perf did not profile, in words that say what to do. */
export class PerfError extends Error {}

/**
 * One perf session: `perf record -o -` piped straight into `perf script -i -`, so that samples
 * stream in while it runs (live mode) and nothing but perf's HOME touches the disk. It records
 * for `seconds` or until `stop()`; `done` settles once both processes have exited.
 */
export class PerfRun {
  /** Settles when perf record has exited: recording is over, perf script is finishing. */
  readonly recorded: Promise<void>;
  readonly done: Promise<void>;
  private readonly record: ChildProcess;
  private readonly script: ChildProcess;
  private stopping = false;
  private readonly cpuMs = new Map<number, number>();
  private readonly poller: NodeJS.Timeout;

  constructor(private readonly options: PerfRunOptions) {
    const env = { ...process.env, HOME: options.home, PAGER: 'cat' };
    const args = ['record', '-e', 'cpu-clock', '-F', String(options.frequency), '-a', '-g', '-k', 'mono'];
    // -G applies to the event before it, so it must follow -e.
    if (options.cgroup !== undefined) args.push('-G', options.cgroup);
    if (options.mmapPages !== undefined) args.push('-m', String(options.mmapPages));
    args.push('--no-buildid-cache', '-o', '-');
    if (options.seconds !== undefined) args.push('--', 'sleep', String(options.seconds));
    this.record = spawn(options.perf, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.script = spawn(options.perf, ['script', '-i', '-', '-F', SCRIPT_FIELDS], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.record.stdout!.pipe(this.script.stdin!);
    // perf script may exit first (bad input); perf record then gets EPIPE, which is not news.
    this.script.stdin!.on('error', () => undefined);

    const parser = new PerfScriptParser(options.onSample);
    this.script.stdout!.setEncoding('utf8').on('data', (chunk: string) => parser.feed(chunk));
    this.script.stdout!.on('end', () => {
      parser.end();
      // perf script is still alive here, after all its work: its last CPU reading is complete.
      this.pollCpu();
    });
    const recordErr = collect(this.record);
    const scriptErr = collect(this.script);
    this.poller = setInterval(() => this.pollCpu(), 1000);
    this.poller.unref();

    const recordExit = exited(this.record);
    // perf script keeps its normal priority after recording ends. Its last symbol lookups take
    // about a second of CPU, and the host being profiled is usually busy: at nice 19 beside a
    // few busy tasks it got ~2% of a CPU and a 3 s profile took 40 s to arrive.
    this.recorded = recordExit.then(() => undefined);
    this.done = Promise.all([recordExit, exited(this.script)]).then(([record, script]) => {
      clearInterval(this.poller);
      if (record.error) throw new PerfError(explainSpawnFailure(options.perf, record.error));
      // Stopped by us: perf record re-raises SIGINT after writing its last data, or was killed.
      const recordOk = record.code === 0 || (this.stopping && record.signal !== null);
      if (!recordOk) throw new PerfError(explainPerfFailure(recordErr(), record.code, record.signal));
      // Stopped before perf record wrote its header, perf script finds no data ("incompatible
      // file format"): nothing was recorded, which is no failure.
      if (script.code !== 0 && !this.stopping) {
        throw new PerfError(`perf script failed (${script.signal ?? `exit ${script.code}`}): ${firstLines(scriptErr())}`);
      }
    });
    // Nobody may be waiting yet; the rejection is observed through `done`.
    this.done.catch(() => undefined);
  }

  /** Ends recording; perf script then drains what was recorded and `done` settles. */
  stop(): void {
    this.stopping = true;
    signal(this.record, 'SIGINT');
  }

  /** Ends both processes at once, dropping samples not yet read (agent shutdown). */
  kill(): void {
    this.stopping = true;
    signal(this.record, 'SIGKILL');
    signal(this.script, 'SIGKILL');
  }

  /** CPU time perf has used so far, in seconds: both processes, read from /proc about once a second. */
  get cpuSeconds(): number {
    let ms = 0;
    for (const value of this.cpuMs.values()) ms += value;
    return ms / 1000;
  }

  private pollCpu(): void {
    for (const child of [this.record, this.script]) {
      // Once reaped, its pid may already be someone else's.
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      try {
        const text = readOptional(`${this.options.procfs}/${child.pid}/stat`);
        if (text === undefined) continue;
        const stat = parseProcStat(text);
        this.cpuMs.set(child.pid, Number(stat.utimeMs + stat.stimeMs));
      } catch {
        // An unreadable /proc entry only costs the overhead figure its latest reading.
      }
    }
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

function exited(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** The first 64 KiB of a child's stderr: enough for any perf error message. */
function collect(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    if (text.length < 65536) text += chunk;
  });
  return () => text;
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(name);
}

function firstLines(text: string, n = 3): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('[ perf record:')).slice(0, n).join(' ');
}

export function explainSpawnFailure(perf: string, error: Error): string {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return `perf is not installed (no "${perf}" on PATH): install it (Debian: apt-get install linux-perf; Ubuntu: linux-tools-$(uname -r); Fedora/RHEL: dnf install perf) or start the agent where it is`;
  }
  if ((error as NodeJS.ErrnoException).code === 'EACCES') return `cannot run ${perf}: permission denied; make it executable for the agent's user`;
  return `cannot run ${perf}: ${error.message}`;
}

/** perf record's complaints, translated into what to do about them. */
export function explainPerfFailure(stderr: string, code: number | null, signalName: NodeJS.Signals | null = null): string {
  const paranoid = /perf_event_paranoid setting is (-?\d+)/.exec(stderr);
  if (paranoid || /Access to performance monitoring and observability operations is limited/.test(stderr)) {
    return (
      `perf is not permitted to sample every CPU (kernel.perf_event_paranoid is ${paranoid?.[1] ?? 'too high'}): ` +
      `run the agent as root or with CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8), or allow it with ` +
      `"sysctl -w kernel.perf_event_paranoid=-1" (persist it in /etc/sysctl.d/)`
    );
  }
  const cgroup = /no access to cgroup (\S+)/.exec(stderr);
  if (cgroup) return `perf cannot open the cgroup ${cgroup[1]}: it does not exist (any more), or is not on a cgroup v2 or perf_event v1 hierarchy perf can see`;
  const kernel = /perf not found for kernel (\S+)/.exec(stderr);
  if (kernel) return `perf does not match the running kernel ${kernel[1]}: install the linux-perf package for this kernel (Ubuntu: linux-tools-${kernel[1]})`;
  if (/Permission denied|Operation not permitted/.test(stderr)) {
    return `perf was refused (${firstLines(stderr, 1)}): run the agent as root or with CAP_PERFMON and CAP_SYS_PTRACE`;
  }
  const how = signalName ?? `exit ${code}`;
  return `perf record failed (${how})${stderr.trim() ? `: ${firstLines(stderr)}` : ''}`;
}
