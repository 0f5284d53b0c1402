import type { MetricFamily } from '../metrics/table.js';

/**
 * Which metrics each cgroup interface file feeds, so that a pass reads only the files whose
 * metrics someone wants (agent/demand.ts). Entries ending in `.` are PMNS prefixes. A file not
 * listed here is always read. Over-listing costs a read; under-listing loses values, which
 * test/live/cgroup-demand.test.ts catches by asking for every metric alone.
 */
const FEEDS: Readonly<Record<string, readonly string[]>> = {
  // v1 cpuacct, v1 cpu (CFS), cgroup2 cpu
  'cpuacct.usage': ['cgroup.cpuacct.usage', 'cgroup.cpu.stat.usage', 'cgroup.cpuacct.id.container'],
  'cpuacct.stat': ['cgroup.cpuacct.stat.', 'cgroup.cpu.stat.user', 'cgroup.cpu.stat.system', 'cgroup.cpuacct.id.container'],
  'cpuacct.usage_percpu': ['cgroup.cpuacct.usage_percpu', 'cgroup.cpuacct.id.container'],
  'cpu.shares': ['cgroup.cpusched.shares', 'cgroup.cpusched.id.container'],
  'cpu.weight': ['cgroup.cpusched.shares', 'cgroup.cpusched.id.container'],
  'cpu.cfs_period_us': ['cgroup.cpusched.cfs_period', 'cgroup.cpusched.id.container'],
  'cpu.cfs_quota_us': ['cgroup.cpusched.cfs_quota', 'cgroup.cpusched.id.container'],
  'cpu.max': ['cgroup.cpusched.cfs_quota', 'cgroup.cpusched.cfs_period', 'cgroup.cpusched.id.container'],
  'cpu.stat': ['cgroup.cpusched.', 'cgroup.cpu.stat.', 'cgroup.cpuacct.'],
  'cpuset.cpus': ['cgroup.cpuset.cpus', 'cgroup.cpuset.id.container'],
  'cpuset.mems': ['cgroup.cpuset.mems', 'cgroup.cpuset.id.container'],
  'cpuset.cpus.effective': ['cgroup.cpuset.cpus', 'cgroup.cpuset.id.container'],
  'cpuset.mems.effective': ['cgroup.cpuset.mems', 'cgroup.cpuset.id.container'],
  // v1 memory
  'memory.stat': ['cgroup.memory.stat.', 'cgroup.memory.working_set', 'cgroup.memory.id.container'],
  'memory.usage_in_bytes': ['cgroup.memory.usage', 'cgroup.memory.current', 'cgroup.memory.working_set', 'cgroup.memory.swap.current', 'cgroup.memory.id.container'],
  'memory.limit_in_bytes': ['cgroup.memory.limit', 'cgroup.memory.max', 'cgroup.memory.id.container'],
  'memory.failcnt': ['cgroup.memory.failcnt', 'cgroup.memory.events.max'],
  'memory.max_usage_in_bytes': ['cgroup.memory.max_usage'],
  'memory.memsw.usage_in_bytes': ['cgroup.memory.swap.current'],
  'memory.oom_control': ['cgroup.memory.under_oom', 'cgroup.memory.events.oom_kill'],
  // cgroup2 memory
  'memory.current': ['cgroup.memory.current', 'cgroup.memory.usage', 'cgroup.memory.working_set', 'cgroup.memory.id.container'],
  'memory.max': ['cgroup.memory.limit', 'cgroup.memory.max'],
  'memory.high': ['cgroup.memory.high'],
  'memory.swap.current': ['cgroup.memory.swap.current', 'cgroup.memory.stat.swap', 'cgroup.memory.stat.total.swap'],
  'memory.swap.max': ['cgroup.memory.swap.max'],
  'memory.peak': ['cgroup.memory.max_usage'],
  'memory.events': ['cgroup.memory.events.', 'cgroup.memory.failcnt'],
  // block I/O: v1 throttle counters also serve cgroup2's io.stat names, and the reverse
  'blkio.throttle.io_service_bytes': [
    'cgroup.blkio.dev.throttle.io_service_bytes.', 'cgroup.blkio.all.throttle.io_service_bytes.',
    'cgroup.io.stat.rbytes', 'cgroup.io.stat.wbytes', 'cgroup.io.stat.dbytes', 'cgroup.blkio.id.container',
  ],
  'blkio.throttle.io_serviced': [
    'cgroup.blkio.dev.throttle.io_serviced.', 'cgroup.blkio.all.throttle.io_serviced.',
    'cgroup.io.stat.rios', 'cgroup.io.stat.wios', 'cgroup.io.stat.dios', 'cgroup.blkio.id.container',
  ],
  'blkio.io_merged': ['cgroup.blkio.dev.io_merged.', 'cgroup.blkio.all.io_merged.'],
  'blkio.io_queued': ['cgroup.blkio.dev.io_queued.', 'cgroup.blkio.all.io_queued.'],
  'blkio.io_service_bytes': ['cgroup.blkio.dev.io_service_bytes.', 'cgroup.blkio.all.io_service_bytes.'],
  'blkio.io_serviced': ['cgroup.blkio.dev.io_serviced.', 'cgroup.blkio.all.io_serviced.'],
  'blkio.io_service_time': ['cgroup.blkio.dev.io_service_time.', 'cgroup.blkio.all.io_service_time.'],
  'blkio.io_wait_time': ['cgroup.blkio.dev.io_wait_time.', 'cgroup.blkio.all.io_wait_time.'],
  'blkio.sectors': ['cgroup.blkio.dev.sectors', 'cgroup.blkio.all.sectors'],
  'blkio.time': ['cgroup.blkio.dev.time', 'cgroup.blkio.all.time'],
  'io.stat': ['cgroup.io.stat.', 'cgroup.blkio.'],
  'pids.current': ['cgroup.pids.current'],
  'pids.max': ['cgroup.pids.max'],
  'net_cls.classid': ['cgroup.netclass.'],
  'cpu.pressure': ['cgroup.pressure.cpu.'],
  'memory.pressure': ['cgroup.pressure.memory.'],
  'io.pressure': ['cgroup.pressure.io.'],
  'irq.pressure': ['cgroup.pressure.irq.'],
};

