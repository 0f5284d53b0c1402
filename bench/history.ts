/**
 * History and stream costs on this host's real data:
 *
 * 1. History compression and speed: the whole agent samples this machine every 100 ms; the
 *    samples are then recorded into a fresh History (encode) and read back (decode), timed.
 * 2. Stream cost: the agent runs as a child process sampling every 100 ms; its CPU time (its
 *    threads' nanoseconds on a CPU, bench/lib.ts `cpuSeconds`) is measured with 0 stream
 *    subscribers (baseline), then 1, 10 and 100, each subscribed to a console-like set of metrics
 *    with rates, and 1 and 10 subscribed to every metric. Reported per subscriber per sample, and
 *    as a ratio to a baseline measured right before. The host's own load makes whole-process CPU
 *    noisy, so the agent's own account of its stream work (vigil.stream.time) is reported beside it.
 *
 * Run alone: `node --import tsx bench/history.ts`; `runHistoryBench()` is what `npm run bench` calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { cpuSeconds } from './lib.js';
import { createAgent } from '../agent/agent.js';
import type { MetricTable } from '../agent/metrics/table.js';
import { History } from '../agent/store/history.js';
import type { Sample } from '../agent/store/sample.js';
import { START_FLAGS } from '../agent/v8-settings.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INTERVAL_MS = 100;
const SAMPLES = 300;
const PHASE_MS = 8000;
/** What a console shows for a host: CPU, memory, network, disks, as rates. */
const CONSOLE = ['kernel.all', 'kernel.percpu', 'mem.util', 'network.interface', 'disk.dev'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function recordRealSamples(): Promise<{ samples: Sample[]; history: History; table: MetricTable }> {
  const agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: INTERVAL_MS });
  const samples: Sample[] = [];
  const keepAlive = setInterval(() => undefined, 1000);
  await new Promise<void>((resolve) => {
    agent.history.on('record', (sample) => {
      samples.push(sample);
      if (samples.length === SAMPLES) resolve();
    });
    agent.sampler.start();
  });
  clearInterval(keepAlive);
  await agent.close();
  return { samples, history: agent.history, table: agent.table };
}

async function historyBench(): Promise<void> {
  const { samples, history, table } = await recordRealSamples();
  const stats = history.stats();
  console.log(`history: ${stats.series} series, ${stats.values} values from ${samples.length} real samples at ${INTERVAL_MS} ms (all collectors, this host)`);
  console.log(`  encoded ${(stats.encodedBytes / stats.values).toFixed(3)} bytes/value; held ${(stats.bytes / stats.values).toFixed(3)} bytes/value with object overhead (${(stats.bytes / 1024).toFixed(0)} KiB)`);

  const rounds = 5;
  let encodeMs = Infinity;
  let decodeMs = Infinity;
  let values = 0;
  for (let r = 0; r < rounds; r++) {
    const fresh = new History(table, { retentionMs: 3_600_000, maxBytes: 1 << 30 });
    const t0 = performance.now();
    for (const sample of samples) fresh.record(sample);
    encodeMs = Math.min(encodeMs, performance.now() - t0);
    values = fresh.stats().values;
    const t1 = performance.now();
    fresh.read({ metrics: [...table.all()], start: 0, end: Infinity });
    decodeMs = Math.min(decodeMs, performance.now() - t1);
  }
  console.log(`  encode ${(values / encodeMs / 1000).toFixed(2)} M values/s (${((encodeMs * 1000) / samples.length).toFixed(0)} µs per sample of ${Math.round(values / samples.length)} values); ` +
    `decode ${(values / decodeMs / 1000).toFixed(2)} M values/s (best of ${rounds})`);
}

/** The agent as a child process; resolves once it logs its address. */
async function startAgent(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...START_FLAGS, '--import', 'tsx', 'agent/cli.ts', '--port', '0', '--interval', `${INTERVAL_MS}ms`], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not log its address within 30 s:\n${log}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`agent exited (${code}) before listening:\n${log}`)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
      const m = /address=(http:\/\/\S+?)\/?(?:\s|$)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { child, url };
}

