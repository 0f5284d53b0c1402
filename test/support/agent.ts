import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAgent, type Agent } from '../../agent/agent.js';
import { START_FLAGS } from '../../agent/v8-settings.js';
import type { MetricTable } from '../../agent/metrics/table.js';
import { parseJson, type Json } from './json.js';

/** pmproxy's native fetch reply, parsed with u64 values exact. */
export interface FetchReply {
  timestamp: number;
  values: Array<{ pmid: string; name: string; instances: Array<{ instance: number | null; value: Json }> }>;
}

/** GET a URL and parse its JSON body exactly; any status but 200 is an error that shows the body. */
export async function getJson(url: string): Promise<Json> {
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} answered HTTP ${response.status}: ${body.slice(0, 500)}`);
  return parseJson(body);
}

/** `GET /pmapi/fetch?names=…` from Vigil or pmproxy; `query` adds parameters (`&context=N`). */
export async function fetchValues(baseUrl: string, names: readonly string[], query = ''): Promise<FetchReply> {
  const reply = await getJson(`${baseUrl}/pmapi/fetch?names=${names.map(encodeURIComponent).join(',')}${query}`);
  if (typeof reply !== 'object' || reply === null || !Array.isArray((reply as { values?: unknown }).values)) {
    throw new Error(`fetch from ${baseUrl} did not answer {"timestamp":…,"values":[…]}: ${JSON.stringify(reply, bigintText)}`);
  }
  return reply as unknown as FetchReply;
}

/** For messages: JSON.stringify cannot print a bigint. */
export const bigintText = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? `${value}n` : value);

/**
 * A fetch reply with its instance ids resolved to names, so that tests speak of `/vigil-test-…`
 * and `eth0` rather than of ids that the two servers (ours and pmproxy) choose differently.
 */
export class Fetched {
  /** metric → instance name (null for a singular metric) → value. */
  readonly values = new Map<string, Map<string | null, Json>>();

  constructor(
    readonly reply: FetchReply,
    instanceName: (metric: string, id: number) => string,
  ) {
    for (const metric of reply.values) {
      const byName = new Map<string | null, Json>();
      for (const { instance, value } of metric.instances) {
        byName.set(instance === null ? null : instanceName(metric.name, instance), value);
      }
      this.values.set(metric.name, byName);
    }
  }

  /** Seconds since the epoch at which the values were sampled. */
  get time(): number {
    return this.reply.timestamp;
  }

  get(metric: string, instance: string | null = null): Json | undefined {
    return this.values.get(metric)?.get(instance);
  }

  /** An integer value as bigint; fails the test with the metric's name when it is absent or not an integer. */
  bigint(metric: string, instance: string | null = null): bigint {
    const value = this.get(metric, instance);
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
    const served = [...(this.values.get(metric)?.keys() ?? [])].slice(0, 20);
    throw new Error(
      `${metric}[${instance ?? 'singular'}]: expected an integer, got ${JSON.stringify(value, bigintText)}` +
        (this.values.has(metric) ? `; instances served: ${JSON.stringify(served)}` : '; the metric is not in the reply (unknown to the agent?)'),
    );
  }
}

/**
 * The real agent, in this process, on a free loopback port, reading the host's /proc and /sys.
 * Its sampling timer is not started: each `fetchFresh` takes a sample itself, so a test knows the
 * values were read after everything it did before the call and before everything it does after.
 */
export class TestAgent {
  private constructor(
    readonly agent: Agent,
    readonly url: string,
  ) {}

  static async start(options: { collectors?: readonly string[] } = {}): Promise<TestAgent> {
    const agent = await createAgent({ procfs: '/proc', sysfs: '/sys', intervalMs: 1000, collectors: options.collectors });
    try {
      return new TestAgent(agent, await agent.app.listen({ port: 0, host: '127.0.0.1' }));
    } catch (error) {
      await agent.close();
      throw error;
    }
  }

  get table(): MetricTable {
    return this.agent.table;
  }

  /** Samples now, then GETs /pmapi/fetch for `names` over HTTP. */
  async fetchFresh(names: readonly string[]): Promise<Fetched> {
    await this.agent.sampler.sampleNow();
    const reply = await fetchValues(this.url, names);
    // The reply's sample: the one just taken, or a newer one when the fetch asked for metrics
    // nobody watched (the agent collects on demand and samples again for them).
    const sample = this.agent.sampler.latest!;
    return new Fetched(reply, (metric, id) => {
      const indom = this.table.metric(metric)?.indom;
      const name = indom ? sample.instanceName(indom, id) : undefined;
      if (name === undefined) throw new Error(`${metric}: the agent served instance id ${id}, which its sample does not name`);
      return name;
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

const CLI = fileURLToPath(new URL('../../dist/agent/cli.js', import.meta.url));

/** The built agent (`dist/agent/cli.js`) as a child process on a free loopback port. */
export interface AgentProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stderr (its log) so far. */
  log(): string;
  /** SIGTERM, then wait for it to exit; resolves to its exit code. */
  stop(): Promise<number | null>;
}

export async function startAgentProcess(args: readonly string[] = []): Promise<AgentProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  // Node started as every start path starts it (npm start, the Dockerfile, the systemd unit).
  const child = spawn(process.execPath, [...START_FLAGS, CLI, '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      reject(new Error(`agent exited (code ${code}, signal ${signal}) before listening; its log:\n${log}`));
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`agent did not log "vigil listening" within 15 s; its log:\n${log}`));
    }, 15_000);
    child.once('exit', onExit);
    let listening = false;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
      const m = listening ? null : /vigil listening address=(http:\/\/\S+?)\/?(?:\s|$)/m.exec(log);
      if (m) {
        listening = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(m[1]!);
      }
    });
  });
  return {
    url,
    child,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