/** Metrics each v1 controller's readers produce: a hierarchy none of whose metrics is wanted is not walked. */
export const CONTROLLER_METRICS: Readonly<Record<string, readonly string[]>> = {
  cpuacct: ['cgroup.cpuacct.', 'cgroup.cpu.stat.'],
  cpu: ['cgroup.cpusched.'],
  cpuset: ['cgroup.cpuset.'],
  memory: ['cgroup.memory.'],
  blkio: ['cgroup.blkio.', 'cgroup.io.stat.'],
  pids: ['cgroup.pids.'],
  hugetlb: ['cgroup.hugetlb.'],
  net_cls: ['cgroup.netclass.'],
};

/** hugetlb.<size>.usage_in_bytes (v1), hugetlb.<size>.current (v2), and their kin. */
const HUGETLB = ['cgroup.hugetlb.'];

/**
 * The per-pass question "read this file?", answered from the wanted metrics once per pass (not
 * once per cgroup): the patterns are expanded against the family when the collector is made.
 */
export class CgroupFeeds {
  private readonly feeds = new Map<string, readonly string[]>();
  private readonly hugetlb: readonly string[];
  private readonly controllers = new Map<string, readonly string[]>();
  private need = new Map<string, boolean>();
  private wants: (metric: string) => boolean = () => true;

  constructor(family: MetricFamily) {
    const expand = (patterns: readonly string[]): string[] =>
      family.metrics.map((m) => m.name).filter((name) => patterns.some((p) => (p.endsWith('.') ? name.startsWith(p) : name === p)));
    for (const [file, patterns] of Object.entries(FEEDS)) this.feeds.set(file, expand(patterns));
    this.hugetlb = expand(HUGETLB);
    for (const [controller, patterns] of Object.entries(CONTROLLER_METRICS)) this.controllers.set(controller, expand(patterns));
  }

  /** Starts a pass with this pass's wants. */
  begin(wants: (metric: string) => boolean): void {
    this.wants = wants;
    this.need = new Map();
  }

  /** Whether some metric of the file is wanted (files this table does not know: yes). */
  reads(file: string): boolean {
    let need = this.need.get(file);
    if (need === undefined) {
      const fed = this.feeds.get(file) ?? (file.startsWith('hugetlb.') ? this.hugetlb : undefined);
      need = fed === undefined || fed.some(this.wants);
      this.need.set(file, need);
    }
    return need;
  }

  /** Whether some metric of the v1 controller is wanted. */
  walks(controller: string): boolean {
    return this.controllers.get(controller)?.some(this.wants) ?? true;
  }

  /** Whether any per-cgroup metric is wanted at all (else no hierarchy is walked). */
  any(): boolean {
    return [...this.controllers.values()].some((names) => names.some(this.wants)) || [...this.feeds.values()].some((names) => names.some(this.wants));
  }
}
