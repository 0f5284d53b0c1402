/**
 * Scenario 1 — collection cost vs scale. With 10, 100 and 1000 real cgroups, side by side in the
 * same window: the agent (built CLI, --interval 1s, one console stream subscriber), the C floor
 * reading exactly the files the agent read in one pass (list taken with strace), and the PCP
 * stack answering a fetch of the metrics that console shows from pmproxy once per second.
 * Each scale runs twice when the agent has `--collect`: as deployed (collecting what the console
 * asks for) and with `--collect all` (every collector every pass), each against its own floor.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { agentHasCollect, consoleMetrics, servedNames, startAgentProcess, subscribe, type AgentProcess, type Subscriber } from './agent.js';
import { BenchCgroups, cpuMeter, quantile, rssBytes, round, sleep, table, undoOnInterrupt, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';
import { PMPROXY, pcpNames, pmapiContext, startPcp } from './pcp.js';

const FLOOR_C = fileURLToPath(new URL('floor.c', import.meta.url));
/** The first seconds after the console subscribes, reported apart as the agent's warm-up. */
const WARMUP_WINDOW_S = 20;
/** Scales up to this many cgroups are measured over the longer window, and in WINDOWS windows. */
const SMALL_SCALE = 100;
/**
 * Windows per mode at small scales; the verdict is on the window with the median agent ÷ floor.
 * There the agent costs a few ms/s, and one burst of V8's background work (a full collection's
 * marking, a late compile) or of another process on the 2 shared CPUs moved one 24 s window by
 * a fifth between runs of the same build (10 cgroups, --collect all: 22.9 and 27.5 ms/s).
 */
const WINDOWS = 3;
/**
 * The measured window starts this long after the console subscribed. An agent runs for days, so
 * its steady cost is what a host pays. At one pass a second V8 optimises the agent's hot code
 * slowly: a function is compiled once it has run enough bytecode, which takes minutes for code
 * that runs a few times a pass, and the compiler threads' CPU counts. Measured on this VM with
 * one console: at 10 cgroups (`--trace-opt`) 94 TurboFan compiles in the first minute and 80
 * more by 5 minutes, the agent's CPU falling from 9.6 ms/s at 60 s to 6–7 ms/s from about 4
 * minutes on (compiler threads 23–29 % of it at 2–4 minutes, perf); at 100 cgroups about 20 ms/s
 * from 60 to 165 s, about 18 (16–22 per 15 s) from 180 to 570 s.
 *
 * Each scale starts fresh agents rather than growing the cgroups under warm ones: after 90 new
 * cgroups appeared under an agent warm at 10, it cost 21–26 ms/s for about a minute (34 in one
 * bench window) before settling at the 18 of an agent started at 100. That is a figure of
 * churn, not of scale.
 */
const STEADY_AFTER_S = 240;

/** Measures every agent's CPU per second over the next WARMUP_WINDOW_S (the first seconds after they started). */
async function measureWarmup(running: Running[]): Promise<void> {
  const meters = running.map((r) => cpuMeter([r.agent.child.pid!]));
  await sleep(WARMUP_WINDOW_S * 1000);
  meters.forEach((meter, i) => {
    const { cpu, wall } = meter.stop();
    running[i]!.warmupMsPerSample = (cpu / wall) * 1000;
  });
}

/** A file or directory the agent read, and how often: once every `period` passes. */
interface Read {
  path: string;
  period: number;
}

/** What the agent read under /proc and /sys per sampling pass, from strace. */
interface PassReads {
  /** Complete passes traced. */
  passes: number;
  /**
   * Files read (read/pread64/readv) and directories listed (getdents64), each with the period
   * of the passes that read it: a path read in k of n passes is read every round(n / k).
   */
  files: Read[];
  dirs: Read[];
  /** Paths whose metadata it looked up (statx/newfstatat): the fd count of a process is its fd directory's size. */
  stats: Read[];
  /** Distinct files read in each complete pass: most should agree with each other. */
  filesPerPass: number[];
}

/** Syscalls that read a file's contents or list a directory; with -y strace prints the fd's path. */
const READ_CALL = /^(read|pread64|readv|preadv|preadv2|getdents64)\(\d+<(\/(?:proc|sys)\/[^>]*)>.*\)\s+=\s+(-?\d+)/;
/** Syscalls that look up a path's metadata, with the path as an absolute string argument. */
const STAT_CALL = /^(statx|newfstatat)\((?:AT_FDCWD|-?\d+)(?:<[^>]*>)?, "(\/(?:proc|sys)\/[^"]*)".*\)\s+=\s+(-?\d+)/;

