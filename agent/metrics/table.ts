import { InstanceAllocator, InstanceDomain } from './instances.js';
import { pmidToNumber } from './pmid.js';
import type { IndomDesc, MetricDesc } from './types.js';

/** A family of metrics as a collector declares them: pure data. */
export interface MetricFamily {
  metrics: readonly MetricDesc[];
  indoms?: readonly IndomDesc[];
}

export interface PmnsChildren {
  leaf: string[];
  nonleaf: string[];
}

/**
 * The metric namespace: every metric the agent serves, its descriptor and its instance
 * domain. API layers read metadata only from here.
 */
export class MetricTable {
  private readonly byName = new Map<string, MetricDesc>();
  private readonly byPmid = new Map<string, MetricDesc>();
  private readonly indoms = new Map<string, InstanceDomain>();
  private readonly allocators = new Map<string, InstanceAllocator>();
  /** PMNS interior nodes → ordered child names (insertion order = traversal order). */
  private readonly tree = new Map<string, Set<string>>([['', new Set()]]);

  constructor(families: readonly MetricFamily[] = []) {
    for (const family of families) this.add(family);
  }

  add(family: MetricFamily): void {
    for (const indom of family.indoms ?? []) this.addIndom(indom);
    for (const metric of family.metrics) this.addMetric(metric);
  }

  private addIndom(desc: IndomDesc): void {
    if (this.indoms.has(desc.indom)) throw new Error(`indom ${desc.indom} declared twice`);
    const key = desc.allocator ?? desc.indom;
    let allocator = this.allocators.get(key);
    if (!allocator) this.allocators.set(key, (allocator = new InstanceAllocator()));
    this.indoms.set(desc.indom, new InstanceDomain(desc, allocator));
  }

  private addMetric(desc: MetricDesc): void {
    if (this.byName.has(desc.name)) throw new Error(`metric ${desc.name} declared twice`);
    const clash = this.byPmid.get(desc.pmid);
    if (clash) throw new Error(`pmid ${desc.pmid} of ${desc.name} already belongs to ${clash.name}`);
    if (desc.indom !== null && !this.indoms.has(desc.indom)) {
      throw new Error(`metric ${desc.name} names undeclared indom ${desc.indom}`);
    }
    pmidToNumber(desc.pmid);
    this.byName.set(desc.name, desc);
    this.byPmid.set(desc.pmid, desc);
    const parts = desc.name.split('.');
    let path = '';
    for (const part of parts) {
      const parent = path;
      path = path ? `${path}.${part}` : part;
      this.tree.get(parent)!.add(part);
      if (path !== desc.name && !this.tree.has(path)) this.tree.set(path, new Set());
    }
    if (this.tree.has(desc.name)) throw new Error(`metric ${desc.name} is also a PMNS interior node`);
  }

  metric(name: string): MetricDesc | undefined {
    return this.byName.get(name);
  }

  metricByPmid(pmid: string): MetricDesc | undefined {
    return this.byPmid.get(pmid);
  }

  indom(indom: string): InstanceDomain | undefined {
    return this.indoms.get(indom);
  }

  get size(): number {
    return this.byName.size;
  }

  all(): IterableIterator<MetricDesc> {
    return this.byName.values();
  }

  /** Children of a PMNS node ('' is the root); undefined when the node does not exist. */
  children(prefix: string): PmnsChildren | undefined {
    if (this.byName.has(prefix)) return { leaf: [], nonleaf: [] };
    const kids = this.tree.get(prefix);
    if (!kids) return undefined;
    const result: PmnsChildren = { leaf: [], nonleaf: [] };
    for (const kid of kids) {
      const full = prefix ? `${prefix}.${kid}` : kid;
      (this.byName.has(full) ? result.leaf : result.nonleaf).push(kid);
    }
    return result;
  }

  /** A leaf yields itself, an interior node its whole subtree in PMNS order; unknown → []. */
  traverse(prefix: string): MetricDesc[] {
    const leaf = this.byName.get(prefix);
    if (leaf) return [leaf];
    const out: MetricDesc[] = [];
    const walk = (node: string): void => {
      for (const kid of this.tree.get(node) ?? []) {
        const full = node ? `${node}.${kid}` : kid;
        const metric = this.byName.get(full);
        if (metric) out.push(metric);
        else walk(full);
      }
    };
    if (this.tree.has(prefix)) walk(prefix);
    return out;
  }

  /** Forget instance names not seen since `cutoff` (ms), in every allocator. */
  forgetInstancesOlderThan(cutoff: number): void {
    for (const allocator of this.allocators.values()) allocator.forgetOlderThan(cutoff);
  }
}
