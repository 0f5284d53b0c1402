/**
 * Scenario 1 — collection cost vs scale. With 10, 100 and 1000 real cgroups, side by side in the
 * same window: the agent (built CLI, --interval 1s, one console stream subscriber), the C floor
 * reading exactly the files the agent read in one pass (list taken with strace), and the PCP
 * stack answering a fetch of the same metric names from pmproxy once per second.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { consoleMetrics, servedNames, startAgentProcess, subscribe, type AgentProcess } from './agent.js';
import { BenchCgroups, cpuMeter, rssBytes, round, sleep, table, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';
import { PMPROXY, pcpNames, pmapiContext, startPcp } from './pcp.js';

const FLOOR_C = fileURLToPath(new URL('floor.c', import.meta.url));

/** Paths the agent opened in one pass, with how often, from `strace -f -e trace=openat` over several passes. */
interface OpenList {
  passes: number;
  entries: Array<{ dir: boolean; times: number; path: string }>;
}

/**
 * Attaches strace to the running agent (all threads), waits until it has done `passes` passes
 * (counted by its opens of /proc/loadavg, which the loadavg collector reads once per pass),
 * detaches, and divides each path's successful opens by the pass count.
 */
async function traceOnePass(pid: number, work: string, passes = 4): Promise<OpenList> {
  const out = `${work}/strace.txt`;
  rmSync(out, { force: true }); // a previous scale's trace must not count as this one's
  const strace = spawn('strace', ['-f', '-p', String(pid), '-e', 'trace=openat', '-o', out], { stdio: 'ignore' });
  const exited = new Promise((resolve) => strace.once('exit', resolve));
  const count = (): number => {
    try {
      return readFileSync(out, 'utf8').split('"/proc/loadavg"').length - 1;
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + 120_000;
  while (count() < passes + 1 && Date.now() < deadline) await sleep(500);
  strace.kill('SIGINT');
  await exited;
  const pending = new Map<string, string>();
  const opens = new Map<string, number>();
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const [tid, ...rest] = line.split(' ');
    let call = rest.join(' ');
    if (call.includes('<unfinished ...>')) {
      pending.set(tid!, call.replace(' <unfinished ...>', ''));
      continue;
    }
    const resumed = /^<\.\.\. openat resumed>(.*)$/.exec(call);
    if (resumed) call = (pending.get(tid!) ?? '') + resumed[1];
    const m = /^openat\([^,]+, "([^"]+)", ([A-Z_|]+)[^)]*\)\s+=\s+(-?\d+)/.exec(call);
    if (!m || Number(m[3]) < 0 || !/^\/(proc|sys)\//.test(m[1]!)) continue;
    const key = `${m[2]!.includes('O_DIRECTORY') ? 'D' : 'F'} ${m[1]}`;
    opens.set(key, (opens.get(key) ?? 0) + 1);
  }
  const measured = opens.get('F /proc/loadavg') ?? 0;
  if (measured === 0) throw new Error('strace saw no open of /proc/loadavg: is the loadavg collector gone, or strace unable to attach (ptrace restricted)?');
  const entries = [...opens].map(([key, n]) => ({ dir: key[0] === 'D', path: key.slice(2), times: Math.round(n / measured) })).filter((e) => e.times > 0);
  return { passes: measured, entries };
}

/** The PCP side: one client fetching `names` from pmproxy once per second on one context, in chunks of URL-friendly size. */
function pollPmproxy(names: readonly string[]): { stop(): Promise<{ fetches: number; errors: number }> } {
  let running = true;
  let fetches = 0;
  let errors = 0;
  const chunks: string[] = [];
  for (let i = 0; i < names.length; i += 60) chunks.push(names.slice(i, i + 60).join(','));
  const loop = (async () => {
    const context = await pmapiContext(PMPROXY);
    while (running) {
      const t0 = Date.now();
      for (const chunk of chunks) {
        const response = await fetch(`${PMPROXY}/pmapi/fetch?context=${context}&names=${chunk}`);
        await response.arrayBuffer();
        if (response.status !== 200) errors++;
      }
      fetches++;
      await sleep(Math.max(0, 1000 - (Date.now() - t0)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { fetches, errors };
    },
  };
}

export async function collectionBench(options: BenchOptions): Promise<ScenarioResult> {
  const windowS = options.quick ? 8 : 15;
  const scales = [10, 100, 1000];
  const work = mkdtempSync(`${tmpdir()}/vigil-bench-${process.pid}-`);
  const floorBin = `${work}/floor`;
  execFileSync('gcc', ['-O2', '-o', floorBin, FLOOR_C]);
  const cgroups = new BenchCgroups();
  const pcp = startPcp();
  const rows: Array<Record<string, number>> = [];
  const verdicts: Verdict[] = [];
  let agent: AgentProcess | undefined;
  let floor: ChildProcess | undefined;
  try {
    const pcpKnown = pcpNames();
    for (const scale of scales) {
      await cgroups.growTo(scale);
      agent = await startAgentProcess(['--interval', '1s']);
      const pid = agent.child.pid!;
      await sleep(2500);
      const opens = await traceOnePass(pid, work);
      writeFileSync(`${work}/list.txt`, opens.entries.map((e) => `${e.dir ? 'D' : 'F'} ${e.times} ${e.path}`).join('\n') + '\n');
      floor = spawn(floorBin, [`${work}/list.txt`], { stdio: 'ignore' });
      const served = await servedNames(agent.url);
      const same = served.filter((name) => pcpKnown.has(name));
      const console_ = await subscribe(agent.url, consoleMetrics(served));
      const poller = pollPmproxy(same);
      await sleep(3000);
      const pcpPids = pcp.pids();
      const [a, f, p] = [cpuMeter([pid]), cpuMeter([floor.pid!]), cpuMeter(pcpPids)];
      await sleep(windowS * 1000);
      const [ar, fr, pr] = [a.stop(), f.stop(), p.stop()];
      const rss = rssBytes(pid);
      const polled = await poller.stop();
      console_.close();
      floor.kill('SIGKILL');
      await agent.stop();
      agent = undefined;
      const files = opens.entries.reduce((n, e) => n + e.times, 0);
      const row = {
        cgroups: scale,
        filesPerPass: files,
        agentMsPerSample: round((ar.cpu / ar.wall) * 1000, 1),
        agentUsPerCgroup: round(((ar.cpu / ar.wall) * 1e6) / scale, 0),
        agentCorePct: round((ar.cpu / ar.wall) * 100, 2),
        floorMsPerSample: round((fr.cpu / fr.wall) * 1000, 1),
        agentOverFloor: round(ar.cpu / Math.max(fr.cpu, 0.01), 2),
        pcpMsPerSample: round((pr.cpu / pr.wall) * 1000, 1),
        agentOverPcp: round(ar.cpu / Math.max(pr.cpu, 0.01), 2),
        pcpMetrics: same.length,
        pcpFetchErrors: polled.errors,
        agentRssMiB: round(rss / 2 ** 20, 1),
      };
      rows.push(row);
      console.log(`collection @${scale} cgroups: ${JSON.stringify(row)}`);
      verdicts.push(verdict(`collection within 3× the C floor (${scale} cgroups)`, row.agentOverFloor, 3, '× floor'));
      if (scale === 100) {
        verdicts.push(verdict('agent CPU at 1 s, 100 cgroups + one console, vs PCP stack (same metrics)', row.agentOverPcp, 0.5, '× PCP'));
        verdicts.push(verdict('agent CPU at 1 s, 100 cgroups + one console', row.agentCorePct, 1, '% of one core'));
      }
    }
  } finally {
    floor?.kill('SIGKILL');
    await agent?.stop();
    await cgroups.destroy();
    pcp.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const markdown = [
    `Each scale ran the agent (\`node dist/agent/cli.js --interval 1s\`, all collectors, one WebSocket subscriber with the console's main subscription), the C floor and the PCP stack **at the same time for ${windowS} s**; CPU is utime+stime from /proc/<pid>/stat over that window, per second (= per sample at 1 s).`,
    'The floor\'s file list comes from `strace -f -p <agent> -e trace=openat` over 4 passes (successful opens under /proc and /sys, each path\'s count divided by the number of /proc/loadavg opens, one per pass); `bench/floor.c` opens, reads to EOF and closes each (directories: opendir/readdir/closedir) once per second.',
    'The PCP side is pmcd + every PMDA it runs + pmproxy (pids from /run/pcp/*.pid and pmcd\'s children), with one client fetching from pmproxy, once per second on one context, every metric name that both Vigil and PCP serve (in chunks of 60 names per request).',
    '',
    table(
      ['cgroups', 'files/pass', 'agent ms CPU/sample', 'agent µs/cgroup', 'agent % core', 'floor ms/sample', 'agent ÷ floor', 'PCP ms/s', 'agent ÷ PCP', 'metrics fetched from PCP', 'agent RSS MiB'],
      rows.map((r) => [r.cgroups!, r.filesPerPass!, r.agentMsPerSample!, r.agentUsPerCgroup!, r.agentCorePct!, r.floorMsPerSample!, r.agentOverFloor!, r.pcpMsPerSample!, r.agentOverPcp!, r.pcpMetrics!, r.agentRssMiB!]),
    ),
  ].join('\n');
  return { figures: { windowSeconds: windowS, scales: rows }, markdown, verdicts };
}