/**
 * Attaches `strace -f -y` to the running agent until `passes` complete sampling passes are
 * traced, and returns, per pass, the distinct files it read and directories it listed. Pass
 * boundaries are the sample times `console` receives over the stream (each sample's `t` is when
 * its pass started): the reads between two consecutive sample times belong to the first pass.
 * That marker does not depend on which files the agent reads or whether it reopens them, and a
 * sample the stream skipped only merges two passes, whose distinct files are the same.
 */
async function traceReads(pid: number, console_: Subscriber, work: string, passes: number): Promise<PassReads> {
  const out = `${work}/strace.txt`;
  rmSync(out, { force: true }); // a previous run's trace must not count as this one's
  const strace = spawn('strace', ['-f', '-y', '-ttt', '-s', '0', '-e', 'signal=none', '-e', 'trace=read,pread64,readv,preadv,preadv2,getdents64,statx,newfstatat',
    '-p', String(pid), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => strace.once('exit', resolve));
  let stderr = '';
  let attachedAt = Infinity;
  strace.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (attachedAt === Infinity && stderr.includes(`Process ${pid} attached`)) attachedAt = Date.now();
  });
  // A pass that started after every thread was attached is traced whole; one more sample closes the last pass.
  const traced = (): number[] => console_.times.filter((t) => t > attachedAt);
  const deadline = Date.now() + 300_000;
  while (traced().length < passes + 1 && Date.now() < deadline && strace.exitCode === null) await sleep(250);
  strace.kill('SIGINT');
  await exited;
  const bounds = traced().map((t) => t / 1000);
  if (bounds.length < 2) {
    throw new Error(`strace traced no complete sampling pass of agent ${pid} in 300 s (samples received after attaching: ${bounds.length}); strace said:\n${stderr.slice(-2000)}`);
  }
  const perPass = bounds.slice(1).map(() => ({ files: new Set<string>(), dirs: new Set<string>(), stats: new Set<string>() }));
  const unfinished = new Map<string, { time: number; call: string }>();
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^(\d+)\s+([\d.]+) (.*)$/.exec(line); // strace pads the pid
    if (!m) continue;
    const tid = m[1]!;
    let [time, call] = [Number(m[2]), m[3]!];
    if (call.endsWith(' <unfinished ...>')) {
      unfinished.set(tid, { time, call: call.slice(0, -' <unfinished ...>'.length) });
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(call);
    if (resumed) {
      const start = unfinished.get(tid);
      unfinished.delete(tid);
      if (!start) continue;
      [time, call] = [start.time, start.call + resumed[1]];
    }
    const read = READ_CALL.exec(call) ?? STAT_CALL.exec(call);
    if (!read || Number(read[3]) < 0) continue;
    const pass = bounds.filter((t) => t <= time).length - 1; // bounds are few and sorted
    if (pass < 0 || pass >= perPass.length) continue;
    const kind = read[1] === 'getdents64' ? 'dirs' : read[1] === 'statx' || read[1] === 'newfstatat' ? 'stats' : 'files';
    perPass[pass]![kind].add(read[2]!);
  }
  // Each path at the rate the traced passes read it. Not only what most passes read: the agent
  // reads some files every few passes (TCP states every 5 s, limits every 10th pass), and those
  // reads cost it CPU that the floor must pay too. With few passes traced, a file read every
  // 10th pass shows in one pass or none, so its rate is right over many files, not for each.
  const rated = (sets: Array<Set<string>>): Read[] => {
    const seen = new Map<string, number>();
    for (const set of sets) for (const path of set) seen.set(path, (seen.get(path) ?? 0) + 1);
    return [...seen].map(([path, n]) => ({ path, period: Math.max(1, Math.round(sets.length / n)) }));
  };
  if (perPass.every((p) => p.files.size === 0)) {
    throw new Error(`strace saw agent ${pid} read nothing under /proc or /sys in ${perPass.length} passes: has the output format of strace changed? (${out})`);
  }
  return {
    passes: perPass.length,
    files: rated(perPass.map((p) => p.files)),
    dirs: rated(perPass.map((p) => p.dirs)),
    stats: rated(perPass.map((p) => p.stats)),
    filesPerPass: perPass.map((p) => p.files.size),
  };
}

