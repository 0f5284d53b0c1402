import type { MetricTable } from './metrics/table.js';

/**
 * What the agent must collect in the next pass: the metrics someone is watching. PCP's cost is
 * what its clients fetch, not the whole namespace; reading every cgroup file of every hierarchy
 * every second (and every process, and every container's network namespace) would cost a busy
 * host more than the incident it is watching. Three kinds of interest:
 *
 * - kept: always collected, so that history and the console's back-fill have them from the
 *   start (the console's main view and the agent's own vigil.* metrics);
 * - held: stream subscriptions, for as long as they exist;
 * - asked: names fetched through the REST dialects, for `ttlMs` after the last request (a
 *   dashboard polling every few seconds keeps them warm; an abandoned curl lets them go).
 *
 * With `all`, everything is collected every pass (`--collect all`), as before demand existed.
 * Derived metrics pull in their operands; the table's names are the universe.
 */
export class Demand {
  private readonly held = new Map<object, readonly string[]>();
  private readonly asked = new Map<string, number>();
  /** `options.kept` expanded once: its metrics are all declared before the Demand is made. */
  private readonly kept: readonly string[];
  private wanted = new Set<string>();
  private dirty = true;
  /** Bumped whenever the wanted set changes; collectors cache decisions per generation. */
  private gen = 0;

  constructor(
    private readonly table: MetricTable,
    private readonly options: {
      all: boolean;
      /** Patterns (names or PMNS prefixes) collected whatever clients do. */
      kept: readonly string[];
      /** Operands of metrics the sampler computes from others (host-wide derived metrics). */
      operands?: ReadonlyMap<string, readonly string[]>;
      ttlMs?: number;
    },
  ) {
    this.kept = this.expand(options.kept);
  }

  get all(): boolean {
    return this.options.all;
  }

  get generation(): number {
    this.refresh();
    return this.gen;
  }

  wants(metric: string): boolean {
    if (this.options.all) return true;
    this.refresh();
    return this.wanted.has(metric);
  }

  /** Replaces what `owner` (a stream subscription) holds; true when something new must be collected. */
  hold(owner: object, patterns: readonly string[]): boolean {
    const names = this.expand(patterns);
    this.held.set(owner, names);
    return this.changes(names);
  }

  release(owner: object): void {
    if (this.held.delete(owner)) this.dirty = true;
  }

  /**
   * Names a REST client fetched (or listed instances of); true when some of them were not being
   * collected, so the caller should wait for a pass that includes them.
   */
  ask(names: readonly string[], now = performance.now()): boolean {
    const fresh = this.changes(this.expand(names));
    for (const name of names) this.asked.set(name, now);
    return fresh;
  }

  /** Forgets REST interest older than the TTL; the sampler calls this once per pass. */
  expire(now = performance.now()): void {
    const cutoff = now - (this.options.ttlMs ?? DEFAULT_ASK_TTL_MS);
    for (const [name, at] of this.asked) {
      if (at >= cutoff) continue;
      this.asked.delete(name);
      this.dirty = true;
    }
  }

  /** Names of the table matching `patterns` (exact names or PMNS prefixes), with derived metrics' operands. */
  expand(patterns: readonly string[]): string[] {
    const out = new Set<string>();
    for (const pattern of patterns) {
      if (this.table.metric(pattern)) out.add(pattern);
      else for (const desc of this.table.traverse(pattern)) out.add(desc.name);
    }
    for (const name of [...out]) for (const operand of this.options.operands?.get(name) ?? []) out.add(operand);
    return [...out];
  }

  private changes(names: readonly string[]): boolean {
    if (this.options.all) return false;
    this.refresh();
    const fresh = names.some((n) => !this.wanted.has(n));
    if (fresh) this.dirty = true;
    return fresh;
  }

  private refresh(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const next = new Set(this.kept);
    for (const names of this.held.values()) for (const n of names) next.add(n);
    for (const n of this.expand([...this.asked.keys()])) next.add(n);
    if (next.size !== this.wanted.size || [...next].some((n) => !this.wanted.has(n))) this.gen++;
    this.wanted = next;
  }
}

