import { SINGULAR, displayOfMeta, type SeriesSource } from './host-data.js';
import { toNumber } from './rate.js';

/**
 * Containers (and, for hosts without engines, plain cgroups) joined to their cgroup metrics.
 * A container's `containers.cgroup` value is byte-identical to the instance name of its
 * `cgroup.*` metrics; that is the whole join. Metric names differ between cgroup v1 and v2, so
 * each resource lists its sources in order of preference: the first one the host serves wins.
 */

/** Metrics the containers views need, for the subscription. */
export const CONTAINER_METRICS = [
  'containers.name', 'containers.cgroup', 'containers.engine', 'containers.pid', 'containers.state.running',
  'containers.state.paused', 'hinv.ncpu', 'mem.physmem',
  'cgroup.cpuacct.usage', 'cgroup.cpu.stat.usage', 'cgroup.cpusched.cfs_quota', 'cgroup.cpusched.cfs_period',
  'cgroup.cpusched.periods', 'cgroup.cpusched.throttled', 'cgroup.cpusched.throttled_time', 'cgroup.cpuset.cpus',
  'cgroup.memory.usage', 'cgroup.memory.current', 'cgroup.memory.working_set', 'cgroup.memory.limit', 'cgroup.memory.max',
  'cgroup.memory.events.oom_kill', 'cgroup.pids.current',
  'cgroup.io.stat.rbytes', 'cgroup.io.stat.wbytes', 'cgroup.blkio.all.throttle.io_service_bytes.read',
  'cgroup.blkio.all.throttle.io_service_bytes.write',
  'cgroup.pressure.cpu.some.avg10sec', 'cgroup.pressure.memory.some.avg10sec', 'cgroup.pressure.io.some.avg10sec',
  'containers.network.interface.in.bytes', 'containers.network.interface.out.bytes',
];

/** Where a resource's values come from, first served source first. Per-device sources are summed per cgroup. */
export const SOURCES = {
  cpu: ['cgroup.cpuacct.usage', 'cgroup.cpu.stat.usage'],
  memory: ['cgroup.memory.usage', 'cgroup.memory.current'],
  workingSet: ['cgroup.memory.working_set'],
  memoryLimit: ['cgroup.memory.max', 'cgroup.memory.limit'],
  readBytes: ['cgroup.io.stat.rbytes', 'cgroup.blkio.all.throttle.io_service_bytes.read'],
  writeBytes: ['cgroup.io.stat.wbytes', 'cgroup.blkio.all.throttle.io_service_bytes.write'],
  periods: ['cgroup.cpusched.periods'],
  throttled: ['cgroup.cpusched.throttled'],
  rxBytes: ['containers.network.interface.in.bytes'],
  txBytes: ['containers.network.interface.out.bytes'],
} as const;

/** Metrics named `<cgroup or container>::<device>`, summed per cgroup or container. */
const PER_DEVICE = ['cgroup.io.stat.', 'containers.network.interface.'];

/** v1 reports "no memory limit" as 2^63 rounded down to a page; anything this big is none. */
const UNLIMITED = 2 ** 62;

export interface ContainerRow {
  /** Unique across hosts: `<host url>|<cgroup path>`. */
  key: string;
  host: string;
  hostname: string;
  /** Container id, or the cgroup path for a plain cgroup. */
  id: string;
  name: string;
  kind: 'container' | 'cgroup';
  engine: string;
  pod: string;
  namespace: string;
  image: string;
  cgroup: string;
  running: boolean;
  /** Cores in use (CPU-seconds per second). */
  cpu: number;
  /** Cores allowed by the CFS quota or the cpuset; NaN when unlimited. */
  cpuLimit: number;
  /** Fraction of CFS periods in which the cgroup was throttled. */
  throttled: number;
  /** Bytes. */
  memory: number;
  workingSet: number;
  /** Bytes; NaN when unlimited. */
  memoryLimit: number;
  /** OOM kills since the cgroup was created. */
  oomKills: number;
  /** Bytes per second. */
  readBps: number;
  writeBps: number;
  rxBps: number;
  txBps: number;
  /** Fractions of time (PSI some avg10). */
  cpuPressure: number;
  memoryPressure: number;
  ioPressure: number;
  tasks: number;
  /**
   * Bumped each time refreshRow reads the row's values again. A row whose version and place
   * are unchanged renders the same, so the table skips it.
   */
  version: number;
}

/** Instance ids of a metric by instance name (built per call: hosts change instances). */
function idsByName(source: SeriesSource, metric: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const id of source.instances(metric)) {
    const name = source.instanceName(metric, id);
    if (name !== undefined) map.set(name, id);
  }
  return map;
}

