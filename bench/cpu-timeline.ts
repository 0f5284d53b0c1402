/**
 * Not a scenario: the built agent's CPU second by second, main thread and V8's and libuv's
 * threads apart, to find work that comes every few passes (a walk, a compile, the TCP tables)
 * and that a short window catches or misses. Bench cgroups, one console subscriber.
 *   node --import tsx bench/cpu-timeline.ts [cgroups] [warm-up s] [seconds] [agent args…]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { BenchCgroups, sleep } from './lib.js';
import { consoleMetrics, servedNames, startAgentProcess, subscribe } from './agent.js';

const [count = '10', warm = '60', seconds = '120', ...args] = process.argv.slice(2);

/** CPU nanoseconds of the main thread and of every other thread of `pid`. */
function threads(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (tid === String(pid)) main += ns;
      else other += ns;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return { main, other };
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
    const main = (now.main - before.main) / 1e6;
    const other = (now.other - before.other) / 1e6;
    totals.push(main + other);
    console.log(`${(Number(warm) + (performance.now() - start) / 1000).toFixed(0).padStart(5)} ${main.toFixed(2).padStart(9)} ${other.toFixed(2).padStart(10)}`);
    before = now;
  }
  const sorted = [...totals].sort((a, b) => a - b);
  const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
  console.log(`ms/s: mean ${mean.toFixed(2)}, median ${sorted[sorted.length >> 1]!.toFixed(2)}, p90 ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(2)}, max ${sorted.at(-1)!.toFixed(2)}`);
  sub.close();
} finally {
  await agent.stop();
  await cgroups.destroy();
}
