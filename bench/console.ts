/**
 * Scenario 5 — the console in headless Chromium with 20 hosts × 50 containers (20 real agents
 * on this machine, each seeing the same 50 bench cgroups with a process in each, as
 * test/e2e/console-scale.test.ts does), and the gzipped size of the built bundle.
 *
 * Frame cost is measured two ways in the same window. The page times its own rAF callbacks
 * (what the console's code does per frame), but a frame also costs the style recalculation,
 * layout, paint and Lit's microtask renders that those callbacks cause. So Chromium is traced
 * (CDP Tracing) as well: a frame is the renderer main-thread task that runs
 * `ProxyMain::BeginMainFrame`, and its whole duration — rAF callbacks, microtasks, style,
 * layout, pre-paint, paint, commit — is the frame's cost. The budget verdict is on that figure.
 * CDP `Performance.getMetrics` deltas say where the main thread's time went over the window,
 * stream messages included. A window's p95 rests on its few slowest frames, and other work shares
 * the 2 CPUs: each view is measured in ROUNDS windows one after another, and the verdict is the
 * median of their p95s, reported with the lowest and highest.
 *
 * `VIGIL_BENCH_PROFILE=<dir>` also writes a CPU profile and the trace of each view there (open
 * them in Chromium's DevTools, Performance panel).
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { startAgentProcess, type AgentProcess } from './agent.js';
import { BenchCgroups, cpuMeter, quantile, round, sleep, table, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';

const HOSTS = 20;
const CGROUPS = 50;
const WEB = fileURLToPath(new URL('../dist/web/', import.meta.url));
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// As in the e2e scale test: per-process collectors are left out so 20 agents on 2 CPUs leave room for the browser.
const COLLECTORS = 'loadavg,stat,kernel,pmcd,pressure,meminfo,vmstat,disk,network,containers,cgroup';
/** Measuring windows per view (each `seconds` long); the verdict is the median of their frame p95s. */
const ROUNDS = 3;
/** Top-level tasks (toplevel), frames (benchmark: BeginMainFrame and the lifecycle phases), and DevTools' own events. */
const TRACE_CATEGORIES = ['toplevel', 'benchmark', 'devtools.timeline'];

/** Installed before the console's scripts: times every rAF callback, summed per frame. */
const FRAME_TIMER = `(() => {
  const raf = window.requestAnimationFrame.bind(window);
  const frames = new Map();
  window.__frames = frames;
  window.requestAnimationFrame = (cb) => raf((ts) => {
    const t0 = performance.now();
    try { cb(ts); } finally { frames.set(ts, (frames.get(ts) || 0) + performance.now() - t0); }
  });
})();`;

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  /** Wall and thread (CPU) duration, µs. */
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** Whole-frame costs, ms: wall time and the main thread's CPU time of each frame's task. */
interface FrameCosts {
  wall: number[];
  cpu: number[];
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(`${dir}/${name}`).isDirectory() ? files(`${dir}/${name}`) : [`${dir}/${name}`]));
}

/**
 * The task around each `ProxyMain::BeginMainFrame` on the page's renderer main thread (the
 * CrRendererMain thread with the most frames: other renderers may idle in the trace).
 */
function framesOfTrace(events: readonly TraceEvent[]): FrameCosts {
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const thread = `${e.pid}:${e.tid}`;
    if (e.ph !== 'X' || e.name !== 'ProxyMain::BeginMainFrame' || !mains.has(thread)) continue;
    if (!byThread.has(thread)) byThread.set(thread, []);
    byThread.get(thread)!.push(e);
  }
  const [thread, frames] = [...byThread].sort((a, b) => b[1].length - a[1].length)[0] ?? ['', []];
  const tasks = events
    .filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && `${e.pid}:${e.tid}` === thread)
    .sort((a, b) => a.ts - b.ts);
  const costs: FrameCosts = { wall: [], cpu: [] };
  let i = 0;
  for (const frame of [...frames].sort((a, b) => a.ts - b.ts)) {
    while (i < tasks.length && tasks[i]!.ts + tasks[i]!.dur! < frame.ts) i++;
    const task = tasks[i] && tasks[i]!.ts <= frame.ts ? tasks[i]! : frame;
    costs.wall.push(task.dur! / 1000);
    costs.cpu.push((task.tdur ?? task.dur!) / 1000);
  }
  return costs;
}

