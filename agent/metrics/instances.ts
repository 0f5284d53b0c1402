import type { IndomDesc } from './types.js';

/**
 * Hands out instance ids. An id, once given to a name, is never given to another name for
 * the life of the process (ids only grow), so a client that cached `id → name` is never
 * misled. Names not seen for `retainMs` are forgotten so that container churn does not grow
 * the map without bound; a forgotten name that comes back gets a fresh id.
 */
export class InstanceAllocator {
  private readonly ids = new Map<string, { id: number; seen: number }>();
  private next: number;

  constructor(first = 0) {
    this.next = first;
  }

  idOf(name: string, now: number): number {
    const entry = this.ids.get(name);
    if (entry) {
      entry.seen = now;
      return entry.id;
    }
    const id = this.next++;
    this.ids.set(name, { id, seen: now });
    return id;
  }

  forgetOlderThan(cutoff: number): void {
    this.ids.forEach((entry, name) => {
      if (entry.seen < cutoff) this.ids.delete(name);
    });
  }

  get size(): number {
    return this.ids.size;
  }
}

/** Maps one indom's instance names to ids, honouring the ids PCP fixes for it. */
export class InstanceDomain {
  private readonly fixedByName: Map<string, number> | undefined;
  readonly fixedById: Map<number, string>;
  /**
   * Where this domain's ids come from: domains with the same `ids` give a name the same id.
   * That is the shared allocator, unless PCP fixes some ids of this domain.
   */
  readonly ids: object;

  constructor(
    readonly desc: IndomDesc,
    private readonly allocator: InstanceAllocator,
  ) {
    const fixed = desc.fixed ?? [];
    this.fixedByName = fixed.length > 0 ? new Map(fixed.map(([id, name]) => [name, id])) : undefined;
    this.fixedById = new Map(fixed);
    this.ids = this.fixedByName || desc.idFromName ? this : allocator;
  }

  idOf(name: string, now: number): number {
    const fixed = this.fixedByName?.get(name) ?? this.desc.idFromName?.(name);
    return fixed ?? this.allocator.idOf(name, now);
  }
}
