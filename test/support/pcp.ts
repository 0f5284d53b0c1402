import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Fetched, fetchValues, getJson } from './agent.js';

const SCRIPT = fileURLToPath(new URL('./pcp.sh', import.meta.url));

/** pmproxy's address; our agents in tests listen on port 0, never here. */
export const PMPROXY = 'http://127.0.0.1:44322';

/**
 * Starts the real pmcd and pmproxy unless they already run (pcp.sh). Returns the daemons this
 * call started, for `stopPcp`; throws with the script's explanation when they cannot start.
 */
export function startPcp(): string[] {
  try {
    // pcp.sh retries pmproxy up to 4 times, 35 s apart, to outlast a 60 s TIME_WAIT on its port
    // (any loopback client may have had 44322 as its ephemeral port): give it all of them.
    return execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 })
      .split('\n')
      .filter(Boolean);
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`cannot start PCP (pmcd + pmproxy) with ${SCRIPT}:\n${stderr || (error as Error).message}`);
  }
}

export function stopPcp(started: readonly string[]): void {
  // pmproxy first: it is pmcd's client.
  if (started.length > 0) execFileSync('bash', [SCRIPT, 'stop', ...[...started].reverse()], { stdio: 'inherit', timeout: 60_000 });
}

/** A metric's descriptor as `GET /pmapi/metric` serves it (indom absent for a singular metric). */
export interface PmapiMetric {
  name: string;
  pmid: string;
  indom?: string;
  type: string;
  sem: string;
  units: string;
}

/**
 * One pmproxy context. pmproxy 6.0.3 crashes under concurrent connections, so callers issue one
 * request at a time.
 */
export class PmproxyContext {
  private readonly indomOf = new Map<string, string | undefined>();
  private readonly instanceNames = new Map<string, Map<number, string>>();

  private constructor(readonly context: number) {}

  static async create(): Promise<PmproxyContext> {
    // A long poll timeout: the context must outlive the slowest step of a test.
    const reply = (await getJson(`${PMPROXY}/pmapi/context?polltimeout=300`)) as { context: number };
    return new PmproxyContext(reply.context);
  }

  /** Every metric under the given PMNS nodes. */
  async metrics(prefixes: readonly string[]): Promise<PmapiMetric[]> {
    const reply = (await getJson(`${PMPROXY}/pmapi/metric?context=${this.context}&prefix=${prefixes.join(',')}`)) as unknown as {
      metrics: PmapiMetric[];
    };
    for (const m of reply.metrics) this.indomOf.set(m.name, m.indom);
    return reply.metrics;
  }

  /** Fetches `names` (all of them known from `metrics`) and names the instances through /pmapi/indom. */
  async fetch(names: readonly string[]): Promise<Fetched> {
    const reply = await fetchValues(PMPROXY, names, `&context=${this.context}`);
    for (const metric of reply.values) {
      const indom = this.indomOf.get(metric.name);
      if (indom === undefined) continue;
      const known = this.instanceNames.get(indom);
      if (!known || metric.instances.some(({ instance }) => instance !== null && !known.has(instance))) await this.loadIndom(indom);
    }
    return new Fetched(reply, (metric, id) => this.instanceNames.get(this.indomOf.get(metric)!)?.get(id) ?? `#${id} (unnamed)`);
  }

  private async loadIndom(indom: string): Promise<void> {
    const reply = (await getJson(`${PMPROXY}/pmapi/indom?context=${this.context}&indom=${indom}`)) as unknown as {
      instances: Array<{ instance: number; name: string }>;
    };
    this.instanceNames.set(indom, new Map(reply.instances.map(({ instance, name }) => [instance, name])));
  }
}