/** Instance names of per-device metrics (`<cgroup>::<device>`) grouped by their cgroup. */
function idsByPrefix(source: SeriesSource, metric: string): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const id of source.instances(metric)) {
    const name = source.instanceName(metric, id);
    const cut = name?.lastIndexOf('::') ?? -1;
    if (cut < 0) continue;
    const key = name!.slice(0, cut);
    // A container's loopback is not its traffic.
    if (metric.startsWith('containers.network') && name!.slice(cut + 2) === 'lo') continue;
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    list.push(id);
  }
  return map;
}

/** The series holding a resource of one instance: a metric, its instance ids and the factor to base units. */
interface Parts {
  metric: string;
  ids: number[];
  factor: number;
}

/**
 * A resource of one cgroup: per-cgroup or per-device metrics, converted to base units (cores,
 * bytes, bytes/s). Returns the source metric actually used (for charts) as well.
 *
 * It indexes the host's instances by name the first time a metric is asked for. The index holds
 * while the host's catalog (names, metadata) does not change, so a view keeps one reader per
 * host and catalog version: rebuilding it for each sample was most of the containers view's
 * refresh with thousands of cgroups. An instance that stops reporting stays in the index until
 * then; its values read as missing (NaN), as they would without it.
 */
export class ResourceReader {
  private readonly direct = new Map<string, Map<string, number>>();
  private readonly perDevice = new Map<string, Map<string, number[]>>();
  private readonly factors = new Map<string, number | undefined>();
  /** parts() by source list and instance (null: none), asked for each row's values every sample. */
  private readonly resolved = new Map<readonly string[], Map<string, Parts | null>>();

  constructor(readonly source: SeriesSource) {}

  private ids(metric: string): Map<string, number> {
    let m = this.direct.get(metric);
    if (!m) this.direct.set(metric, (m = idsByName(this.source, metric)));
    return m;
  }

  private deviceIds(metric: string): Map<string, number[]> {
    let m = this.perDevice.get(metric);
    if (!m) this.perDevice.set(metric, (m = idsByPrefix(this.source, metric)));
    return m;
  }

  /** Factor of a metric to base units (from its units, parsed once), or undefined when the host lacks it. */
  private factor(metric: string): number | undefined {
    if (!this.factors.has(metric)) {
      const meta = this.source.meta.get(metric);
      this.factors.set(metric, meta && displayOfMeta(meta).scale);
    }
    return this.factors.get(metric);
  }

  /**
   * The series holding a resource of `instance`, looked up once per source list (a constant, such
   * as SOURCES.cpu) and instance: every sample asks it again for each row in view.
   */
  parts(metrics: readonly string[], instance: string): Parts | undefined {
    let byInstance = this.resolved.get(metrics);
    if (!byInstance) this.resolved.set(metrics, (byInstance = new Map()));
    let p = byInstance.get(instance);
    if (p === undefined) byInstance.set(instance, (p = this.resolve(metrics, instance) ?? null));
    return p ?? undefined;
  }

  private resolve(metrics: readonly string[], instance: string): Parts | undefined {
    for (const metric of metrics) {
      const factor = this.factor(metric);
      if (factor === undefined) continue;
      if (PER_DEVICE.some((prefix) => metric.startsWith(prefix))) {
        const ids = this.deviceIds(metric).get(instance);
        if (ids?.length) return { metric, ids, factor };
      } else {
        const id = this.ids(metric).get(instance);
        if (id !== undefined) return { metric, ids: [id], factor };
      }
    }
    return undefined;
  }

  /** The newest value of a resource, in base units; NaN when no source has it. */
  current(metrics: readonly string[], instance: string): number {
    const p = this.parts(metrics, instance);
    if (!p) return NaN;
    let sum = 0;
    for (const id of p.ids) sum += this.source.current(p.metric, id);
    return sum * p.factor;
  }

  /** The newest raw value as a number (gauges like limits, exact enough for display). */
  raw(metric: string, instance: string): number {
    const id = this.ids(metric).get(instance);
    return id === undefined ? NaN : toNumber(this.source.latest(metric, id));
  }

  string(metric: string, instance: string): string {
    const id = this.ids(metric).get(instance);
    const v = id === undefined ? undefined : this.source.latest(metric, id);
    return typeof v === 'string' ? v : '';
  }
}