/** CDP Performance metrics that say where main-thread time goes (seconds, cumulative). */
async function performanceMetrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

/** The events of a trace recorded with `transferMode: 'ReturnAsStream'`, read from its stream. */
async function readTrace(cdp: CDPSession, stream: string | undefined): Promise<TraceEvent[]> {
  if (!stream) throw new Error('Chromium ended the trace without a stream to read it from');
  const chunks: Buffer[] = [];
  for (;;) {
    const { data, eof, base64Encoded } = await cdp.send('IO.read', { handle: stream, size: 4 << 20 });
    chunks.push(Buffer.from(data, base64Encoded ? 'base64' : 'utf8'));
    if (eof) break;
  }
  await cdp.send('IO.close', { handle: stream });
  const trace = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TraceEvent[] | { traceEvents: TraceEvent[] };
  return Array.isArray(trace) ? trace : trace.traceEvents;
}

/** Everything measured about one view over one window. */
async function measure(page: Page, cdp: CDPSession, seconds: number, profileTo?: string): Promise<{ raf: number[]; frames: FrameCosts; perSecond: Record<string, number> }> {
  const complete = new Promise<string | undefined>((resolve) => cdp.once('Tracing.tracingComplete', (e) => resolve(e.stream)));
  // Profiling, the trace also gets DevTools' detail (each frame's style, layout, paint and commit steps).
  const categories = profileTo ? [...TRACE_CATEGORIES, 'disabled-by-default-devtools.timeline', 'blink', 'cc'] : TRACE_CATEGORIES;
  // The trace stays in the browser until the window ends: streamed out as it is recorded
  // (ReportEvents), its serialising and sending took the shared CPUs from the frames measured.
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: categories, recordMode: 'recordAsMuchAsPossible' }, transferMode: 'ReturnAsStream', streamFormat: 'json' });
  if (profileTo) await cdp.send('Profiler.start');
  await page.evaluate(() => (window as unknown as { __frames: Map<number, number> }).__frames.clear());
  const before = await performanceMetrics(cdp);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const after = await performanceMetrics(cdp);
  const wall = (performance.now() - t0) / 1000;
  const raf = await page.evaluate(() => [...(window as unknown as { __frames: Map<number, number> }).__frames.values()]);
  const profile = profileTo ? (await cdp.send('Profiler.stop')).profile : undefined;
  await cdp.send('Tracing.end');
  const events = await readTrace(cdp, await complete);
  if (profileTo) {
    writeFileSync(`${profileTo}.cpuprofile`, JSON.stringify(profile));
    writeFileSync(`${profileTo}.trace.json`, JSON.stringify({ traceEvents: events }));
  }
  const delta = (name: string): number => round(((after[name]! - before[name]!) * 1000) / wall, 1);
  return {
    raf: raf.filter((ms) => ms > 0),
    frames: framesOfTrace(events),
    perSecond: {
      taskMs: delta('TaskDuration'),
      scriptMs: delta('ScriptDuration'),
      styleMs: delta('RecalcStyleDuration'),
      layoutMs: delta('LayoutDuration'),
    },
  };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

const median = (values: readonly number[]): number => quantile(values, 0.5);

const stats = (values: number[]): { p50: number; p95: number; max: number } => ({
  p50: round(quantile(values, 0.5), 2), p95: round(quantile(values, 0.95), 2), max: round(Math.max(...values), 2),
});

