/**
 * A context's instance profile (pmAddProfile(3) / pmDelProfile(3)): per instance domain,
 * which instances later fetches return. Absent indom = all instances. Otherwise either all
 * but some (`del` with a list on an unrestricted indom) or only some (`add` with a list, or
 * `del` of everything followed by `add`s), as PCP's golden replies show.
 */
export class InstanceProfile {
  private readonly byIndom = new Map<string, { all: boolean; except: Set<number> }>();

  /** `add` without instances restores the whole indom. */
  add(indom: string, ids: readonly number[]): void {
    if (ids.length === 0) {
      this.byIndom.delete(indom);
      return;
    }
    const entry = this.byIndom.get(indom);
    if (!entry) this.byIndom.set(indom, { all: false, except: new Set(ids) });
    else for (const id of ids) entry.all ? entry.except.delete(id) : entry.except.add(id);
  }

  /** `del` without instances excludes the whole indom. */
  del(indom: string, ids: readonly number[]): void {
    if (ids.length === 0) {
      this.byIndom.set(indom, { all: false, except: new Set() });
      return;
    }
    const entry = this.byIndom.get(indom);
    if (!entry) this.byIndom.set(indom, { all: true, except: new Set(ids) });
    else for (const id of ids) entry.all ? entry.except.add(id) : entry.except.delete(id);
  }

  /** A predicate for the indom's instances, or undefined when the profile keeps them all. */
  filter(indom: string): ((id: number) => boolean) | undefined {
    const entry = this.byIndom.get(indom);
    if (!entry) return undefined;
    return entry.all ? (id) => !entry.except.has(id) : (id) => entry.except.has(id);
  }
}