/** CPUs in a cpuset list like `0-3,8,10-11`. */
export function cpusetSize(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (m) n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

/** CPU limit in cores from CFS quota/period (µs; quota ≤ 0 is none) and the cpuset size. */
export function cpuLimit(quotaUs: number, periodUs: number, cpusetCpus: number): number {
  const quota = quotaUs > 0 && periodUs > 0 ? quotaUs / periodUs : NaN;
  const cpuset = cpusetCpus > 0 ? cpusetCpus : NaN;
  if (Number.isNaN(quota)) return cpuset;
  return Number.isNaN(cpuset) ? quota : Math.min(quota, cpuset);
}

export function memoryLimit(bytes: number, physmemBytes = Infinity): number {
  return bytes > 0 && bytes < UNLIMITED && bytes < physmemBytes ? bytes : NaN;
}

function row(source: SeriesSource, r: ResourceReader, host: string, hostname: string, cgroup: string, hostCpus: number): Omit<ContainerRow, 'key' | 'id' | 'name' | 'kind' | 'engine' | 'pod' | 'namespace' | 'image' | 'running' | 'version'> {
  const periods = r.current(SOURCES.periods, cgroup);
  const throttled = r.current(SOURCES.throttled, cgroup);
  const cpuset = r.string('cgroup.cpuset.cpus', cgroup);
  const physmem = toNumber(source.latest('mem.physmem', SINGULAR)) * 1024;
  return {
    host,
    hostname,
    cgroup,
    cpu: r.current(SOURCES.cpu, cgroup),
    cpuLimit: cpuLimit(
      r.raw('cgroup.cpusched.cfs_quota', cgroup),
      r.raw('cgroup.cpusched.cfs_period', cgroup),
      cpuset ? Math.min(cpusetSize(cpuset), hostCpus || Infinity) : NaN,
    ),
    throttled: periods > 0 ? throttled / periods : periods === 0 ? 0 : NaN,
    memory: r.current(SOURCES.memory, cgroup),
    workingSet: r.current(SOURCES.workingSet, cgroup),
    memoryLimit: memoryLimit(r.raw('cgroup.memory.max', cgroup) || r.raw('cgroup.memory.limit', cgroup), physmem || Infinity),
    oomKills: r.raw('cgroup.memory.events.oom_kill', cgroup),
    readBps: r.current(SOURCES.readBytes, cgroup),
    writeBps: r.current(SOURCES.writeBytes, cgroup),
    rxBps: NaN,
    txBps: NaN,
    cpuPressure: r.raw('cgroup.pressure.cpu.some.avg10sec', cgroup) / 100,
    memoryPressure: r.raw('cgroup.pressure.memory.some.avg10sec', cgroup) / 100,
    ioPressure: r.raw('cgroup.pressure.io.some.avg10sec', cgroup) / 100,
    tasks: r.raw('cgroup.pids.current', cgroup),
  };
}

/**
 * Rows for one host: its containers, or with `allCgroups` every cgroup (hosts without
 * container engines, or to see system services next to containers). Pass the host's `r` to
 * reuse its instance index across samples (see ResourceReader).
 */
export function containerRows(source: SeriesSource, host: string, hostname: string, allCgroups: boolean, r = new ResourceReader(source)): ContainerRow[] {
  const hostCpus = toNumber(source.latest('hinv.ncpu', SINGULAR));
  const rows: ContainerRow[] = [];
  const seen = new Set<string>();
  for (const instance of source.instances('containers.name')) {
    const cid = source.instanceName('containers.name', instance) ?? String(instance);
    const cgroup = source.latest('containers.cgroup', instance);
    // A stopped container keeps its row (named, marked stopped) but has no cgroup to measure.
    const path = typeof cgroup === 'string' ? cgroup : '';
    if (path) seen.add(path);
    const labels = source.instanceLabels('containers.name', instance) ?? {};
    const name = source.latest('containers.name', instance);
    const engine = source.latest('containers.engine', instance);
    const running = toNumber(source.latest('containers.state.running', instance));
    rows.push({
      ...row(source, r, host, hostname, path, hostCpus),
      key: `${host}|${path || cid}`,
      id: cid,
      name: typeof name === 'string' && name ? name : cid.slice(0, 12),
      kind: 'container',
      engine: typeof engine === 'string' ? engine : '',
      pod: labels.pod ?? '',
      namespace: labels.namespace ?? '',
      image: labels.image ?? '',
      running: path !== '' && running !== 0,
      rxBps: r.current(SOURCES.rxBytes, cid),
      txBps: r.current(SOURCES.txBytes, cid),
      version: 0,
    });
  }
  if (allCgroups) {
    const cpuMetric = SOURCES.cpu.find((m) => source.meta.has(m) && [...source.instances(m)].length > 0);
    for (const id of cpuMetric ? source.instances(cpuMetric) : []) {
      const cgroup = source.instanceName(cpuMetric!, id);
      // Kept history outlives a removed cgroup; a row is for a cgroup that exists now.
      if (cgroup === undefined || seen.has(cgroup) || source.latest(cpuMetric!, id) === undefined) continue;
      seen.add(cgroup);
      rows.push({
        ...row(source, r, host, hostname, cgroup, hostCpus),
        key: `${host}|${cgroup}`,
        id: cgroup,
        name: cgroup,
        kind: 'cgroup',
        engine: '',
        pod: '',
        namespace: '',
        image: '',
        running: true,
        version: 0,
      });
    }
  }
  return rows;
}

/** Reads a row's values from the newest sample again; what it is (name, kind, labels) stays. */
export function refreshRow(source: SeriesSource, r: ResourceReader, target: ContainerRow): void {
  Object.assign(target, row(source, r, target.host, target.hostname, target.cgroup, toNumber(source.latest('hinv.ncpu', SINGULAR))));
  if (target.kind === 'container') {
    target.rxBps = r.current(SOURCES.rxBytes, target.id);
    target.txBps = r.current(SOURCES.txBytes, target.id);
  }
  target.version++;
}

/**
 * What a row is, rather than what it measures: what the table filters and orders rows by
 * besides their values. A row whose identity changes is another row.
 */
const IDENTITY = ['key', 'host', 'hostname', 'id', 'name', 'kind', 'engine', 'pod', 'namespace', 'image', 'cgroup'] as const;

/**
 * `fresh`, a host's rows made again, as the objects of `old` when both list the same rows in the
 * same order: their values are replaced in place (each one's version moves, as refreshRow's do)
 * and `old` itself is returned. A host's rows are made again every few seconds; most times
 * nothing but the values changed, and handing the view the same array keeps its order, its
 * filter and the table's rows without re-keying a thousand of them. Otherwise `fresh`.
 */
export function carryOver(old: ContainerRow[], fresh: ContainerRow[]): ContainerRow[] {
  if (old.length !== fresh.length || old.some((r, i) => IDENTITY.some((k) => r[k] !== fresh[i]![k]))) return fresh;
  old.forEach((r, i) => Object.assign(r, fresh[i], { version: r.version + 1 }));
  return old;
}

/** a + b where a missing side counts as 0, but both missing stay missing. */
export function plus(a: number, b: number): number {
  return Number.isNaN(a) ? b : Number.isNaN(b) ? a : a + b;
}

/** The largest of a row's CPU, memory and I/O pressure; NaN only when none is known. */
export function worstPressure(r: Pick<ContainerRow, 'cpuPressure' | 'memoryPressure' | 'ioPressure'>): number {
  const known = [r.cpuPressure, r.memoryPressure, r.ioPressure].filter((x) => !Number.isNaN(x));
  return known.length ? Math.max(...known) : NaN;
}

/** Sortable columns of the container table and how to read them. */
export const COLUMNS: Record<string, (r: ContainerRow) => number | string> = {
  name: (r) => r.name,
  host: (r) => r.hostname,
  engine: (r) => r.engine,
  pod: (r) => r.pod,
  cpu: (r) => r.cpu,
  cpulimit: (r) => (Number.isNaN(r.cpuLimit) ? NaN : r.cpu / r.cpuLimit),
  throttled: (r) => r.throttled,
  memory: (r) => r.memory,
  workingset: (r) => r.workingSet,
  memlimit: (r) => (Number.isNaN(r.memoryLimit) ? NaN : r.workingSet / r.memoryLimit),
  oom: (r) => r.oomKills,
  io: (r) => plus(r.readBps, r.writeBps),
  network: (r) => plus(r.rxBps, r.txBps),
  pressure: (r) => worstPressure(r),
  tasks: (r) => r.tasks,
};

/** One collator for every comparison: `localeCompare` sets one up per call, too slow for 1000-row sorts. */
const collator = new Intl.Collator();

/**
 * Collation rank of every name in the latest sort. Ties are broken by name, and most rows tie
 * (idle containers all use 0 cores): ranking the names once, again only when a new one shows
 * up, saves the thousands of collator calls a 1000-row sort would make every refresh.
 */
let nameRank = new Map<string, number>();

function rankNames(rows: readonly ContainerRow[]): Map<string, number> {
  if (rows.every((r) => nameRank.has(r.name))) return nameRank;
  const names = [...new Set(rows.map((r) => r.name))].sort(collator.compare);
  nameRank = new Map(names.map((name, i) => [name, i]));
  return nameRank;
}

/** Sorts by a column (`-cpu` descending); NaN (no data) sorts last either way; ties by name. In place. */
export function sortRows(rows: ContainerRow[], sort: string): ContainerRow[] {
  const desc = sort.startsWith('-');
  const key = desc ? sort.slice(1) : sort;
  const rank = rankNames(rows);
  // Each row's values are read once, not once per comparison.
  const names = rows.map((r) => rank.get(r.name)!);
  const values = key === 'name' ? names : rows.map(COLUMNS[key] ?? COLUMNS.cpu!);
  const order = rows.map((_, i) => i).sort((i, j) => {
    const x = values[i]!;
    const y = values[j]!;
    const xMissing = typeof x === 'number' && Number.isNaN(x);
    const yMissing = typeof y === 'number' && Number.isNaN(y);
    if (xMissing !== yMissing) return xMissing ? 1 : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y));
    return (desc ? -c : c) || names[i]! - names[j]!;
  });
  const sorted = order.map((i) => rows[i]!);
  for (let i = 0; i < sorted.length; i++) rows[i] = sorted[i]!;
  return rows;
}