/** Collector failures the agent has counted (a collector skipped because it was still busy with an earlier pass counts). */
async function collectorErrors(url: string): Promise<number> {
  const reply = (await (await fetch(`${url}/pmapi/fetch?names=vigil.collector.errors`)).json()) as { values: Array<{ instances: Array<{ value: number | string }> }> };
  return reply.values.flatMap((v) => v.instances).reduce((n, i) => n + Number(i.value), 0);
}

/**
 * The floor's list for an agent started with `args` at 1 s, traced on `agent` itself. Under
 * strace a pass can take longer than the collectors' deadline (2 × interval, at least 2 s); a
 * collector then runs on into the next pass and the passes no longer agree. Then the trace is
 * taken again on a second agent with the same arguments at --interval 10s, whose passes end
 * before the next begins; the files do not depend on the interval, and the rates of those read
 * every few passes do not either, but for the TCP state tables, read every TCP_STATES_MS: at
 * 10 s that is every pass, so the floor then reads them every second, 5 times as often as the
 * agent at 1 s does (about 1.6 ms/s here, 1 % of the floor at 1000 cgroups).
 */
async function floorList(agent: AgentProcess, console_: Subscriber, args: readonly string[], metrics: readonly string[], work: string, passes: number): Promise<PassReads & { tracedAt: string }> {
  const trace = async (a: AgentProcess, c: Subscriber): Promise<PassReads & { clean: boolean }> => {
    const errors = await collectorErrors(a.url);
    const reads = await traceReads(a.child.pid!, c, work, passes);
    // Passes differ by design: every 30th pass walks the trees and the one after it reads every
    // limit, TCP states come every 5 s. A trace is sound when most passes read within 5 % of the
    // median pass; strace slowing the agent into overruns shows as collector errors.
    const median = quantile(reads.filesPerPass, 0.5);
    const agreeing = reads.filesPerPass.filter((n) => Math.abs(n - median) <= 0.05 * median).length;
    return { ...reads, clean: (await collectorErrors(a.url)) === errors && agreeing * 2 > reads.filesPerPass.length };
  };
  const first = await trace(agent, console_);
  if (first.clean) return { ...first, tracedAt: '1 s' };
  console.log(`  most traced passes disagree (${first.filesPerPass.join(', ')} files) or collectors overran under strace; tracing an agent at --interval 10s`);
  const slow = await startAgentProcess(['--interval', '10s', ...args]);
  const slowConsole = await subscribe(slow.url, metrics);
  try {
    await sleep(1000);
    return { ...(await trace(slow, slowConsole)), tracedAt: '10 s' };
  } finally {
    slowConsole.close();
    await slow.stop();
  }
}

/** The PCP side: one client fetching `names` from pmproxy once per second on one context, in chunks of URL-friendly size. */
function pollPmproxy(names: readonly string[]): { stop(): Promise<{ fetches: number; errors: number; values: number }> } {
  let running = true;
  let fetches = 0;
  let errors = 0;
  let values = 0;
  const chunks = chunksOf(names);
  const loop = (async () => {
    const context = await pmapiContext(PMPROXY);
    while (running) {
      const t0 = Date.now();
      let inRound = 0;
      for (const chunk of chunks) {
        // pmproxy 6.0.3 now and then stops answering: that is an error, not a hung bench.
        const answered = await countValues(`${PMPROXY}/pmapi/fetch?context=${context}&names=${chunk}`);
        if (answered === undefined) errors++;
        else inRound += answered;
      }
      values = inRound;
      fetches++;
      await sleep(Math.max(0, 1000 - (Date.now() - t0)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { fetches, errors, values };
    },
  };
}

function chunksOf(names: readonly string[]): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < names.length; i += 60) chunks.push(names.slice(i, i + 60).join(','));
  return chunks;
}

/** Instance values in a /pmapi/fetch answer (undefined when the fetch failed): how much work an answer holds. */
async function countValues(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (response.status !== 200) return undefined;
    const reply = (await response.json()) as { values?: Array<{ instances: unknown[] }> };
    return (reply.values ?? []).reduce((n, v) => n + v.instances.length, 0);
  } catch {
    return undefined;
  }
}

