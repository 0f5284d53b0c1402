/**
 * /proc/cgroups: the controllers the kernel knows, one per line after a `#` header:
 * `#subsys_name	hierarchy	num_cgroups	enabled` / `cpu	1	12	1`. Hierarchy 0 means the
 * controller is not on a v1 hierarchy (on cgroup2, or not mounted at all).
 */
export interface Subsystem {
  name: string;
  hierarchy: number;
  numCgroups: number;
  enabled: number;
}

export function parseProcCgroups(text: string): Subsystem[] {
  const subsystems: Subsystem[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, hierarchy, numCgroups, enabled] = line.split(/\s+/);
    const record = { name: name!, hierarchy: Number(hierarchy), numCgroups: Number(numCgroups), enabled: Number(enabled) };
    if (!name || [record.hierarchy, record.numCgroups, record.enabled].some(Number.isNaN)) {
      throw new Error(`unparsable /proc/cgroups line: ${JSON.stringify(line)}`);
    }
    subsystems.push(record);
  }
  return subsystems;
}
