import { MAX, parseCpuMax, parseSpaceSeparated } from '../parsers/cgroup-formats.js';
import type { CgroupDir } from './cgroup-dir.js';
import type { CgroupSink } from './cgroup-sink.js';

/**
 * CPU accounting and CFS bandwidth (cgroup.cpuacct.*, cgroup.cpu.stat.*, cgroup.cpusched.*)
 * and cpusets, from v1 cpuacct/cpu/cpuset hierarchies or from cgroup2. Each family is served
 * under both its v1 and its v2 names, converted to the units PCP declares for the name.
 */

/** cpuacct.stat counts USER_HZ ticks; USER_HZ is 100 on every Linux ABI Vigil runs on. */
const USER_HZ = 100n;

/** v1 cpuacct: usage (ns), usage_percpu (ns), stat (ticks). */
export function cpuacctFromV1(dir: CgroupDir, sink: CgroupSink): void {
  const { out } = sink;
  let found = false;
  const usage = dir.integer('cpuacct.usage');
  if (usage !== undefined) {
    found = true;
    out.put('cgroup.cpuacct.usage', usage, dir.name);
    out.put('cgroup.cpu.stat.usage', usage / 1000n, dir.name);
  }
  const stat = dir.keyed('cpuacct.stat');
  if (stat) {
    found = true;
    const user = stat.get('user');
    const system = stat.get('system');
    // PCP declares cpuacct.stat.* in milliseconds but serves the raw ticks; we convert.
    if (user !== undefined) {
      out.put('cgroup.cpuacct.stat.user', (user * 1000n) / USER_HZ, dir.name);
      out.put('cgroup.cpu.stat.user', (user * 1_000_000n) / USER_HZ, dir.name);
    }
    if (system !== undefined) {
      out.put('cgroup.cpuacct.stat.system', (system * 1000n) / USER_HZ, dir.name);
      out.put('cgroup.cpu.stat.system', (system * 1_000_000n) / USER_HZ, dir.name);
    }
  }
  const values = dir.parse('cpuacct.usage_percpu', parseSpaceSeparated);
  if (values) {
    found = true;
    for (let cpu = 0; cpu < values.length; cpu++) out.put('cgroup.cpuacct.usage_percpu', values[cpu]!, `${dir.name}::cpu${cpu}`);
  }
  if (found) sink.putContainer('cgroup.cpuacct.id.container', dir.name);
}

/** v1 cpu: shares, CFS quota and period, throttling (cpu.stat). */
export function cpuschedFromV1(dir: CgroupDir, sink: CgroupSink): void {
  const { out } = sink;
  let found = false;
  const shares = dir.integer('cpu.shares');
  if (shares !== undefined) {
    found = true;
    out.put('cgroup.cpusched.shares', shares, dir.name);
  }
  const period = dir.integer('cpu.cfs_period_us');
  if (period !== undefined) {
    found = true;
    out.put('cgroup.cpusched.cfs_period', period, dir.name);
  }
  const quota = dir.integer('cpu.cfs_quota_us');
  if (quota !== undefined) {
    found = true;
    out.put('cgroup.cpusched.cfs_quota', quota, dir.name);
  }
  const stat = dir.keyed('cpu.stat');
  if (stat) {
    found = true;
    putIfDefined(sink, 'cgroup.cpusched.periods', stat.get('nr_periods'), dir.name);
    putIfDefined(sink, 'cgroup.cpusched.throttled', stat.get('nr_throttled'), dir.name);
    putIfDefined(sink, 'cgroup.cpusched.throttled_time', stat.get('throttled_time'), dir.name);
  }
  if (found) sink.putContainer('cgroup.cpusched.id.container', dir.name);
}

