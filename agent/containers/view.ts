import type { MetricTable } from '../metrics/table.js';
import { SINGULAR, Sample, type InstanceValues } from '../store/sample.js';
import type { Value } from '../metrics/types.js';
import type { ContainerDiscovery } from './discovery.js';
import type { ContainerRef, ContainerScope } from './scope.js';

/** Per-container network metrics carry the host metric's name behind this prefix (metrics/containers.ts). */
const MIRROR_PREFIX = 'containers.';

/**
 * The ContainerScope the API dialects use: containers found by discovery, and the sample as
 * PCP shows it inside a container context.
 */
export function containerScope(discovery: ContainerDiscovery, table: MetricTable): ContainerScope {
  const views = new WeakMap<Sample, Map<string, Sample>>();
  return {
    find: (nameOrId) => discovery.find(nameOrId),
    view(sample, container) {
      let byContainer = views.get(sample);
      if (!byContainer) views.set(sample, (byContainer = new Map()));
      let view = byContainer.get(container.id);
      if (!view) byContainer.set(container.id, (view = containerView(sample, container, table)));
      return view;
    },
  };
}

/**
 * The sample seen from inside one container:
 * - `cgroup.*` instances limited to the container's cgroup and below (instance names that are
 *   not cgroup paths, like `cgroup.subsys.*`'s controllers, stay);
 * - `network.*` answered from the container's own network namespace: the values the
 *   container-network collector keeps under `containers.network.*`, re-labelled to the host
 *   names (`<id>::eth0` → `eth0`, the container's instance → singular). Host network values
 *   never leak in; what the container collector does not read has no values;
 * - `pmcd.hostname` is the container's UTS hostname;
 * - `proc.*` lists only the container's processes, and `proc.nprocs` counts them.
 */
export function containerView(sample: Sample, container: ContainerRef, table: MetricTable): Sample {
  const view = new Sample(sample.time);
  for (const [indom, labels] of sample.instanceLabels) view.instanceLabels.set(indom, labels);
  const procIds = containerProcesses(sample, container.id);

  for (const [name, values] of sample.values) {
    const desc = table.metric(name);
    if (!desc) continue;
    if (name.startsWith('network.')) continue;
    if (name === 'pmcd.hostname') {
      const hostname = valueOf(sample, 'containers.hostname', '1.0', container.id);
      if (hostname !== undefined) put(view, name, null, SINGULAR, hostname);
      continue;
    }
    if (name === 'proc.nprocs') {
      put(view, name, null, SINGULAR, procIds.size);
      continue;
    }
    const keep = name.startsWith('cgroup.')
      ? (instance: string) => !instance.startsWith('/') || inSubtree(instance, container.cgroup)
      : desc.indom === '3.9'
        ? (_: string, id: number) => procIds.has(id)
        : () => true;
    for (const [id, value] of values) {
      const instance = desc.indom === null ? undefined : sample.instanceName(desc.indom, id);
      if (instance === undefined ? desc.indom === null : keep(instance, id)) put(view, name, desc.indom, id, value, instance);
    }
  }

  // The container's own network namespace, under the host's names.
  const prefix = `${MIRROR_PREFIX}network.`;
  for (const [name, values] of sample.values) {
    if (!name.startsWith(prefix)) continue;
    const mirror = table.metric(name);
    const host = table.metric(name.slice(MIRROR_PREFIX.length));
    if (!mirror?.indom || !host) continue;
    const hostDomain = host.indom === null ? undefined : table.indom(host.indom);
    for (const [id, value] of values) {
      const instance = sample.instanceName(mirror.indom, id);
      if (instance === undefined) continue;
      if (host.indom === null) {
        if (instance === container.id) put(view, host.name, null, SINGULAR, value);
      } else if (hostDomain && instance.startsWith(`${container.id}::`)) {
        const inner = instance.slice(container.id.length + 2);
        put(view, host.name, host.indom, hostDomain.idOf(inner, sample.time), value, inner);
      }
    }
  }
  return view;
}

function put(view: Sample, metric: string, indom: string | null, id: number, value: Value, instance?: string): void {
  let values: InstanceValues | undefined = view.values.get(metric);
  if (!values) view.values.set(metric, (values = new Map()));
  values.set(id, value);
  if (indom !== null && instance !== undefined) {
    let names = view.instances.get(indom);
    if (!names) view.instances.set(indom, (names = new Map()));
    names.set(id, instance);
  }
}

/** `/docker/abc` is in the subtree of `/docker/abc`; so are `/docker/abc/x` and io.stat's `/docker/abc::8:0`. */
function inSubtree(instance: string, cgroup: string): boolean {
  if (!cgroup) return false;
  return instance === cgroup || instance.startsWith(`${cgroup}/`) || instance.startsWith(`${cgroup}::`);
}

function valueOf(sample: Sample, metric: string, indom: string, instance: string): Value | undefined {
  const values = sample.get(metric);
  if (!values) return undefined;
  for (const [id, value] of values) if (sample.instanceName(indom, id) === instance) return value;
  return undefined;
}

/** Instance ids (pids) of the processes whose `proc.id.container` is this container. */
function containerProcesses(sample: Sample, containerId: string): Set<number> {
  const ids = new Set<number>();
  for (const [id, value] of sample.get('proc.id.container') ?? []) if (value === containerId) ids.add(id);
  return ids;
}
