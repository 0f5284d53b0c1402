/**
 * Not a scenario: A/B of agent variants side by side (same cgroups, same window, same noise).
 *   node --import tsx bench/ab-agent.ts <cgroups> <seconds> '<args A>' '<args B>' ...
 * Each agent gets one console subscriber; prints ms CPU/s per variant.
 */
import { BenchCgroups, cpuMeter, sleep } from './lib.js';
import { consoleMetrics, servedNames, startAgentProcess, subscribe } from './agent.js';

const [count = '100', seconds = '10', ...variants] = process.argv.slice(2);
const cgroups = await BenchCgroups.create(Number(count));
const agents = await Promise.all(variants.map((v) => startAgentProcess(['--interval', '1s', ...v.split(' ').filter(Boolean)])));
try {
  const subs = await Promise.all(agents.map(async (a) => subscribe(a.url, consoleMetrics(await servedNames(a.url)))));
  await sleep(3000);
  for (let round = 0; round < 2; round++) {
    const meters = agents.map((a) => cpuMeter([a.child.pid!]));
    await sleep(Number(seconds) * 1000);
    const results = meters.map((m) => m.stop());
    console.log(variants.map((v, i) => `[${v || 'default'}] ${(results[i]!.cpu / results[i]!.wall * 1000).toFixed(1)} ms CPU/s`).join('   '));
  }
  for (const s of subs) s.close();
} finally {
  await Promise.all(agents.map((a) => a.stop()));
  await cgroups.destroy();
}
