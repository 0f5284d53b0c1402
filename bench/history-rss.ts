/**
 * Scenario 4 — history: bytes per stored value and agent RSS with 1000 cgroups and a full
 * 15-minute history. The agent runs with `--interval 100ms --history 90s`: 900 samples, the
 * count 15 min at 1 s holds, filled 10× faster. At 1000 cgroups a pass takes longer than
 * 100 ms, so the window may end before 900 samples; the RSS at 900 is then projected from the
 * history's measured bytes per sample (said so in the figures). Not --quick: engineer F's
 * `runHistoryBench()` (encode/decode speed and its own stream measurement) runs too, its output
 * copied into the report.
 */
import { runHistoryBench } from './history.js';
import { startAgentProcess, type AgentProcess } from './agent.js';
import { BenchCgroups, rssBytes, round, sleep, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';

const TARGET_SAMPLES = 900;

async function historyStats(url: string): Promise<{ bytes: number; series: number; values: number }> {
  const reply = (await (await fetch(`${url}/pmapi/fetch?names=vigil.history.bytes,vigil.history.series,vigil.history.values`)).json()) as {
    values: Array<{ name: string; instances: Array<{ value: number | string }> }>;
  };
  const get = (name: string): number => Number(reply.values.find((v) => v.name === name)?.instances[0]?.value ?? NaN);
  return { bytes: get('vigil.history.bytes'), series: get('vigil.history.series'), values: get('vigil.history.values') };
}

/** Runs `work` with console.log captured (and still printed). */
async function captured(work: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => {
    lines.push(args.join(' '));
    log(...args);
  };
  try {
    await work();
  } finally {
    console.log = log;
  }
  return lines;
}

export async function historyBench(options: BenchOptions): Promise<ScenarioResult> {
  const windowS = options.quick ? 40 : 90;
  const cgroups = await BenchCgroups.create(1000);
  let agent: AgentProcess | undefined;
  const verdicts: Verdict[] = [];
  let figures: Record<string, number | boolean>;
  try {
    agent = await startAgentProcess(['--interval', '100ms', '--history', '90s']);
    const deadline = Date.now() + windowS * 1000;
    let stats = await historyStats(agent.url);
    while (Date.now() < deadline && stats.values / stats.series < TARGET_SAMPLES) {
      await sleep(2000);
      stats = await historyStats(agent.url);
    }
    const rss = rssBytes(agent.child.pid!);
    const samples = stats.values / stats.series;
    const perSample = stats.bytes / samples;
    const projected = samples >= TARGET_SAMPLES ? rss : rss + (TARGET_SAMPLES - samples) * perSample;
    figures = {
      seconds: windowS,
      series: stats.series,
      values: stats.values,
      samplesHeld: round(samples, 0),
      historyBytes: stats.bytes,
      bytesPerValue: round(stats.bytes / stats.values, 3),
      rssMiB: round(rss / 2 ** 20, 1),
      rssAt900SamplesMiB: round(projected / 2 ** 20, 1),
      projected: samples < TARGET_SAMPLES,
    };
    console.log(`  history @1000 cgroups: ${JSON.stringify(figures)}`);
    verdicts.push(verdict('history bytes per stored value (with object overhead)', stats.bytes / stats.values, 2, 'bytes'));
    verdicts.push(verdict('agent RSS, 1000 cgroups, 15 min of history (900 samples)', projected / 2 ** 20, 150, 'MiB'));
  } finally {
    await agent?.stop();
    await cgroups.destroy();
  }
  const fromF = options.quick ? [] : await captured(runHistoryBench);
  const markdown = [
    `Agent \`--interval 100ms --history 90s\` (900 samples, as 15 min at 1 s holds, filled faster) with 1000 bench cgroups, for up to ${windowS} s. History size from the agent's own \`vigil.history.bytes/series/values\`; RSS from /proc/<pid>/status.`,
    '',
    `- series ${figures.series}, values ${figures.values}, samples held ${figures.samplesHeld}`,
    `- **${figures.bytesPerValue} bytes per stored value** (compressed values and times plus object overhead)`,
    `- agent RSS ${figures.rssMiB} MiB at ${figures.samplesHeld} samples; at 900 samples: **${figures.rssAt900SamplesMiB} MiB**${figures.projected ? ' (projected: the agent could not take 900 passes of 1000 cgroups in the window; RSS + missing samples × measured history bytes per sample)' : ''}`,
    ...(fromF.length ? ['', '`bench/history.ts` (runHistoryBench, all collectors on this host, 100 ms):', '', '```', ...fromF, '```'] : []),
  ].join('\n');
  return { figures: { ...figures, runHistoryBench: fromF }, markdown, verdicts };
}