/** The agent's values for the same names, fetched the same way (one round). */
async function agentValues(url: string, names: readonly string[]): Promise<number> {
  let total = 0;
  for (const chunk of chunksOf(names)) total += (await countValues(`${url}/pmapi/fetch?names=${chunk}`)) ?? 0;
  return total;
}

/** How the agent collects in a run: as deployed (what subscribers ask for) or every collector every pass. */
interface Mode {
  label: string;
  args: string[];
  /** What the PCP client fetches beside it: the metrics the console shows, or every name both serve. */
  pcpFetches: 'console' | 'all';
}

/** The modes this agent build has: `--collect` arrived with on-demand collection. */
function modes(): Mode[] {
  if (!agentHasCollect()) {
    return [{ label: 'all collectors (this build has no --collect)', args: [], pcpFetches: 'console' }];
  }
  return [
    { label: 'one console (--collect demand)', args: [], pcpFetches: 'console' },
    { label: '--collect all', args: ['--collect', 'all'], pcpFetches: 'all' },
  ];
}

/** One agent per mode at one scale: both warm up together, each is measured alone. */
interface Running {
  mode: Mode;
  agent: AgentProcess;
  console: Subscriber;
  /** What the console subscribes to, and every name the agent serves. */
  shown: string[];
  served: string[];
  startedAt: number;
  /** CPU per second over the first WARMUP_WINDOW_S after the console subscribed. */
  warmupMsPerSample: number;
}

/**
 * Stops (SIGSTOP) the other agents while one is measured, so that two agents on this VM's 2 CPUs
 * do not share caches and run queues in its window; returns the function that resumes them.
 */
function pauseOthers(all: readonly Running[], measured: Running): () => void {
  const others = all.filter((r) => r !== measured);
  const resume = (): void => {
    for (const r of others) r.agent.child.kill('SIGCONT');
  };
  const forget = undoOnInterrupt('resuming paused agents', resume);
  for (const r of others) r.agent.child.kill('SIGSTOP');
  return () => {
    resume();
    forget();
  };
}

/** Reads the floor makes per pass, on average, for a list of paths with their periods. */
const readsPerPass = (reads: readonly Read[]): number => round(reads.reduce((n, r) => n + 1 / r.period, 0), 0);

