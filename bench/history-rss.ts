/**
 * Scenario 4 — history: bytes per stored value and agent RSS with 1000 cgroups and a full
 * 15-minute history. The agent keeps in its history what it collects, so it runs as deployed,
 * with one console subscribed (what it then collects is what that console shows), at
 * `--interval 100ms --history 15m` until it holds 900 samples, the count 15 min at 1 s holds,
 * filled up to 10× faster. When the passes over 1000 cgroups are too slow for that in the window,
 * the size at 900 is projected from how fast the history grew once its first chunk of 120
 * samples was sealed (said so in the figures); with fewer samples there is no figure.
 * Not --quick: engineer F's `runHistoryBench()` (encode/decode speed and its own stream
 * measurement) runs too, its output copied into the report.
 */
import { runHistoryBench } from './history.js';
import { consoleMetrics, servedNames, startAgentProcess, subscribe, type AgentProcess, type Subscriber } from './agent.js';
import { BenchCgroups, rssBytes, round, sleep, verdict, type BenchOptions, type ScenarioResult, type Verdict } from './lib.js';

const TARGET_SAMPLES = 900;
/** Samples per history chunk (agent/store/history.ts): before the first one is sealed, growth says nothing about steady state. */
const CHUNK = 120;

/** The history's size as the agent reports it, and the agent's RSS, at one moment. */
interface Reading {
  bytes: number;
  series: number;
  values: number;
  evicted: number;
  rss: number;
}

async function read(agent: AgentProcess): Promise<Reading> {
  const response = await fetch(`${agent.url}/pmapi/fetch?names=vigil.history.bytes,vigil.history.series,vigil.history.values,vigil.history.evicted`);
  const reply = (await response.json()) as { values?: Array<{ name: string; instances: Array<{ value: number | string }> }> };
  if (!reply.values) throw new Error(`the agent answered its vigil.history.* fetch with HTTP ${response.status}: ${JSON.stringify(reply).slice(0, 500)}`);
  // Absent before the first pass has been recorded: read as 0, which the caller waits past.
  const get = (name: string): number => Number(reply.values!.find((v) => v.name === name)?.instances[0]?.value ?? 0);
  return {
    bytes: get('vigil.history.bytes'), series: get('vigil.history.series'), values: get('vigil.history.values'),
    evicted: get('vigil.history.evicted'), rss: rssBytes(agent.child.pid!),
  };
}

/** Samples the history holds: values per series (series come and go, so this is an average). */
const held = (r: Reading): number => (r.series > 0 ? r.values / r.series : 0);

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
  // Long enough for the 250 samples a projection needs even when a loaded host allows ~1 pass per second.
  const windowS = options.quick ? 240 : 600;
  const cgroups = await BenchCgroups.create(1000);
  let agent: AgentProcess | undefined;
  let console_: Subscriber | undefined;
  const verdicts: Verdict[] = [];
  let figures: Record<string, number | boolean>;
  try {
    agent = await startAgentProcess(['--interval', '100ms', '--history', '15m']);
    console_ = await subscribe(agent.url, consoleMetrics(await servedNames(agent.url)));
    const started = Date.now();
    const readings = [await read(agent)];
    while (Date.now() < started + windowS * 1000 && held(readings.at(-1)!) < TARGET_SAMPLES) {
      await sleep(2000);
      readings.push(await read(agent));
    }
    const last = readings.at(-1)!;
    if (last.series === 0) throw new Error(`the agent's history held no series after ${windowS} s: is vigil.history.* still reported, and does the history record samples?`);
    const samples = held(last);
    // Steady growth per value: from the first reading past the first sealed chunk to the last.
    const sealed = readings.find((r) => held(r) >= CHUNK + 10);
    // Over a whole chunk at least: open runs keep their buffers from one chunk to the next, so
    // the size steps at each seal rather than growing with every sample.
    const growth = sealed && held(last) - held(sealed) >= CHUNK ? (last.bytes - sealed.bytes) / (last.values - sealed.values) : NaN;
    const projected = samples < TARGET_SAMPLES;
    const bytesAt900 = projected ? last.bytes + (TARGET_SAMPLES - samples) * last.series * growth : last.bytes;
    const rssAt900 = last.rss + (bytesAt900 - last.bytes);
    const perValueAt900 = projected ? bytesAt900 / (TARGET_SAMPLES * last.series) : last.bytes / last.values;
    figures = {
      seconds: round((Date.now() - started) / 1000, 0),
      series: last.series,
      values: last.values,
      samplesHeld: round(samples, 0),
      historyBytes: last.bytes,
      evictedChunks: last.evicted,
      bytesPerValueNow: round(last.bytes / last.values, 3),
      growthBytesPerValue: round(growth, 3),
      bytesPerValueAt900: round(perValueAt900, 3),
      rssMiB: round(last.rss / 2 ** 20, 1),
      rssAt900SamplesMiB: round(rssAt900 / 2 ** 20, 1),
      projected,
    };
    console.log(`  history @1000 cgroups: ${JSON.stringify(figures)}`);
    const how = projected ? (Number.isFinite(growth) ? ', projected' : `, not measured: only ${Math.round(samples)} samples in ${windowS} s`) : '';
    verdicts.push(verdict(`history bytes per stored value at ${TARGET_SAMPLES} samples (with object overhead)${how}`, perValueAt900, 2, 'bytes'));
    verdicts.push(verdict(`agent RSS, 1000 cgroups + one console, 15 min of history (${TARGET_SAMPLES} samples)${how}`, rssAt900 / 2 ** 20, 150, 'MiB'));
  } finally {
    console_?.close();
    await agent?.stop();
    await cgroups.destroy();
  }
  const fromF = options.quick ? [] : await captured(runHistoryBench);
  const markdown = [
    `Agent \`--interval 100ms --history 15m\` with 1000 bench cgroups and one console subscribed (the console's main subscription: the history keeps what the agent collects, and as deployed it collects what its subscribers ask for), until its history holds 900 samples (15 min at 1 s) or for ${windowS} s. History size from the agent's own \`vigil.history.bytes/series/values/evicted\`, read every 2 s; RSS from /proc/<pid>/status.`,
    '',
    `- series ${figures.series}, values ${figures.values}, samples held ${figures.samplesHeld} after ${figures.seconds} s; chunks evicted for memory (\`--history-memory\`, default 64 MiB): ${figures.evictedChunks}`,
    `- ${figures.bytesPerValueNow} bytes per value held now; once the first chunk of ${CHUNK} samples was sealed, the history grew by ${figures.growthBytesPerValue} bytes per value`,
    `- **${figures.bytesPerValueAt900} bytes per stored value at 900 samples** (compressed values and times plus object overhead)${figures.projected ? ' (projected: bytes now + missing values × growth per value; NaN when fewer than 250 samples were taken, too few to see the steady growth)' : ''}`,
    `- agent RSS ${figures.rssMiB} MiB at ${figures.samplesHeld} samples; at 900 samples: **${figures.rssAt900SamplesMiB} MiB**${figures.projected ? ' (projected: RSS now + the history bytes still to come; the agent could not take 900 passes of 1000 cgroups in the window)' : ''}`,
    ...(fromF.length ? ['', '`bench/history.ts` (runHistoryBench, all collectors on this host, 100 ms):', '', '```', ...fromF, '```'] : []),
  ].join('\n');
  return { figures: { ...figures, runHistoryBench: fromF }, markdown, verdicts };
}
