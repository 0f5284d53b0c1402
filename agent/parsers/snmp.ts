import { lines, malformed, signed } from './fields.js';

/**
 * /proc/net/snmp and /proc/net/netstat, which share one layout: per protocol section a
 * header line of column names and a line of values, each prefixed by the section name
 * (`Tcp: RtoAlgorithm RtoMin …` / `Tcp: 1 200 …`). Result: section → column → value.
 * Values are signed as printed (`MaxConn -1`).
 */
export function parseSnmp(text: string): Map<string, Map<string, bigint>> {
  const sections = new Map<string, Map<string, bigint>>();
  const all = lines(text);
  for (let i = 0; i < all.length; i += 2) {
    const header = all[i]!;
    const values = all[i + 1];
    const [section, ...names] = header.trim().split(/\s+/);
    const [valueSection, ...numbers] = values?.trim().split(/\s+/) ?? [];
    if (!section?.endsWith(':') || valueSection !== section || numbers.length !== names.length) {
      const shown = JSON.stringify(header.slice(0, 40));
      throw malformed(values ?? header, `a line of ${names.length} values following the header ${shown}`);
    }
    const columns = new Map<string, bigint>();
    names.forEach((name, k) => columns.set(name, signed(numbers[k], values!)));
    sections.set(section.slice(0, -1), columns);
  }
  return sections;
}
