/**
 * Scenario 3 — stream fan-out: 1, 10 and 100 WebSocket subscribers with the console's main
 * subscription (overview + containers view), agent at 1 s with 100 bench cgroups. Each loaded
 * phase is preceded by a 0-subscriber baseline so that drift in the host's load cancels out.
 * The agent runs with `--collect all` where it has it: collecting on demand, it would collect
 * nothing for the baseline, and the difference would be collection, not fan-out.
 */
import { agentHasCollect, consoleMetrics, servedNames, startAgentProcess, subscribe, type AgentProcess, type Subscriber } from './agent.js';
import { BenchCgroups, cpuMeter, quantile, round, sleep, table, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';

export async function streamBench(options: BenchOptions): Promise<ScenarioResult> {
  const phaseS = options.quick ? 6 : 10;
  const cgroups = await BenchCgroups.create(100);
  let agent: AgentProcess | undefined;
  let clients: Subscriber[] = [];
  const rows: Array<Record<string, number>> = [];
  const verdicts: Verdict[] = [];
  try {
    agent = await startAgentProcess(['--interval', '1s', ...(agentHasCollect() ? ['--collect', 'all'] : [])]);
    const pid = agent.child.pid!;
    await sleep(2000);
    const metrics = consoleMetrics(await servedNames(agent.url));
    for (const n of [1, 10, 100]) {
      const base = cpuMeter([pid]);
      await sleep(phaseS * 1000);
      const b = base.stop();
      for (let i = 0; i < n; i++) clients.push(await subscribe(agent.url, metrics));
      await sleep(1500);
      for (const c of clients) c.latencies.length = 0;
      const loaded = cpuMeter([pid]);
      await sleep(phaseS * 1000);
      const l = loaded.stop();
      const latencies = clients.flatMap((c) => c.latencies);
      const [baseMs, loadedMs] = [(b.cpu / b.wall) * 1000, (l.cpu / l.wall) * 1000];
      const row = {
        subscribers: n,
        baselineMsPerSample: round(baseMs, 1),
        loadedMsPerSample: round(loadedMs, 1),
        usPerSubscriberSample: round(((loadedMs - baseMs) * 1000) / n, 0),
        subscribersCorePct: round((loadedMs - baseMs) / 10, 2),
        deliveries: latencies.length,
        latencyP50Ms: round(quantile(latencies, 0.5), 1),
        latencyP99Ms: round(quantile(latencies, 0.99), 1),
      };
      rows.push(row);
      console.log(`  stream ×${n}: ${JSON.stringify(row)}`);
      if (n === 100) verdicts.push(verdict('100 stream subscribers (CPU above the 0-subscriber baseline)', row.subscribersCorePct, 10, '% of one core'));
      for (const c of clients) c.close();
      clients = [];
      await sleep(1000);
    }
  } finally {
    for (const c of clients) c.close();
    await agent?.stop();
    await cgroups.destroy();
  }
  const markdown = [
    `Agent at 1 s (all collectors: \`--collect all\` where the agent has it, so that the 0-subscriber baseline collects what the loaded phases do) with 100 bench cgroups; each subscriber subscribes to the console's main subscription (${'`web/src/data/needs.ts` mainSubscription()'}, raw values, no back-fill). CPU over ${phaseS} s windows from /proc/<pid>/stat, loaded minus the 0-subscriber baseline measured right before. Delivery latency = receipt time in the bench process − the sample's \`t\` (the time the sampling pass started, so it includes the pass itself).`,
    '',
    table(['subscribers', 'baseline ms CPU/s', 'loaded ms CPU/s', 'µs per subscriber-sample', 'subscribers % of a core', 'deliveries', 'latency p50 ms', 'latency p99 ms'],
      rows.map((r) => [r.subscribers!, r.baselineMsPerSample!, r.loadedMsPerSample!, r.usPerSubscriberSample!, r.subscribersCorePct!, r.deliveries!, r.latencyP50Ms!, r.latencyP99Ms!])),
  ].join('\n');
  return { figures: { phaseSeconds: phaseS, rows }, markdown, verdicts };
}