/**
 * Filters by words: a row matches when every word occurs in its name, id, host, engine, pod,
 * namespace, image or cgroup; `field:value` restricts a word to one field (`engine:docker`,
 * `ns:prod`, `host:db1`).
 */
export function filterRows(rows: readonly ContainerRow[], text: string): ContainerRow[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...rows];
  const fields: Record<string, (r: ContainerRow) => string> = {
    name: (r) => r.name, id: (r) => r.id, host: (r) => `${r.hostname} ${r.host}`, engine: (r) => r.engine,
    pod: (r) => r.pod, ns: (r) => r.namespace, namespace: (r) => r.namespace, image: (r) => r.image, cgroup: (r) => r.cgroup,
  };
  return rows.filter((r) =>
    words.every((word) => {
      const colon = word.indexOf(':');
      const field = colon > 0 ? fields[word.slice(0, colon)] : undefined;
      if (field) return field(r).toLowerCase().includes(word.slice(colon + 1));
      return Object.values(fields).some((f) => f(r).toLowerCase().includes(word));
    }),
  );
}

/**
 * What the top-N charts and the icicle size containers by: sums of sources (read + write), each
 * a preference list; network is per container (its namespace), the rest per cgroup.
 */
export const RESOURCE_OF: Record<string, { sum: ReadonlyArray<readonly string[]>; kind: 'cores' | 'bytes' | 'bytes/s'; label: string; by: 'cgroup' | 'container' }> = {
  cpu: { sum: [SOURCES.cpu], kind: 'cores', label: 'CPU', by: 'cgroup' },
  memory: { sum: [[...SOURCES.workingSet, ...SOURCES.memory]], kind: 'bytes', label: 'memory (working set)', by: 'cgroup' },
  io: { sum: [SOURCES.readBytes, SOURCES.writeBytes], kind: 'bytes/s', label: 'disk I/O', by: 'cgroup' },
  network: {
    sum: [SOURCES.rxBytes, SOURCES.txBytes],
    kind: 'bytes/s', label: 'network', by: 'container',
  },
};

/**
 * A resource of one row as chart terms (base units), or undefined when the host lacks it.
 * Pass the host's `reader` when asking for many rows: it indexes the host's instances once.
 */
export function resourceTerms(source: SeriesSource, row: Pick<ContainerRow, 'id' | 'cgroup'>, resource: string, reader = new ResourceReader(source)): Array<{ metric: string; instance: number; factor: number }> | undefined {
  const def = RESOURCE_OF[resource];
  if (!def) return undefined;
  const key = def.by === 'container' ? row.id : row.cgroup;
  const terms = [];
  for (const metrics of def.sum) {
    const p = reader.parts(metrics, key);
    if (p) for (const id of p.ids) terms.push({ metric: p.metric, instance: id, factor: p.factor });
  }
  return terms.length ? terms : undefined;
}

/** A row's value for a resource (the sort key of the top-N charts). */
export function resourceValue(row: ContainerRow, resource: string): number {
  switch (resource) {
    case 'memory':
      return Number.isNaN(row.workingSet) ? row.memory : row.workingSet;
    case 'io':
      return plus(row.readBps, row.writeBps);
    case 'network':
      return plus(row.rxBps, row.txBps);
    default:
      return row.cpu;
  }
}
