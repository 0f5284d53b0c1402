import { CONTAINER_METRICS, RESOURCE_OF, SOURCES } from './containers.js';
import type { SubscriptionSpec } from './connection.js';
import type { ConsoleState } from './url-state.js';
import { WIDGETS, widgetMetrics } from './widgets.js';

/**
 * Which stream subscriptions each agent needs for what the console shows. The main one is
 * stable (switching views is instant); the heavier ones exist only while a view needs them.
 */

/** Who the host is and what it has. */
const BASE = ['pmcd.hostname', 'kernel.uname.nodename', 'hinv.ncpu', 'mem.physmem'];

export const OVERVIEW_METRICS = [...new Set(WIDGETS.flatMap(widgetMetrics))];

/** Per-container metrics worth a history for every container (top-N charts): the rest keep only their newest value. */
const CHARTED = new Set<string>([
  ...OVERVIEW_METRICS,
  ...Object.values(RESOURCE_OF).flatMap((r) => r.sum.flat()),
  ...SOURCES.memory,
]);

/** Processes: names, container, CPU and memory (latest values only). */
export const PROCESS_METRICS = [
  'proc.psinfo.pid', 'proc.psinfo.cmd', 'proc.psinfo.psargs', 'proc.psinfo.sname', 'proc.psinfo.utime', 'proc.psinfo.stime',
  'proc.psinfo.threads', 'proc.psinfo.cgroups', 'proc.id.container', 'proc.memory.vmrss', 'proc.fd.count', 'proc.namespaces.pid',
];

/** Everything about one container, with history (its detail page). */
export const DETAIL_METRICS = [
  'cgroup.cpuacct', 'cgroup.cpu.stat', 'cgroup.cpusched', 'cgroup.memory', 'cgroup.pids', 'cgroup.pressure', 'cgroup.io.stat',
  'cgroup.blkio.all.throttle', 'containers.network',
];

export function mainSubscription(): SubscriptionSpec {
  return {
    metrics: [...new Set([...BASE, ...OVERVIEW_METRICS, ...CONTAINER_METRICS])],
    keep: (m) => CHARTED.has(m),
  };
}

export interface Needed {
  id: string;
  spec: SubscriptionSpec;
}

/**
 * The subscriptions an agent at `host` needs in this state, main first. The detail page of a
 * container restricts its subscription to the container (by id, or to the cgroup path for a
 * plain cgroup, which no engine knows).
 */
export function subscriptionsFor(state: ConsoleState, host: string): Needed[] {
  const needed: Needed[] = [{ id: 'main', spec: mainSubscription() }];
  if (state.view === 'container' || state.view === 'flame') needed.push({ id: 'procs', spec: { metrics: PROCESS_METRICS, keep: () => false } });
  if (state.view === 'container' && state.container?.host === host) {
    const id = state.container.id;
    const spec: SubscriptionSpec = id.startsWith('/')
      ? { metrics: DETAIL_METRICS.filter((m) => m.startsWith('cgroup.')), instances: [id] }
      : { metrics: DETAIL_METRICS, containers: [id] };
    needed.push({ id: 'detail', spec });
  }
  if (state.charts.length) needed.push({ id: 'custom', spec: { metrics: state.charts } });
  return needed;
}