export async function collectionBench(options: BenchOptions): Promise<ScenarioResult> {
  // Where the agent costs a few ms/s, one major GC or late compile more or less in the window
  // moved an 8 s verdict by a fifth: small scales are measured longer.
  const windows = options.quick ? { small: 24, large: 8 } : { small: 30, large: 15 };
  const windowFor = (scale: number): number => (scale <= SMALL_SCALE ? windows.small : windows.large);
  const tracedPasses = options.quick ? 5 : 10;
  const scales = benchScales();
  const work = mkdtempSync(`${tmpdir()}/vigil-bench-${process.pid}-`);
  const removeWork = (): void => rmSync(work, { recursive: true, force: true });
  const forgetWork = undoOnInterrupt(`${work} (floor, its list, strace output)`, removeWork);
  const floorBin = `${work}/floor`;
  execFileSync('gcc', ['-O2', '-o', floorBin, FLOOR_C]);
  const cgroups = new BenchCgroups();
  const pcp = startPcp();
  const rows: Array<Record<string, string | number>> = [];
  const verdicts: Verdict[] = [];
  const warnings: string[] = [];
  const running: Running[] = [];
  let floor: ChildProcess | undefined;
  try {
    const pcpKnown = pcpNames();
    for (const scale of scales) {
      await cgroups.growTo(scale);
      // Both modes' agents start, subscribe and warm up together; each is measured alone.
      for (const mode of modes()) {
        const agent = await startAgentProcess(['--interval', '1s', ...mode.args]);
        try {
          const served = await servedNames(agent.url);
          const shown = consoleMetrics(served);
          running.push({ mode, agent, console: await subscribe(agent.url, shown), shown, served, startedAt: performance.now(), warmupMsPerSample: NaN });
        } catch (error) {
          // Not in `running` yet, so the cleanup below would not stop it.
          await agent.stop();
          throw error;
        }
      }
      // V8 compiles the agents' hot code over their first minutes (its compiler threads' CPU
      // counts): the first seconds are measured on their own, then left behind.
      await measureWarmup(running);
      await sleep(Math.max(0, STEADY_AFTER_S * 1000 - (performance.now() - running[0]!.startedAt)));
      for (const r of running) {
        const { mode, agent } = r;
        const pid = agent.child.pid!;
        const resume = pauseOthers(running, r);
        try {
          const reads = await floorList(agent, r.console, mode.args, r.shown, work, tracedPasses);
          writeFileSync(`${work}/list.txt`, [...reads.dirs.map((r) => `D ${r.period} ${r.path}`), ...reads.stats.map((r) => `S ${r.period} ${r.path}`), ...reads.files.map((r) => `F ${r.period} ${r.path}`)].join('\n') + '\n');
          floor = spawn(floorBin, [`${work}/list.txt`], { stdio: 'ignore' });
          // Leaf names under what the console subscribes to, as the agent delivers them, that PCP also has.
          const both = r.served.filter((name) => pcpKnown.has(name));
          const pcpSet = mode.pcpFetches === 'all' ? both : both.filter((name) => r.shown.some((m) => name === m || name.startsWith(`${m}.`)));
          const poller = pollPmproxy(pcpSet);
          // The floor and the PCP client start; the strace of the list has let go of the agent.
          await sleep(3000);
          const agentAgeS = (performance.now() - r.startedAt) / 1000;
          // Agent, floor and PCP measured over the same seconds in each window.
          const measured: Array<Record<'ar' | 'fr' | 'pr', { cpu: number; wall: number; system: number }>> = [];
          for (let w = 0; w < (scale <= SMALL_SCALE ? WINDOWS : 1); w++) {
            const [a, f, p] = [cpuMeter([pid]), cpuMeter([floor.pid!]), cpuMeter(pcp.pids())];
            await sleep(windowFor(scale) * 1000);
            measured.push({ ar: a.stop(), fr: f.stop(), pr: p.stop() });
          }
          const ratio = (m: (typeof measured)[number]): number => m.ar.cpu / Math.max(m.fr.cpu, 0.01);
          const perSecond = (c: { cpu: number; wall: number }): number => round((c.cpu / c.wall) * 1000, 1);
          const median = [...measured].sort((x, y) => ratio(x) - ratio(y))[Math.floor(measured.length / 2)]!;
          const { ar, fr, pr } = median;
          const rss = rssBytes(pid);
          const polled = await poller.stop();
          const valuesServed = await agentValues(agent.url, pcpSet);
          floor.kill('SIGKILL');
          floor = undefined;
          const row = {
            cgroups: scale,
            agent: mode.label,
            passesTraced: reads.passes,
            tracedAtInterval: reads.tracedAt,
            filesPerPass: readsPerPass(reads.files),
            filesEveryPass: reads.files.filter((r) => r.period === 1).length,
            filesPerPassRange: `${Math.min(...reads.filesPerPass)}–${Math.max(...reads.filesPerPass)}`,
            dirsPerPass: readsPerPass(reads.dirs),
            statsPerPass: readsPerPass(reads.stats),
            agentAgeS: round(agentAgeS, 0),
            agentWarmupMsPerSample: round(r.warmupMsPerSample, 1),
            agentMsPerSample: perSecond(ar),
            agentUsPerCgroup: round(((ar.cpu / ar.wall) * 1e6) / scale, 0),
            agentCorePct: round((ar.cpu / ar.wall) * 100, 2),
            // The kernel's part: what reading the files costs whoever reads them.
            agentKernelMsPerSample: perSecond({ cpu: ar.system, wall: ar.wall }),
            floorMsPerSample: perSecond(fr),
            floorKernelMsPerSample: perSecond({ cpu: fr.system, wall: fr.wall }),
            agentOverFloor: round(ratio(median), 2),
            windows: measured.map((m) => `${perSecond(m.ar)} / ${perSecond(m.fr)} = ${round(ratio(m), 2)}`).join('; '),
            pcpFetches: mode.pcpFetches,
            pcpMetrics: pcpSet.length,
            pcpMsPerSample: perSecond(pr),
            agentOverPcp: round(ar.cpu / Math.max(pr.cpu, 0.01), 2),
            // Per value of the shared names: where PCP returns fewer values than the agent for
            // the same names (cgroup files it cannot read here), this is the like-for-like figure.
            agentUsPerValue: round(((ar.cpu / ar.wall) * 1e6) / Math.max(valuesServed, 1), 1),
            pcpUsPerValue: round(((pr.cpu / pr.wall) * 1e6) / Math.max(polled.values, 1), 1),
            pcpFetchErrors: polled.errors,
            pcpValuesPerFetch: polled.values,
            agentValuesSameNames: valuesServed,
            agentRssMiB: round(rss / 2 ** 20, 1),
          };
          rows.push(row);
          console.log(`collection @${scale} cgroups, ${mode.label}: ${JSON.stringify(row)}`);
          verdicts.push(verdict(`collection within 3× the C floor (${scale} cgroups, ${mode.label})`, row.agentOverFloor, 3, '× floor'));
          if (scale === 100 && mode.pcpFetches === 'console') {
            verdicts.push(verdict(`agent CPU at 1 s, 100 cgroups + one console, vs PCP stack fetching what that console shows (${mode.label})`, row.agentOverPcp, 0.5, '× PCP'));
            verdicts.push(verdict(`agent CPU at 1 s, 100 cgroups + one console (${mode.label})`, row.agentCorePct, 1, '% of one core'));
          }
        } finally {
          resume();
        }
      }
      for (const r of running.splice(0)) {
        r.console.close();
        await r.agent.stop();
      }
    }
    warnings.push(...listsGrow(rows));
  } finally {
    floor?.kill('SIGKILL');
    for (const r of running) {
      r.console.close();
      await r.agent.stop();
    }
    await cgroups.destroy();
    pcp.stop();
    forgetWork();
    removeWork();
  }
  for (const w of warnings) console.log(`  WARNING ${w}`);
  const markdown = [
    `At each scale a fresh agent per mode (\`node dist/agent/cli.js --interval 1s\`, with one WebSocket subscriber holding the console's main subscription) ran beside the C floor and the PCP stack **at the same time, in ${WINDOWS} windows of ${windows.small} s one after another, the figures being those of the window with the median agent ÷ floor** (one window of ${windows.large} s at more than ${SMALL_SCALE} cgroups, where the agent's CPU is tens of ms per second and steadier); where the agent has \`--collect\` there are two agents, as deployed (it collects what its subscribers ask for) and with \`--collect all\`, each beside its own floor, both warming up together and each measured alone (the other stopped with SIGSTOP meanwhile). CPU is the processes' threads' time on a CPU from /proc/<pid>/task/*/schedstat (nanoseconds; /proc/<pid>/stat counts 10 ms ticks, too coarse for the floor's 1–2 ms/s at 10 cgroups) over that window, per second (= per sample at 1 s). The window starts ${STEADY_AFTER_S} s after the console subscribed ("agent age"): an agent runs for days, and at one pass a second V8 takes minutes to optimise the agent's hot code, on compiler threads whose CPU counts (measured here: at 60 s an agent still cost 10–40 % more than from 4 minutes on). That warm-up is shown apart: "first ${WARMUP_WINDOW_S} s" is the agent's CPU per second over the ${WARMUP_WINDOW_S} s after the console subscribed (both agents running, no strace attached); it is not what the budgets compare. "of which kernel" is the part of that CPU time spent in the kernel (the window's system ticks ÷ all its ticks from /proc/<pid>/stat, times the CPU time): the cost of the reads themselves, which any reader of those files pays, apart from its own code.`,
    `The floor's file list comes from \`strace -f -y -p <agent>\` over read, pread64, readv, getdents64, statx and newfstatat for ${tracedPasses} complete sampling passes, cut into passes at the sample times the console subscriber received (a pass runs from its sample's \`t\` to the next one's): every file under /proc and /sys read, every directory listed and every path whose metadata it looked up (the agent counts a process's descriptors from the size of its fd directory), each at the rate the traced passes read it (a path read in k of n passes is read every round(n/k) passes: the agent reads TCP states every 5 s and limit files every 10th pass, and the floor pays for those reads too). "files/pass" is the reads the floor makes per pass on average, "every pass" the files it reads each pass; "range" is the distinct files each traced pass read. When fewer than half of the passes read within 5 % of the median pass's count, or a collector overran its deadline during the trace (strace slows the agent; a slow collector then runs on into the next pass), the list is taken again from a second agent with the same arguments at \`--interval 10s\` ("traced at"; that agent reads the TCP state tables every pass, so the floor then reads them every second, 5 times as often as the measured agent: about 1.6 ms/s more floor here). \`bench/floor.c\` opens, reads to EOF and closes each file (directories: opendir/readdir/closedir; looked-up paths: stat) once per period of seconds, spread over the seconds, as a naive reader does.`,
    'The PCP side is pmcd + every PMDA it runs + pmproxy (pids from /run/pcp/*.pid and pmcd\'s children), with one client fetching from pmproxy once per second on one context, in chunks of 60 names per request. Beside the agent as deployed it fetches the metrics one console shows (the leaf names under the console\'s main subscription that PCP also serves): that is the budget\'s comparison. Beside `--collect all` it fetches every name both serve: an extra figure, not a budget. "PCP values" counts the instance values one round of those fetches returned, and "agent values" what the agent returns for the same names: on hosts where PCP cannot read some cgroup files its side does less work than the names suggest. "µs/value" divides each side\'s CPU per sample by the values it returned for those names: the like-for-like figure when the counts differ.',
    ...warnings.map((w) => `\n**Warning:** ${w}`),
    '',
    table(
      ['cgroups', 'agent', 'traced at', 'files/pass', 'every pass', 'range', 'dirs/pass', 'stats/pass', `agent ms CPU/s, first ${WARMUP_WINDOW_S} s`, 'agent age s', 'agent ms CPU/sample', 'agent µs/cgroup', 'agent % core', 'of which kernel ms/s', 'floor ms/sample', 'of which kernel ms/s', 'agent ÷ floor', 'each window: agent / floor ms/s = ratio', 'PCP fetches', 'PCP metrics', 'PCP values', 'agent values', 'PCP ms/s', 'PCP fetch errors', 'agent ÷ PCP', 'agent µs/value', 'PCP µs/value', 'agent RSS MiB'],
      rows.map((r) => [r.cgroups!, r.agent!, r.tracedAtInterval!, r.filesPerPass!, r.filesEveryPass!, r.filesPerPassRange!, r.dirsPerPass!, r.statsPerPass!, r.agentWarmupMsPerSample!, r.agentAgeS!, r.agentMsPerSample!, r.agentUsPerCgroup!, r.agentCorePct!, r.agentKernelMsPerSample!, r.floorMsPerSample!, r.floorKernelMsPerSample!, r.agentOverFloor!, r.windows!,
        r.pcpFetches === 'all' ? 'every shared name (extra, not a budget)' : 'what one console shows', r.pcpMetrics!, r.pcpValuesPerFetch!, r.agentValuesSameNames!, r.pcpMsPerSample!, r.pcpFetchErrors!, r.agentOverPcp!, r.agentUsPerValue!, r.pcpUsPerValue!, r.agentRssMiB!]),
    ),
  ].join('\n');
  return { figures: { windowSeconds: windows, warmupWindowSeconds: WARMUP_WINDOW_S, steadyAfterSeconds: STEADY_AFTER_S, tracedPasses, scales: rows, warnings }, markdown, verdicts };
}