/**
 * Collected whatever clients do: the console's main view (overview widgets and the containers
 * table, web/src/data/needs.ts mainSubscription(); a test keeps the two in step), so history
 * and the console's back-fill have them from the agent's start, and the agent's own metrics.
 */
export const KEPT: readonly string[] = [
  'vigil', 'pmcd.hostname', 'kernel.uname.nodename', 'hinv.ncpu', 'mem.physmem',
  'kernel.all.cpu.user', 'kernel.all.cpu.sys', 'kernel.all.cpu.wait.total', 'kernel.all.cpu.steal',
  'kernel.percpu.cpu.user', 'kernel.percpu.cpu.sys', 'kernel.all.load', 'kernel.all.runnable', 'kernel.all.blocked',
  'kernel.all.pswitch', 'kernel.all.intr', 'mem.util.used', 'mem.util.cached', 'mem.util.free', 'mem.util.available',
  'mem.vmstat.pgfault', 'mem.vmstat.pgmajfault', 'swap.pagesin', 'swap.pagesout',
  'network.interface.in.bytes', 'network.interface.out.bytes', 'network.interface.in.packets', 'network.interface.out.packets',
  'network.interface.in.drops', 'network.interface.out.drops', 'network.interface.in.errors', 'network.interface.out.errors',
  'network.tcp.retranssegs', 'network.tcp.timeouts', 'network.tcp.listendrops', 'network.tcp.fastretrans',
  'network.tcp.slowstartretrans', 'network.tcp.synretrans',
  'network.tcpconn.established', 'network.tcpconn.time_wait', 'network.tcpconn.close_wait',
  'disk.dev.read', 'disk.dev.write', 'disk.dev.read_bytes', 'disk.dev.write_bytes', 'disk.dev.avactive',
  'disk.dev.read_rawactive', 'disk.dev.write_rawactive',
  'kernel.all.pressure.cpu.some.avg', 'kernel.all.pressure.memory.some.avg', 'kernel.all.pressure.memory.full.avg',
  'kernel.all.pressure.io.some.avg', 'kernel.all.pressure.io.full.avg',
  'containers.name', 'containers.cgroup', 'containers.engine', 'containers.pid', 'containers.state.running',
  'containers.state.paused',
  'cgroup.cpuacct.usage', 'cgroup.cpu.stat.usage', 'cgroup.cpusched.cfs_quota', 'cgroup.cpusched.cfs_period',
  'cgroup.cpusched.periods', 'cgroup.cpusched.throttled', 'cgroup.cpusched.throttled_time', 'cgroup.cpuset.cpus',
  'cgroup.memory.usage', 'cgroup.memory.current', 'cgroup.memory.working_set', 'cgroup.memory.limit', 'cgroup.memory.max',
  'cgroup.memory.events.oom_kill', 'cgroup.pids.current',
  'cgroup.io.stat.rbytes', 'cgroup.io.stat.wbytes', 'cgroup.blkio.all.throttle.io_service_bytes.read',
  'cgroup.blkio.all.throttle.io_service_bytes.write',
  'cgroup.pressure.cpu.some.avg10sec', 'cgroup.pressure.memory.some.avg10sec', 'cgroup.pressure.io.some.avg10sec',
  'containers.network.interface.in.bytes', 'containers.network.interface.out.bytes',
];

/** How long a REST client's interest in a metric lasts after its last request. */
export const DEFAULT_ASK_TTL_MS = 5 * 60_000;

/** How the API layers tell the agent what their clients watch. */
export interface Interest {
  /** REST: resolves once a sample that includes `names` is the latest. */
  ask(names: readonly string[]): Promise<void>;
  /** Stream: `owner` (a subscription) watches `names` until released. */
  hold(owner: object, names: readonly string[]): void;
  release(owner: object): void;
}

/**
 * What a context scoped to one container reads for `names` (agent/containers/view.ts): its
 * network from the container's namespace (`containers.network.*`), its hostname from
 * `containers.hostname`, its processes by their container.
 */
export function inContainer(names: readonly string[]): string[] {
  const out = new Set(names);
  for (const name of names) {
    if (name.startsWith('network.')) out.add(`containers.${name}`);
    else if (name === 'pmcd.hostname') out.add('containers.hostname');
    else if (name.startsWith('proc.')) out.add('proc.id.container');
  }
  return [...out];
}
