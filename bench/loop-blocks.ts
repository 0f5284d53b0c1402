/**
 * Not a scenario: how long the built agent keeps its event loop busy, which is how long a paced
 * request can wait. Runs dist/agent/cli.js at 100 bench cgroups (sampling at 1 s, the API
 * bench's two fetches polled every 20 ms) with a 1 ms timer preloaded (loop-ticker.mjs), and
 * prints the longest block in each second: one sampling pass each.
 *   node --import tsx bench/loop-blocks.ts [seconds] [cgroups]
 * RT=1 runs the agent at real-time priority (chrt -f 5) so that other processes on a loaded
 * machine do not stretch its gaps: what remains is its own work (and its GC). PROFILE=1 adds
 * --cpu-prof and prints what the longest blocks were spent in.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BenchCgroups, quantile, sleep } from './lib.js';
import { servedNames } from './agent.js';
import { CONTAINER, HOST_30 } from './api.js';

const [seconds = '30', count = '100'] = process.argv.slice(2);
const TICKER = fileURLToPath(new URL('./loop-ticker.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/agent/cli.js', import.meta.url));
/** Start-up and the first fetches (which add demand) are not what a pass costs. */
const WARMUP_MS = 4000;

const dir = mkdtempSync('/tmp/vigil-blocks-');
const rt = process.env.RT === '1';
const profiled = process.env.PROFILE === '1';
const node = [process.execPath, '--import', TICKER, ...(profiled ? ['--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${dir}`] : []),
  CLI, '--port', '0', '--host', '127.0.0.1', '--interval', '1s'];
const cgroups = await BenchCgroups.create(Number(count));
const child = spawn(rt ? 'chrt' : node[0]!, rt ? ['-f', '5', ...node] : node.slice(1),
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOOP_TICKER_OUT: `${dir}/gaps.json` } });
try {
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the agent exited (${code}) before listening:\n${log}`)));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      log += c;
      const m = /vigil listening address=(http:\/\/\S+?)\/?(?:\s|$)/m.exec(log);
      if (m) resolve(m[1]!);
    });
  });
  const served = new Set(await servedNames(url));
  const fetches = [HOST_30, CONTAINER].map((names) => `${url}/pmapi/fetch?names=${names.filter((n) => served.has(n)).join(',')}`);
  const end = performance.now() + WARMUP_MS + Number(seconds) * 1000;
  while (performance.now() < end) {
    await Promise.all(fetches.map(async (f) => (await fetch(f)).text()));
    await sleep(20);
  }
} finally {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await cgroups.destroy();
}

const ticked = JSON.parse(readFileSync(`${dir}/gaps.json`, 'utf8')) as { started: number; gaps: Array<[number, number]> };
const from = ticked.started + WARMUP_MS * 1000;
/** Blocks in ms (a gap less the timer's own millisecond), from the end of the warm-up. */
const blocks = ticked.gaps.filter(([start]) => start >= from).map(([start, end]) => ({ start, end, ms: (end - start) / 1000 - 1 }));
const perSecond = new Array<number>(Number(seconds)).fill(0);
for (const b of blocks) {
  const second = Math.floor((b.start - from) / 1e6);
  if (second < perSecond.length) perSecond[second] = Math.max(perSecond[second]!, b.ms);
}
console.log(`longest block per second over ${perSecond.length} s${rt ? ' (agent at real-time priority)' : ''}: median ${quantile(perSecond, 0.5).toFixed(2)} ms, ` +
  `p90 ${quantile(perSecond, 0.9).toFixed(2)} ms, max ${Math.max(...perSecond).toFixed(2)} ms; ${blocks.reduce((a, b) => a + b.ms, 0).toFixed(0)} ms blocked in all`);
console.log(`per second: ${perSecond.map((m) => m.toFixed(1)).join(' ')}`);

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (file) {
  interface Node { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
  const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The innermost agent function of a sample's stack, else its own frame (GC, idle, node internals). */
  const where = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (f.url.includes('/dist/agent/')) return `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/dist\//, '')}`;
    }
    const f = byId.get(id)!.callFrame;
    return f.functionName || f.url;
  };
  const stamps: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) stamps.push((t += delta));
  for (const b of [...blocks].sort((x, y) => y.ms - x.ms).slice(0, 5)) {
    const spent = new Map<string, number>();
    // A sample stands for the time since the one before it: count the part inside the block.
    profile.samples.forEach((id, i) => {
      const overlap = Math.min(stamps[i]!, b.end) - Math.max(stamps[i - 1] ?? profile.startTime, b.start);
      if (overlap > 0) spent.set(where(id), (spent.get(where(id)) ?? 0) + overlap / 1000);
    });
    console.log(`--- ${b.ms.toFixed(2)} ms block, ${(((b.start - from) / 1000) % 1000).toFixed(0)} ms into its second`);
    for (const [w, ms] of [...spent].sort((x, y) => y[1] - x[1]).slice(0, 5)) console.log(`  ${ms.toFixed(2).padStart(6)} ms  ${w}`);
  }
  console.log(`profile: ${dir}/${file}`);
}