/**
 * The scales to measure: 10, 100 and 1000 cgroups, or those in `VIGIL_BENCH_SCALES` (comma
 * separated; for working on one scale, a run then does not stand for the budgets).
 */
function benchScales(): number[] {
  const chosen = process.env.VIGIL_BENCH_SCALES;
  if (!chosen) return [10, 100, 1000];
  const scales = chosen.split(',').map(Number);
  if (scales.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`VIGIL_BENCH_SCALES=${chosen}: give cgroup counts separated by commas, such as 10,100`);
  return scales;
}

/** Sanity check of the strace lists: with more cgroups an agent must read more files. */
function listsGrow(rows: ReadonlyArray<Record<string, string | number>>): string[] {
  const warnings: string[] = [];
  for (const agent of new Set(rows.map((r) => r.agent))) {
    const sizes = rows.filter((r) => r.agent === agent).map((r) => [r.cgroups as number, r.filesPerPass as number] as const);
    for (let i = 1; i < sizes.length; i++) {
      if (sizes[i]![1] <= sizes[i - 1]![1]) {
        warnings.push(`the floor's file list for "${agent}" did not grow with scale (${sizes[i - 1]![1]} files at ${sizes[i - 1]![0]} cgroups, ${sizes[i]![1]} at ${sizes[i]![0]}): its floor figures are not trustworthy`);
      }
    }
  }
  return warnings;
}
