/**
 * Not a scenario: the built agent's CPU second by second, main thread and V8's and libuv's
 * threads apart, to find work that comes every few passes (a walk, a compile, the TCP tables)
 * and that a short window catches or misses. Bench cgroups, one console subscriber.
 *   node --import tsx bench/cpu-timeline.ts [cgroups] [warm-up s] [seconds] [agent args…]
 */
import { readFileSync } from 'node:fs';
import { BenchCgroups, cpuSeconds, quantile, sleep } from './lib.js';
import { consoleMetrics, servedNames, startAgentProcess, subscribe } from './agent.js';

const [count = '10', warm = '60', seconds = '120', ...args] = process.argv.slice(2);

/** CPU seconds of the main thread and of every other thread of `pid`. */
function threads(pid: number): { main: number; other: number } {
  const all = cpuSeconds(pid);
  const main = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ', 1)[0]) / 1e9;
  return { main, other: all - main };
}

const cgroups = await BenchCgroups.create(Number(count));
const agent = await startAgentProcess(['--interval', '1s', ...args]);
try {
  const sub = await subscribe(agent.url, consoleMetrics(await servedNames(agent.url)));
  await sleep(Number(warm) * 1000);
  const pid = agent.child.pid!;
  const totals: number[] = [];
  let before = threads(pid);
  const start = performance.now();
  console.log('age s   main ms   other ms');
  for (let i = 0; i < Number(seconds); i++) {
    await sleep(1000);
    const now = threads(pid);
    const main = (now.main - before.main) * 1000;
    const other = (now.other - before.other) * 1000;
    totals.push(main + other);
    console.log(`${(Number(warm) + (performance.now() - start) / 1000).toFixed(0).padStart(5)} ${main.toFixed(2).padStart(9)} ${other.toFixed(2).padStart(10)}`);
    before = now;
  }
  const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
  const at = (q: number): string => quantile(totals, q).toFixed(2);
  console.log(`ms/s: mean ${mean.toFixed(2)}, median ${at(0.5)}, p90 ${at(0.9)}, max ${at(1)}`);
  sub.close();
} finally {
  await agent.stop();
  await cgroups.destroy();
}
