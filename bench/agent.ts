/**
 * The agent as the bench drives it: the built CLI as a child (test/support/agent.ts), the names
 * it serves, and stream subscribers that subscribe like the console does.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startAgentProcess as startChild, type AgentProcess } from '../test/support/agent.js';
import { mainSubscription } from '../web/src/data/needs.js';
import { undoOnInterrupt } from './lib.js';

export type { AgentProcess };

const CLI = fileURLToPath(new URL('../dist/agent/cli.js', import.meta.url));

/** Whether the built agent has `--collect demand|all` (on-demand collection); older builds collect everything. */
export function agentHasCollect(): boolean {
  return /^\s*--collect\s/m.test(execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }));
}

/** The built agent as a child process, stopped by the bench if it is interrupted. */
export async function startAgentProcess(args: readonly string[] = []): Promise<AgentProcess> {
  let agent: AgentProcess | undefined;
  const forget = undoOnInterrupt('an agent', () => agent?.stop());
  try {
    agent = await startChild(args);
  } catch (error) {
    forget();
    throw error;
  }
  const stop = agent.stop.bind(agent);
  return { ...agent, stop: () => stop().finally(forget), log: agent.log };
}

/** Every metric name the server at `url` serves (pmapi `/pmapi/metric`, both Vigil and pmproxy). */
export async function servedNames(url: string): Promise<string[]> {
  const reply = (await (await fetch(`${url}/pmapi/metric`)).json()) as { metrics: Array<{ name: string }> };
  return reply.metrics.map((m) => m.name);
}

/** The console's main subscription (overview + containers view), limited to what the agent serves, as the console does. */
export function consoleMetrics(served: readonly string[]): string[] {
  return mainSubscription().metrics.filter((m) => served.some((s) => s === m || s.startsWith(`${m}.`)));
}

/**
 * A WebSocket subscriber; for every `sample` message, `times` collects the sample's time (ms since
 * the epoch: when the agent's pass started) and `latencies` receipt time − sample time (ms).
 */
export interface Subscriber {
  times: number[];
  latencies: number[];
  close(): void;
}

export async function subscribe(url: string, metrics: readonly string[]): Promise<Subscriber> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/stream`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const times: number[] = [];
  const latencies: number[] = [];
  const subscribed = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const received = Date.now();
      // Only the head is parsed: 100 subscribers must not make the bench process the bottleneck.
      const head = data.subarray(0, 120).toString();
      if (head.includes('"type":"subscribed"')) resolve();
      else if (head.includes('"type":"error"')) reject(new Error(`the agent refused the subscription: ${data.toString().slice(0, 500)}`));
      const m = /"type":"sample".*?"t":([\d.]+)/.exec(head);
      if (m) {
        times.push(Number(m[1]));
        latencies.push(received - Number(m[1]));
      }
    });
  });
  ws.send(JSON.stringify({ v: 1, type: 'subscribe', id: 'main', metrics, rate: false, history: 0 }));
  await subscribed;
  return { times, latencies, close: () => ws.terminate() };
}
