import { lines, malformed, signed } from './fields.js';

/** A section's header line: `Tcp: RtoAlgorithm RtoMin …`. */
export interface SnmpHeader {
  /** `Tcp:`, colon included, as the values line repeats it. */
  section: string;
  /** column name → position among the values */
  columns: ReadonlyMap<string, number>;
  /** How many values the line after it must have. */
  count: number;
}

/**
 * One protocol section: its header and its line of values, still text. A pass wants a few of
 * the hundreds of columns (the console's five TcpExt counters), so only those are converted.
 */
export interface SnmpSection {
  header: SnmpHeader;
  /** The values line split at whitespace; [0] is the section name. */
  tokens: readonly string[];
  /** The values line, for errors. */
  line: string;
}

export function parseSnmpHeader(line: string): SnmpHeader {
  const [section = '', ...names] = line.trim().split(/\s+/);
  return { section, columns: new Map(names.map((name, i) => [name, i + 1])), count: names.length };
}

/**
 * /proc/net/snmp and /proc/net/netstat, which share one layout: per protocol section a
 * header line of column names and a line of values, each prefixed by the section name
 * (`Tcp: RtoAlgorithm RtoMin …` / `Tcp: 1 200 …`). Result: section (without its colon) →
 * its columns and values; `snmpValue` reads one.
 *
 * @param headerOf parses a header line; a caller that reads the file every pass passes a memo
 *   of `parseSnmpHeader`, because a kernel's headers do not change while it runs.
 */
export function parseSnmp(text: string, headerOf = parseSnmpHeader): Map<string, SnmpSection> {
  const sections = new Map<string, SnmpSection>();
  const all = lines(text);
  for (let i = 0; i < all.length; i += 2) {
    const header = headerOf(all[i]!);
    const line = all[i + 1];
    const tokens = line?.trim().split(/\s+/) ?? [];
    if (!header.section.endsWith(':') || tokens[0] !== header.section || tokens.length - 1 !== header.count) {
      const shown = JSON.stringify(all[i]!.slice(0, 40));
      throw malformed(line ?? all[i]!, `a line of ${header.count} values following the header ${shown}`);
    }
    sections.set(header.section.slice(0, -1), { header, tokens, line: line! });
  }
  return sections;
}

/** A column's value, signed as printed (`MaxConn -1`); undefined when this kernel has no such column. */
export function snmpValue(section: SnmpSection, column: string): bigint | undefined {
  const index = section.header.columns.get(column);
  return index === undefined ? undefined : signed(section.tokens[index], section.line);
}
