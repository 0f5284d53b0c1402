/**
 * Not a scenario: profiles the agent (node --cpu-prof) at 100 bench cgroups with one console
 * subscriber for `seconds`, then prints CPU and self time by function. For finding what to optimise.
 *   [VIGIL_BENCH_PROFILE=<dir>] node --import tsx bench/profile-agent.ts [cgroups] [seconds] [agent args...]
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { BenchCgroups, cpuMeter, sleep } from './lib.js';
import { consoleMetrics, servedNames, subscribe } from './agent.js';
import { START_FLAGS } from '../agent/v8-settings.js';

const [count = '100', seconds = '15', ...agentArgs] = process.argv.slice(2);
const dir = mkdtempSync('/tmp/vigil-prof-');
const cgroups = await BenchCgroups.create(Number(count));
const child = spawn(process.execPath, [...START_FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/agent/cli.js', '--port', '0', '--host', '127.0.0.1', ...agentArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
const url = await new Promise<string>((resolve) => child.stderr!.setEncoding('utf8').on('data', (c: string) => {
  log += c;
  const m = /vigil listening address=(http:\/\/\S+?)\/?(?:\s|$)/m.exec(log);
  if (m) resolve(m[1]!);
}));
try {
  const sub = await subscribe(url, consoleMetrics(await servedNames(url)));
  await sleep(3000);
  const meter = cpuMeter([child.pid!]);
  await sleep(Number(seconds) * 1000);
  const { cpu, wall } = meter.stop();
  console.log(`agent: ${(cpu / wall * 1000).toFixed(1)} ms CPU/s over ${wall.toFixed(1)} s`);
  sub.close();
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await cgroups.destroy();
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
const text = readFileSync(`${dir}/${file}`, 'utf8');
// Kept only where asked (to open in DevTools): a directory per run would pile up in /tmp.
const keepIn = process.env.VIGIL_BENCH_PROFILE;
if (keepIn) {
  mkdirSync(keepIn, { recursive: true });
  copyFileSync(`${dir}/${file}`, `${keepIn}/agent.cpuprofile`);
}
rmSync(dir, { recursive: true, force: true });
const profile = JSON.parse(text) as {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[]; timeDeltas: number[];
};
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const n of profile.nodes) {
  const t = self.get(n.id) ?? 0;
  const where = n.callFrame.url.replace(/^.*\/dist\//, '').replace(/^node:/, 'node:');
  const key = `${n.callFrame.functionName || '(anon)'} ${where}:${n.callFrame.lineNumber}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  byFile.set(where || n.callFrame.functionName, (byFile.get(where || n.callFrame.functionName) ?? 0) + t);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const top = (m: Map<string, number>, n: number): void => {
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${(v / total * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
// Inclusive time of the agent's own functions (syscalls are charged to their JavaScript callers).
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const inclusive = new Map<string, number>();
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame;
    if (!f.url.includes('/dist/agent/')) continue;
    const key = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + t);
  }
}
console.log('--- agent functions, inclusive'); top(inclusive, 30);
console.log('--- by file'); top(byFile, 25);
console.log('--- by function'); top(byFn, 40);
console.log(keepIn ? `profile: ${keepIn}/agent.cpuprofile` : 'profile not kept (VIGIL_BENCH_PROFILE=<dir> keeps it)');