async function subscribe(url: string, metrics: readonly string[], rate: boolean): Promise<{ ws: WebSocket; series: number }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/stream`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const subscribed = new Promise<number>((resolve) => {
    ws.on('message', (data: Buffer) => {
      // Only the first bytes are looked at: the bench process must not become the bottleneck.
      if (data.subarray(0, 30).toString().includes('"sample"')) resolve((JSON.parse(data.toString()) as { values: unknown[] }).values.length);
    });
  });
  ws.send(JSON.stringify({ v: 1, type: 'subscribe', id: 'bench', metrics, rate, history: 0 }));
  return { ws, series: await subscribed };
}

/** Samples taken in a window, and the stream work (µs) done over them, from the agent's history. */
async function agentAccount(url: string, start: number, end: number): Promise<{ samples: number; streamMicros: number }> {
  const reply = await (await fetch(`${url}/history?names=vigil.stream.time&start=${start}&end=${end}`)).json() as { t: number[]; values: string[][] };
  const column = reply.values[0] ?? [];
  const micros = column.length > 1 ? Number(BigInt(column.at(-1)!) - BigInt(column[0]!)) : 0;
  return { samples: reply.t.length, streamMicros: micros / Math.max(1, column.length - 1) * reply.t.length };
}

async function streamBench(): Promise<void> {
  const { child, url } = await startAgent();
  const rows: string[] = [];
  try {
    await sleep(2000);
    const measure = async (): Promise<Phase> => {
      const [c0, t0] = [cpuSeconds(child.pid!), Date.now()];
      await sleep(PHASE_MS);
      const [c1, t1] = [cpuSeconds(child.pid!), Date.now()];
      return { cpu: c1 - c0, ...(await agentAccount(url, t0, t1)) };
    };
    for (const [label, metrics, rate, counts] of [
      ['console', CONSOLE, true, [1, 10, 100]],
      ['everything', [''], false, [1, 10]],
    ] as const) {
      for (const n of counts) {
        // A baseline right before each loaded phase, so that drift in the host's load cancels out.
        const base = await measure();
        const clients = [];
        for (let i = 0; i < n; i++) clients.push(await subscribe(url, metrics, rate));
        await sleep(1000);
        const phase = await measure();
        rows.push(row(`${n} × ${label}`, String(clients[0]!.series), base, phase, n));
        for (const { ws } of clients) ws.terminate();
        await sleep(1000);
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  console.log(`stream: agent CPU (child process, /proc/<pid>/stat) at ${INTERVAL_MS} ms sampling, ${PHASE_MS / 1000} s per phase`);
  console.log('  subscribers        series/sub  baseline ms/sample  loaded ms/sample  × baseline  µs per subscriber per sample: process CPU, vigil.stream.time');
  for (const line of rows) console.log(`  ${line}`);
}

interface Phase {
  cpu: number;
  samples: number;
  streamMicros: number;
}

function row(label: string, series: string, base: Phase, loaded: Phase, subscribers: number): string {
  const [basePerSample, perSample] = [base.cpu / base.samples, loaded.cpu / loaded.samples];
  const perSubscriber = (((perSample - basePerSample) / subscribers) * 1e6).toFixed(0);
  const own = (loaded.streamMicros / loaded.samples / subscribers).toFixed(1);
  return `${label.padEnd(18)} ${series.padStart(10)}  ${(basePerSample * 1000).toFixed(2).padStart(18)}  ${(perSample * 1000).toFixed(2).padStart(16)}  ${(perSample / basePerSample).toFixed(2).padStart(10)}  ${perSubscriber.padStart(10)}  ${own.padStart(8)}`;
}

export async function runHistoryBench(): Promise<void> {
  await historyBench();
  await streamBench();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runHistoryBench().catch((error: Error) => {
    console.error(error);
    process.exit(1);
  });
}
