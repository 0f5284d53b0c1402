import { counter, lines, malformed } from './fields.js';

/**
 * /proc/meminfo as field → value in the unit the kernel prints: kB for sizes
 * (`MemTotal:  24684084 kB`), a plain count for `HugePages_*`. Keys keep the kernel's
 * spelling, parentheses included (`Active(anon)`).
 *
 * @param only the fields to convert; all when absent.
 */
export function parseMeminfo(text: string, only?: ReadonlySet<string>): Map<string, bigint> {
  const fields = new Map<string, bigint>();
  for (const line of lines(text)) {
    const m = /^([^:\s]+):\s+(\S+)(?:\s+kB)?\s*$/.exec(line);
    if (!m) throw malformed(line, '"<Field>: <number> [kB]"');
    if (only === undefined || only.has(m[1]!)) fields.set(m[1]!, counter(m[2], line));
  }
  return fields;
}