export async function consoleBench(options: BenchOptions): Promise<ScenarioResult> {
  const seconds = options.quick ? 10 : 20;
  const profileDir = process.env.VIGIL_BENCH_PROFILE;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const all = files(WEB);
  const gz = (pick: (f: string) => boolean): number => all.filter(pick).reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const bundle = { jsGzipBytes: gz((f) => f.endsWith('.js')), cssGzipBytes: gz((f) => f.endsWith('.css')), totalGzipBytes: gz(() => true) };
  const verdicts: Verdict[] = [verdict('console bundle (dist/web, every file) gzipped', bundle.totalGzipBytes / 1024, 150, 'KiB')];
  const cgroups = await BenchCgroups.create(CGROUPS, 1);
  const agents: AgentProcess[] = [];
  let browser: Browser | undefined;
  const views: Array<Record<string, string | number | undefined | Record<string, number>>> = [];
  try {
    for (let i = 0; i < HOSTS; i += 4) {
      agents.push(...(await Promise.all(Array.from({ length: 4 }, () => startAgentProcess(['--interval', '1s', '--collectors', COLLECTORS])))));
    }
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.addInitScript(FRAME_TIMER);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    if (profileDir) await cdp.send('Profiler.enable');
    const query = agents.map((a) => `host=${encodeURIComponent(a.url)}`).join('&');
    for (const [view, slug, suffix, ready] of [
      ['overview, 20 hosts side by side', 'overview', '', async () => (await page.locator('host-list .chip[data-state="live"]').count()) === HOSTS],
      ['containers view, 1000 rows', 'containers', '&view=containers&cgroups=1', async () => {
        const m = /(\d+) of (\d+)/.exec(await page.locator('containers-view .count').innerText());
        return !!m && Number(m[2]) >= HOSTS * CGROUPS;
      }],
    ] as const) {
      await page.goto(`${agents[0]!.url}/?${query}${suffix}`);
      await until(view, ready);
      await sleep(3000);
      // The agents share the 2 CPUs with the browser (on a real desk they are other machines).
      const agentsMeter = cpuMeter(agents.map((a) => a.child.pid!));
      // One window's p95 rests on its two or three slowest frames, and the 2 CPUs are shared:
      // several windows in a row, and the verdict on the median of their p95s.
      const rounds: Array<Awaited<ReturnType<typeof measure>>> = [];
      for (let r = 0; r < ROUNDS; r++) rounds.push(await measure(page, cdp, seconds, r === 0 && profileDir ? `${profileDir}/console-${slug}` : undefined));
      const agentsCpu = agentsMeter.stop();
      const p95s = rounds.map((m) => quantile(m.frames.wall, 0.95));
      const walls = rounds.flatMap((m) => m.frames.wall);
      const frame = stats(walls);
      const raf = stats(rounds.flatMap((m) => m.raf));
      const perSecond = Object.fromEntries(Object.keys(rounds[0]!.perSecond).map((k) => [k, round(median(rounds.map((m) => m.perSecond[k]!)), 1)]));
      // Every agent lists every cgroup of this machine, other runs' included: the table may hold
      // far more than HOSTS × CGROUPS rows, and its cost follows the count, so it is reported.
      const rows = slug === 'containers' ? Number(/of (\d+)/.exec(await page.locator('containers-view .count').innerText())?.[1]) : undefined;
      const row = {
        view, rows, rounds: ROUNDS, frames: walls.length, p50Ms: frame.p50, p95Ms: round(median(p95s), 2),
        p95MinMs: round(Math.min(...p95s), 2), p95MaxMs: round(Math.max(...p95s), 2), pooledP95Ms: frame.p95, maxMs: frame.max,
        cpuP95Ms: round(median(rounds.map((m) => quantile(m.frames.cpu, 0.95))), 2),
        rafFrames: rounds.reduce((n, m) => n + m.raf.length, 0), rafP50Ms: raf.p50, rafP95Ms: raf.p95, mainThreadPerSecond: perSecond,
        agentsCorePct: round((agentsCpu.cpu / agentsCpu.wall) * 100, 1),
      };
      views.push(row);
      console.log(`  console ${JSON.stringify(row)}`);
      verdicts.push(verdict(`console frame p95 (whole frame: script, style, layout, paint; median of ${ROUNDS} windows), ${view}`, row.p95Ms, 8, 'ms'));
    }
  } finally {
    await browser?.close();
    await Promise.all(agents.map((a) => a.stop()));
    await cgroups.destroy();
  }
  const perSecond = (v: (typeof views)[number]): Record<string, number> => v.mainThreadPerSecond as Record<string, number>;
  const markdown = [
    `Headless Chromium (/usr/bin/chromium, 1600×1000, --disable-gpu) on the console of 20 real agents (\`--interval 1s\`, without per-process collectors, as in test/e2e/console-scale.test.ts), each seeing the same 50 bench cgroups with a sleeping process in each, in ${ROUNDS} windows of ${seconds} s per view, one after another. The agents run on the same 2 CPUs as the browser (on a real desk they are other machines): the last column is their CPU while each view was measured. Letting them warm up for 3 minutes first was tried and changed little (they used 28 % of one core over those minutes, 27–31 % while measured). Nor is the agents' CPU what makes wall time exceed CPU time: with all 20 at SCHED_IDLE (\`chrt -i 0\`, so that any browser thread preempts them at once) the overview's wall p95 was 11.9 ms against 12.2 at normal priority, back to back. In a profiled window, while the slowest frames ran, the browser's own compositor threads were busy 5–7 ms per frame beside them, and the main thread waited on them in commit (\`DoUpdateLayers\`, \`BeginMainFrame::commit\`).`,
    '',
    'A **frame** is the renderer main-thread task that ran `ProxyMain::BeginMainFrame` in a Chromium trace: rAF callbacks, the Lit renders they queue, style, layout, pre-paint, paint and commit (raster runs off the main thread). *wall* is its duration, *CPU* the main thread\'s CPU time in it (the difference is time the 2 shared CPUs spent elsewhere). A window\'s p95 rests on its two or three slowest frames and the CPUs are shared, so *wall p95* (the verdict) is the median of the windows\' p95s, with the lowest and highest beside it; *pooled p95* is over all windows\' frames together, *CPU p95* the median of the windows\'. *rAF only* is the older figure: the page timing its own requestAnimationFrame callbacks, which misses style, layout, paint and microtask renders. *Main thread ms/s* are CDP `Performance.getMetrics` deltas over a window (median of the windows\'): all tasks (stream messages included), of which script, style recalculation and layout.',
    '',
    table(
      ['view', 'frames', 'wall p50 ms', 'wall p95 ms (median of windows)', 'p95 of each window, lowest–highest', 'pooled p95 ms', 'wall max ms', 'CPU p95 ms', 'rAF only p50 ms', 'rAF only p95 ms', 'main thread ms/s', 'script ms/s', 'style ms/s', 'layout ms/s', '20 agents, % of one core'],
      views.map((v) => [v.rows ? `${v.view as string} (${v.rows as number} in this run)` : v.view as string, v.frames as number, v.p50Ms as number, v.p95Ms as number, `${v.p95MinMs as number}–${v.p95MaxMs as number}`, v.pooledP95Ms as number, v.maxMs as number, v.cpuP95Ms as number, v.rafP50Ms as number, v.rafP95Ms as number,
        perSecond(v).taskMs!, perSecond(v).scriptMs!, perSecond(v).styleMs!, perSecond(v).layoutMs!, v.agentsCorePct as number]),
    ),
    '',
    `Bundle (dist/web, gzip -9): JS ${(bundle.jsGzipBytes / 1024).toFixed(1)} KiB, CSS ${(bundle.cssGzipBytes / 1024).toFixed(1)} KiB, every file ${(bundle.totalGzipBytes / 1024).toFixed(1)} KiB.`,
  ].join('\n');
  return { figures: { bundle, views, seconds }, markdown, verdicts };
}