/**
 * cgroup2 `cpu.stat` (usage/user/system µs, always there; nr_periods, nr_throttled,
 * throttled_usec with the cpu controller), `cpu.max` and `cpu.weight`.
 * @param acct serve the cpuacct and cpu.stat names (no v1 cpuacct hierarchy has this cgroup)
 * @param sched serve the cpusched names (no v1 cpu hierarchy has this cgroup)
 */
export function cpuFromV2(dir: CgroupDir, sink: CgroupSink, acct: boolean, sched: boolean): void {
  const { out } = sink;
  const stat = dir.keyed('cpu.stat');
  if (acct && stat) {
    const usage = stat.get('usage_usec');
    const user = stat.get('user_usec');
    const system = stat.get('system_usec');
    if (usage !== undefined) {
      out.put('cgroup.cpu.stat.usage', usage, dir.name);
      out.put('cgroup.cpuacct.usage', usage * 1000n, dir.name);
    }
    if (user !== undefined) {
      out.put('cgroup.cpu.stat.user', user, dir.name);
      out.put('cgroup.cpuacct.stat.user', user / 1000n, dir.name);
    }
    if (system !== undefined) {
      out.put('cgroup.cpu.stat.system', system, dir.name);
      out.put('cgroup.cpuacct.stat.system', system / 1000n, dir.name);
    }
    sink.putContainer('cgroup.cpuacct.id.container', dir.name);
  }
  if (!sched) return;
  let found = false;
  const max = dir.parse('cpu.max', parseCpuMax);
  if (max) {
    found = true;
    const { quota, period } = max;
    out.put('cgroup.cpusched.cfs_quota', quota === MAX ? -1n : quota, dir.name);
    out.put('cgroup.cpusched.cfs_period', period, dir.name);
  }
  const weight = dir.integer('cpu.weight');
  if (weight !== undefined) {
    found = true;
    // The scheduler's own conversion (sched_weight_from_cgroup): weight 100 is 1024 shares.
    out.put('cgroup.cpusched.shares', (weight * 1024n + 50n) / 100n, dir.name);
  }
  const throttledUsec = stat?.get('throttled_usec');
  if (stat?.has('nr_periods')) {
    found = true;
    putIfDefined(sink, 'cgroup.cpusched.periods', stat.get('nr_periods'), dir.name);
    putIfDefined(sink, 'cgroup.cpusched.throttled', stat.get('nr_throttled'), dir.name);
    putIfDefined(sink, 'cgroup.cpusched.throttled_time', throttledUsec === undefined ? undefined : throttledUsec * 1000n, dir.name);
  }
  if (found) sink.putContainer('cgroup.cpusched.id.container', dir.name);
}

/** v1 cpuset: the CPUs and memory nodes configured for the cgroup. */
export function cpusetFromV1(dir: CgroupDir, sink: CgroupSink): void {
  cpuset(dir, sink, 'cpuset.cpus', 'cpuset.mems');
}

/**
 * cgroup2 cpuset: the effective sets. v2's `cpuset.cpus` is often empty (meaning "inherit"),
 * while the effective set is what v1's `cpuset.cpus` shows: the CPUs the tasks may run on.
 */
export function cpusetFromV2(dir: CgroupDir, sink: CgroupSink): void {
  cpuset(dir, sink, 'cpuset.cpus.effective', 'cpuset.mems.effective');
}

function cpuset(dir: CgroupDir, sink: CgroupSink, cpusFile: string, memsFile: string): void {
  const cpus = dir.read(cpusFile);
  const mems = dir.read(memsFile);
  if (cpus !== undefined) sink.out.put('cgroup.cpuset.cpus', cpus.trim(), dir.name);
  if (mems !== undefined) sink.out.put('cgroup.cpuset.mems', mems.trim(), dir.name);
  if (cpus !== undefined || mems !== undefined) sink.putContainer('cgroup.cpuset.id.container', dir.name);
}

function putIfDefined(sink: CgroupSink, metric: string, value: bigint | undefined, instance: string): void {
  if (value !== undefined) sink.out.put(metric, value, instance);
}
