import type { ContainerRef, ContainerScope } from '../containers/scope.js';
import type { MetricTable } from '../metrics/table.js';
import type { MetricDesc } from '../metrics/types.js';
import type { Sample } from '../store/sample.js';

/** A request the stream or /history cannot serve: `code` is machine-readable, the message says what to change. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SelectionSpec {
  /** Metric names or PMNS prefixes (`kernel.all`, `cgroup.cpuacct`). */
  metrics: readonly string[];
  /** Instance names to keep; singular metrics are unaffected. */
  instances?: readonly string[];
  /** Containers by name, id (or unique id prefix) or label `key=value`. */
  containers?: readonly string[];
}

/** PCP's container indom (pmdaroot's 1.0): instance names are container ids, labelled by their engine. */
const CONTAINERS_INDOM = '1.0';

/**
 * Which metric+instance series a subscription or a /history request covers. Restricting to
 * containers limits `cgroup.*` instances that are cgroup paths to the containers' cgroups and
 * their subtrees, and `containers.*` instances to the containers' own; other metrics are the
 * host's. Container selectors are re-resolved on every sample (`refresh`), so a container that
 * starts later, or a label that comes to match, joins the selection.
 */
export class Selection {
  private refs: ContainerRef[] = [];

  private constructor(
    readonly metrics: readonly MetricDesc[],
    private readonly instances: ReadonlySet<string> | undefined,
    private readonly containers: readonly string[] | undefined,
  ) {}

  /** @throws RequestError naming the metrics or containers that are unknown. */
  static resolve(table: MetricTable, spec: SelectionSpec, scope: ContainerScope, latest: Sample | undefined): Selection {
    const metrics = new Map<string, MetricDesc>();
    const unknown: string[] = [];
    for (const name of spec.metrics) {
      const found = table.traverse(name);
      if (found.length === 0) unknown.push(name);
      for (const desc of found) metrics.set(desc.name, desc);
    }
    if (unknown.length > 0) {
      throw new RequestError('unknown-metric', `no metric or PMNS subtree named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; list names with /pmapi/children`);
    }
    const selection = new Selection([...metrics.values()], spec.instances && new Set(spec.instances), spec.containers);
    if (spec.containers) {
      const missing = spec.containers.filter((selector) => resolveContainers(selector, scope, latest).length === 0);
      if (missing.length > 0) {
        throw new RequestError('unknown-container', `no running container matches ${missing.map((n) => JSON.stringify(n)).join(', ')} (by name, id, id prefix of 12+ hex digits, or label key=value)`);
      }
      selection.refresh(scope, latest);
    }
    return selection;
  }

  /** Re-resolves the container selectors against the containers of this sample. */
  refresh(scope: ContainerScope, sample: Sample | undefined): void {
    if (!this.containers) return;
    const refs = new Map<string, ContainerRef>();
    for (const selector of this.containers) for (const ref of resolveContainers(selector, scope, sample)) refs.set(ref.id, ref);
    this.refs = [...refs.values()];
  }

  accept(desc: MetricDesc, name: string | undefined): boolean {
    if (this.instances && desc.indom !== null && (name === undefined || !this.instances.has(name))) return false;
    if (!this.containers || name === undefined) return true;
    if (desc.name.startsWith('cgroup.') && name.startsWith('/')) return this.refs.some((ref) => inCgroup(name, ref.cgroup));
    if (desc.name.startsWith('containers.')) return this.refs.some((ref) => name === ref.id || name.startsWith(`${ref.id}::`));
    return true;
  }
}

function resolveContainers(selector: string, scope: ContainerScope, sample: Sample | undefined): ContainerRef[] {
  const equals = selector.indexOf('=');
  if (equals < 0) {
    const ref = scope.find(selector);
    return ref ? [ref] : [];
  }
  const [key, value] = [selector.slice(0, equals), selector.slice(equals + 1)];
  const refs: ContainerRef[] = [];
  for (const [id, labels] of sample?.instanceLabels.get(CONTAINERS_INDOM) ?? []) {
    if (labels[key] !== value) continue;
    const name = sample!.instanceName(CONTAINERS_INDOM, id);
    const ref = name === undefined ? undefined : scope.find(name);
    if (ref) refs.push(ref);
  }
  return refs;
}

/** The cgroup itself, a descendant, or one of its per-device instances (`/docker/abc::8:0`). */
function inCgroup(instance: string, cgroup: string): boolean {
  if (cgroup === '') return false;
  return instance === cgroup || instance.startsWith(`${cgroup}/`) || instance.startsWith(`${cgroup}::`);
}
